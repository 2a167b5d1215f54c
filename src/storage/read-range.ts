/** Reading a FileRange into memory (for callers that cannot hand the file to the socket). */
import { read } from 'node:fs';
import { storageError } from './errors.js';
import type { FileRange } from './log.js';

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
