/** Small file helpers shared by the storage classes: synchronous ones, and thread-pool ones for work that waits for the disk. */
import {
  close as fsCloseCallback,
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  writeSync,
  existsSync,
  readFileSync,
} from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a whole buffer at `position`, looping over short writes. */
export function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    done += writeSync(fd, buf, done, buf.length - done, position + done);
  }
}

/** fsyncs a directory so that renames and creations inside it survive a power loss. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; nothing more can be done there.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * {@link fsyncDir} on the thread pool: a directory fsync waits for the disk (a cache flush), which
 * must not stall the event loop in periodic work (rolls, checkpoints).
 */
export async function fsyncDirAsync(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // As in fsyncDir: some filesystems refuse fsync on directories.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * {@link writeFileAtomic} with every step that may wait for the disk on the thread pool: the
 * fsyncs, and the rename, which drops the replaced file's last link (freeing its blocks is a
 * synchronous discard on a file system mounted with `discard`). `tmpSuffix` keeps its temporary
 * file apart from the synchronous writer's.
 */
export async function writeFileAtomicAsync(
  path: string,
  data: string,
  tmpSuffix = '.tmp-async',
): Promise<void> {
  const tmp = `${path}${tmpSuffix}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await fsyncDirAsync(dirname(path));
}

/**
 * Replaces `path` atomically (temp file, rename) without waiting for the disk: the new content
 * survives a process crash at once; the caller makes it durable later (see fsyncFileAsync).
 */
export function replaceFile(path: string, data: string): void {
  writeAndRename(path, data, false);
}

/** fsyncs a file and its directory (its name) on the thread pool. */
export async function fsyncFileAsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncDirAsync(dirname(path));
}

/** fsyncs a file and its directory (for close, where waiting is fine). */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(dirname(path));
}

/**
 * Removes files on the thread pool. Unlinking a file's last name frees its blocks, which on a
 * file system mounted with `discard` waits for the device (measured here: ~0.8 ms per MB, so
 * ~0.8 s for a 1 GiB segment) and must not run on the event loop.
 */
export async function removeFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true }).catch(() => undefined)));
}

/**
 * Closes a descriptor on the thread pool. Closing the last descriptor of a file that was already
 * unlinked frees its blocks (see {@link removeFiles}), so it must not run on the event loop either.
 */
export function closeInBackground(fd: number): Promise<void> {
  return new Promise((resolve) => fsCloseCallback(fd, () => resolve()));
}

/**
 * Replaces `path` atomically: write a temp file, fsync, rename over, fsync the directory. `data`
 * may be several buffers (written one after the other, so a header need not be copied in front).
 */
export function writeFileAtomic(path: string, data: string | Buffer | readonly Buffer[]): void {
  writeAndRename(path, data, true);
  fsyncDir(dirname(path));
}

/** Writes `data` to `<path>.tmp` (fsynced when `sync`) and renames it over `path`. */
function writeAndRename(
  path: string,
  data: string | Buffer | readonly Buffer[],
  sync: boolean,
): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const parts =
      typeof data === 'string' ? [Buffer.from(data)] : Buffer.isBuffer(data) ? [data] : data;
    let position = 0;
    for (const part of parts) {
      writeFully(fd, part, position);
      position += part.length;
    }
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Reads a file as text, or undefined when it does not exist. */
export function readTextIfExists(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8');
}
