// npm run token -- --user <username> [--name <label>]: prints a new API token for that user.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { userTable } from '../src/db/schema.ts';
import { createApiToken } from '../src/domain/identity.ts';

const { values } = parseArgs({ options: { user: { type: 'string' }, name: { type: 'string', default: 'cli' } } });
if (!values.user) {
  console.error('usage: npm run token -- --user <username> [--name <label>]');
  process.exit(2);
}
const config = loadConfig();
const database = await openDatabase({ url: config.databaseUrl, dataDir: join(config.dataDir, 'pglite') });
await database.migrate();
const [user] = await database.db.select().from(userTable).where(eq(userTable.username, values.user));
if (!user) {
  await database.close();
  console.error(`no user named "${values.user}"`);
  process.exit(1);
}
const { token } = await createApiToken(database.db, user.id, values.name!);
await database.close();
console.log(token);
