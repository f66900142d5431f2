// A PostgreSQL cluster of the test's own (never the shared server): initdb into a temporary
// directory, pg_ctl on a free port, so a test can stop the database under a running gateway
// and start it again. As root, the binaries run as the `postgres` user (initdb refuses root).
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or null. */
function findBinaries(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

const BIN = findBinaries();
const asRoot = userInfo().uid === 0;
const postgresUser = (() => {
  if (!asRoot) return null;
  try {
    return execFileSync('id', ['-u', 'postgres']).toString().trim();
  } catch {
    return null;
  }
})();

/** Why a cluster cannot be made here, or null when it can. */
export const ownPostgresUnavailable: string | null = !BIN
  ? 'no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql'
  : asRoot && postgresUser === null
    ? 'running as root and there is no postgres user to run initdb as'
    : asRoot && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser') && !existsSync('/usr/bin/runuser')
      ? 'running as root without runuser to switch to the postgres user'
      : null;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function pg(tool: string, args: string[]) {
  const command = join(BIN!, tool);
  if (asRoot) return run('runuser', ['-u', 'postgres', '--', command, ...args], { timeout: 60_000 });
  return run(command, args, { timeout: 60_000 });
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** Stops the server at once (`-m immediate`: connections are cut, as in a crash). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and removes the cluster. */
  destroy(): Promise<void>;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  if (ownPostgresUnavailable) throw new Error(ownPostgresUnavailable);
  const dir = mkdtempSync(join(tmpdir(), 'skylight-own-pg-'));
  if (asRoot && postgresUser !== null) {
    const uid = Number(postgresUser);
    chownSync(dir, uid, uid);
  }
  const data = join(dir, 'data');
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=40`;
  const start = () => pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']).then(() => {});
  const stop = () => pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).then(() => {});
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
