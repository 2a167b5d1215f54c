import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The lock file's name inside the data directory (Kafka's own is `.lock`). */
export const LOCK_FILE_NAME = '.lock';

/** Raised when another live process holds the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly pid: number;
  readonly lockFile: string;
  constructor(dataDir: string, lockFile: string, pid: number) {
    super(
      `data directory ${dataDir} is in use by another broker (pid ${pid}, lock file ${lockFile}). ` +
        `Stop that broker first (kill ${pid}), or start this one with a different --data-dir.`,
    );
    this.pid = pid;
    this.lockFile = lockFile;
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else; it still holds the directory.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/**
 * An exclusive claim on a data directory: a lock file holding the owner's pid, created with
 * O_EXCL so that two brokers racing for the same directory cannot both win. A lock left by a
 * process that is no longer running is taken over.
 */
export class DataDirLock {
  readonly path: string;
  #released = false;

  private constructor(path: string) {
    this.path = path;
  }

  /** Claims `dataDir` (which must exist) for this process, or throws {@link DataDirLockedError}. */
  static acquire(dataDir: string, log?: (msg: string, pid: number) => void): DataDirLock {
    const path = join(dataDir, LOCK_FILE_NAME);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o644);
        try {
          writeSync(fd, `${process.pid}\n`);
        } finally {
          closeSync(fd);
        }
        return new DataDirLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = readPid(path);
      // A lock being written right now may still be empty: look again before calling it stale.
      if (pid === null && attempt === 0) continue;
      if (pid !== null && (pid === process.pid || processIsAlive(pid))) {
        throw new DataDirLockedError(dataDir, path, pid);
      }
      // Stale. Rename (atomic) rather than unlink, so that of two brokers taking over the same
      // stale lock only one removes it; the other retries and finds the winner's pid.
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
        unlinkSync(aside);
        log?.('took over a stale lock file', pid ?? 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    const pid = readPid(path) ?? 0;
    throw new DataDirLockedError(dataDir, path, pid);
  }

  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (readPid(this.path) === process.pid) {
      try {
        unlinkSync(this.path);
      } catch {
        // Already gone: nothing to release.
      }
    }
  }
}
