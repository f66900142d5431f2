// npm run token -- --user <username> [--name <label>]: prints a new API token for that user.
//
// With the embedded database (no DATABASE_URL) and a gateway running on the same DATA_DIR,
// the folder is the gateway's alone (src/db/data-dir-lock.ts): the token is then created by
// asking that gateway, at the address its lock file records, through the GraphQL API as the
// admin — with ADMIN_TOKEN when set, else the demo admin token the gateway keeps in
// DATA_DIR/demo-token (readable only by the account that runs it). Otherwise the command opens
// the database itself.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { loadConfig, type Config } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { liveHolder, lockDataDirOrExit, readLock, type LockInfo } from '../src/db/data-dir-lock.ts';
import { userTable } from '../src/db/schema.ts';
import { createApiToken } from '../src/domain/identity.ts';

const { values } = parseArgs({ options: { user: { type: 'string' }, name: { type: 'string', default: 'cli' } } });
if (!values.user) {
  console.error('usage: npm run token -- --user <username> [--name <label>]');
  process.exit(2);
}
const username = values.user;
const label = values.name!;

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** The holder's address; a gateway still starting records it once it listens. */
async function addressOf(dataDir: string, holder: LockInfo): Promise<string> {
  const deadline = Date.now() + 30_000;
  let info: LockInfo | null = holder;
  while (info && !info.url && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    info = readLock(dataDir);
  }
  if (!info?.url) fail(`the gateway (pid ${holder.pid}) holding ${dataDir} has not said where it listens; try again once it has started`);
  return info.url;
}

async function viaGateway(config: Config, holder: LockInfo): Promise<string> {
  if (holder.holder !== 'gateway') fail(`the embedded database in ${config.dataDir} is in use by "${holder.holder}" (pid ${holder.pid}); try again when it is done`);
  const demoTokenFile = join(config.dataDir, 'demo-token');
  const credential = config.adminToken ?? (existsSync(demoTokenFile) ? readFileSync(demoTokenFile, 'utf8').trim() : null);
  if (!credential) {
    fail(
      `a gateway (pid ${holder.pid}) holds the embedded database in ${config.dataDir}: set ADMIN_TOKEN to the gateway's, ` +
        'or stop the gateway, or create the token in GraphiQL (createApiToken)',
    );
  }
  const url = await addressOf(config.dataDir, holder);
  const call = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
      body: JSON.stringify({ query, variables }),
    }).catch((error: Error) => fail(`could not reach the gateway at ${url}: ${error.message}`));
    const body = (await response.json().catch(() => ({}))) as { data?: any; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) fail(`the gateway at ${url} refused: ${body.errors?.map((e) => e.message).join('; ') ?? response.status}`);
    return body.data;
  };
  const { users } = await call('{ users { id username } }');
  const user = (users as { id: string; username: string }[]).find((candidate) => candidate.username === username);
  if (!user) fail(`no user named "${username}"`);
  const { createApiToken: created } = await call('mutation($userId: ID!, $name: String!) { createApiToken(userId: $userId, name: $name) { token } }', {
    userId: user.id,
    name: label,
  });
  return created.token as string;
}

async function direct(config: Config): Promise<string> {
  const lock = lockDataDirOrExit(config, 'token');
  const database = await openDatabase({ url: config.databaseUrl, dataDir: join(config.dataDir, 'pglite') });
  try {
    await database.migrate();
    const [user] = await database.db.select().from(userTable).where(eq(userTable.username, username));
    if (!user) fail(`no user named "${username}"`);
    return (await createApiToken(database.db, user.id, label)).token!;
  } finally {
    await database.close();
    lock?.release();
  }
}

const config = loadConfig();
const holder = config.databaseUrl ? null : liveHolder(config.dataDir);
console.log(holder ? await viaGateway(config, holder) : await direct(config));
