import { read as fsRead } from 'node:fs';
import type { FileRange } from '../../storage/log.js';

/**
 * Reads a file range of a segment (whole batches) into one buffer, asynchronously so that a
 * large read does not stall other connections. The buffer goes to the socket as is.
 */
export function readRange(range: FileRange): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(range.length);
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = () => {
      fsRead(range.fd, buf, done, range.length - done, range.position + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return resolve(buf.subarray(0, done)); // the file shrank: serve what is there
        done += n;
        if (done < range.length) step();
        else resolve(buf);
      });
    };
    step();
  });
}
