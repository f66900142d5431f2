// npm run seed: the demo data, against DATABASE_URL or the embedded database.
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { lockDataDirOrExit } from '../src/db/data-dir-lock.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { createStorage } from '../src/storage/index.ts';

const config = loadConfig();
const lock = lockDataDirOrExit(config, 'seed');
const database = await openDatabase({ url: config.databaseUrl, dataDir: join(config.dataDir, 'pglite') });
await database.migrate();
const seed = await seedDemo(database.db, { storage: createStorage(config) });
await database.close();
lock?.release();
console.log(seed.created ? `demo data created; admin token: ${seed.adminToken}` : 'demo data already present');
