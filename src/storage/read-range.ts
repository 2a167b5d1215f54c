/** Reading a FileRange into memory (for callers that cannot hand the file to the socket). */
import { read, readSync } from 'node:fs';
import { storageError } from './errors.js';
import type { FileRange, Log } from './log.js';

/**
 * Reads the bytes of `range` into `into` (at `at`) or a new buffer, on the thread pool. Rejects
 * with a StorageError when the file was removed meanwhile (after `file.delete.delay.ms`).
 */
export async function readFileRange(range: FileRange, into?: Buffer, at = 0): Promise<Buffer> {
  const out = into ?? Buffer.allocUnsafe(range.length);
  let got = 0;
  while (got < range.length) {
    const n = await new Promise<number>((resolve, reject) =>
      read(range.fd, out, at + got, range.length - got, range.position + got, (err, bytes) =>
        err ? reject(err) : resolve(bytes),
      ),
    ).catch((err: unknown) => {
      throw storageError(`reading ${range.file} at ${range.position + got}`, err);
    });
    if (n === 0)
      throw storageError(
        `reading ${range.file}`,
        new Error(`file ends before ${range.position + range.length}`),
      );
    got += n;
  }
  return into ? out.subarray(at, at + range.length) : out;
}

/**
 * Reads `log` from offset `from` to its end synchronously, `chunkBytes` of whole batches at a
 * time, into `buffer` (replaced by a larger one when a chunk does not fit): `visit` gets each
 * chunk as the first `length` bytes of the buffer. Returns the buffer last used, so that a caller
 * reading many partitions reuses it. For start-up replays, which have nothing else to serve yet.
 */
export function readLogSync(
  log: Log,
  from: number,
  buffer: Buffer,
  chunkBytes: number,
  visit: (buf: Buffer, length: number) => void,
): Buffer {
  let buf = buffer;
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, chunkBytes);
    if (r.ranges.length === 0) break;
    for (const range of r.ranges) {
      if (buf.length < range.length) buf = Buffer.allocUnsafe(range.length);
      readSync(range.fd, buf, 0, range.length, range.position);
      visit(buf, range.length);
    }
    offset = r.lastOffset + 1;
  }
  return buf;
}
