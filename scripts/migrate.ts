// npm run db:migrate: applies the committed migrations to DATABASE_URL (or the embedded database).
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { lockDataDirOrExit } from '../src/db/data-dir-lock.ts';

const config = loadConfig();
const lock = lockDataDirOrExit(config, 'db:migrate');
const database = await openDatabase({ url: config.databaseUrl, dataDir: join(config.dataDir, 'pglite') });
await database.migrate();
await database.close();
lock?.release();
console.log(`migrations applied (${database.kind})`);
