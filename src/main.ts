// config -> database -> migrations -> server -> listen; SIGTERM/SIGINT -> stop.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { startBanner } from './banner.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openDatabase } from './db/client.ts';
import { lockDataDirOrExit } from './db/data-dir-lock.ts';
import { seedDemo } from './demo/seed.ts';
import { createStorage } from './storage/index.ts';
import { ensureBuiltinAdmin } from './domain/identity.ts';
import { createLogger } from './http/observability.ts';
import { buildServer } from './server.ts';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const config = configOrExit();
// On two CPUs, the scavenger's helper threads cost more than they save: N, the wide read of the
// benchmark, takes about 0.95x the CPU per request without them (README, Performance). V8 reads
// the flag at the start of every scavenge, so setting it here, between two, is safe.
if (!config.parallelScavenge) setFlagsFromString('--no-parallel-scavenge');
const logger = createLogger(config.logLevel);
// The embedded database is this process's alone while it runs (src/db/data-dir-lock.ts).
const lock = lockDataDirOrExit(config, 'gateway');
const database = await openDatabase({
  url: config.databaseUrl,
  dataDir: join(config.dataDir, 'pglite'),
  connectTimeoutMs: config.databaseConnectTimeoutMs,
});
await database.migrate();
if (config.adminToken) await ensureBuiltinAdmin(database.db);

let demoToken: string | null = null;
if (config.demo) {
  const tokenFile = join(config.dataDir, 'demo-token');
  const seed = await seedDemo(database.db, { storage: createStorage(config) });
  if (seed.adminToken) writeFileSync(tokenFile, seed.adminToken, { mode: 0o600 });
  demoToken = seed.adminToken ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : null);
}

const server = await buildServer({ config, database, logger, graphiqlToken: demoToken });
const { url, port } = await server.start();
// `npm run token` and friends ask this gateway rather than open its database (loopback when listening everywhere).
lock?.setUrl(['0.0.0.0', '::'].includes(config.host) ? `http://127.0.0.1:${port}` : url);
logger.info({ url: `${url}/graphql`, database: database.kind, parallelScavenge: config.parallelScavenge }, 'gateway listening');
if (config.demo) process.stdout.write(startBanner({ config, url, token: demoToken }));

// Graceful stop: the server refuses new connections, waits up to SHUTDOWN_TIMEOUT_MS for
// in-flight requests and uploads, closes WebSockets with 1001 and the event listener (its
// onShutdown closers); then the database pool closes. A second signal stops at once.
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
  const timer = setTimeout(() => {
    logger.error('shutdown did not finish in time; exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs + 5_000).unref();
  try {
    await server.stop();
    await database.close();
    lock?.release();
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
  clearTimeout(timer);
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

// Last line of defence (issue 13): nothing a request can trigger may end the process. Causes are
// fixed where they are (e.g. the multipart parser's errors in src/http/uploads.ts); anything
// still escaping is logged and the gateway keeps serving.
process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception (kept serving)'));
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection (kept serving)'));
