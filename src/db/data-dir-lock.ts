// The embedded database (PGlite in DATA_DIR) belongs to one process at a time: two processes
// writing the same folder corrupt it, and what one writes the other never sees. The owner
// holds DATA_DIR/gateway.lock: its pid, and once it listens, its address, so that commands
// like `npm run token` can ask the running gateway instead of opening the folder themselves.
// A lock whose pid is gone (a crash, kill -9) is stale and taken over; a clean stop removes it.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'gateway.lock';

export interface LockInfo {
  pid: number;
  /** What holds it: `gateway` (then `url` once listening) or a command such as `token`. */
  holder: string;
  startedAt: string;
  /** Where the holding gateway answers (http://127.0.0.1:4000), null until it listens. */
  url: string | null;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
  ) {
    const what = holder.holder === 'gateway' ? `a running gateway (pid ${holder.pid}${holder.url ? `, ${holder.url}` : ''})` : `"${holder.holder}" (pid ${holder.pid})`;
    super(`the embedded database in ${dataDir} is in use by ${what}; stop it first, or use another DATA_DIR, or DATABASE_URL for several processes`);
    this.name = 'DataDirLockedError';
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What the lock file of `dataDir` says, or null when there is none (or it is unreadable). */
export function readLock(dataDir: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

/** The lock's holder when it is a live process other than this one, else null. */
export function liveHolder(dataDir: string): LockInfo | null {
  const info = readLock(dataDir);
  return info && info.pid !== process.pid && alive(info.pid) ? info : null;
}

export interface DataDirLock {
  readonly path: string;
  /** Records where this gateway answers. */
  setUrl(url: string): void;
  /** Removes the lock (only while it is still ours). */
  release(): void;
}

/**
 * Takes DATA_DIR's lock or throws DataDirLockedError naming the live holder. Creation is
 * exclusive (O_EXCL), so two processes starting together cannot both win; a stale lock is
 * removed and the exclusive creation tried again.
 */
export function acquireDataDirLock(dataDir: string, holder = 'gateway'): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, holder, startedAt: new Date().toISOString(), url: null };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = readLock(dataDir);
      if (current && alive(current.pid) && current.pid !== process.pid) throw new DataDirLockedError(dataDir, current);
      if (!current) {
        // Being written this very moment by a process that just created it: give it a moment.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
        const again = readLock(dataDir);
        if (again && alive(again.pid) && again.pid !== process.pid) throw new DataDirLockedError(dataDir, again);
      }
      // Stale (its process is gone): take it over by removing it and creating ours exclusively.
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify(info));
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (readLock(dataDir)?.pid === process.pid) rmSync(path, { force: true });
    };
    // Whatever way the process ends (except a signal that kills it: then the lock is stale).
    process.once('exit', release);
    return {
      path,
      setUrl(url: string) {
        info.url = url;
        const temporary = `${path}.${process.pid}.tmp`;
        writeFileSync(temporary, JSON.stringify(info), { mode: 0o600 });
        renameSync(temporary, path);
      },
      release,
    };
  }
  throw new Error(`could not take the lock ${path}`);
}

/**
 * For a process about to open the embedded database (DATABASE_URL unset): its lock, or exit
 * with one line on stderr (code 1) when another live process holds DATA_DIR. Null with a
 * PostgreSQL server, which many processes share by design.
 */
export function lockDataDirOrExit(config: { databaseUrl: string | null; dataDir: string }, holder: string): DataDirLock | null {
  if (config.databaseUrl) return null;
  try {
    return acquireDataDirLock(config.dataDir, holder);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    process.stderr.write(`${holder}: ${error.message}\n`);
    process.exit(1);
  }
}
