/** Small synchronous file helpers shared by the storage classes. */
import {
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  writeSync,
  existsSync,
  readFileSync,
} from 'node:fs';
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
 * Replaces `path` atomically: write a temp file, fsync, rename over, fsync the directory. `data`
 * may be several buffers (written one after the other, so a header need not be copied in front).
 */
export function writeFileAtomic(path: string, data: string | Buffer | readonly Buffer[]): void {
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
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Reads a file as text, or undefined when it does not exist. */
export function readTextIfExists(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8');
}
