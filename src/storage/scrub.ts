/** The scrub: a full CRC check of a log's segments, off the hot path. */
import { BatchHeader } from '../protocol/record-batch/header.js';
import { ChunkedBatchReader } from './batch-scan.js';
import { CorruptRecordError, storageError } from './errors.js';
import type { LogSegment } from './segment.js';

/**
 * Reads every batch of the segments (as they are at each step: retention may remove some
 * meanwhile) and checks length, magic, offsets and CRC. Returns the first damage, or undefined.
 * Yields to the event loop every 4 MiB; stops when `stopped()` turns true.
 */
export async function scrubSegments(
  segments: () => readonly LogSegment[],
  where: { topic: string; partition: number },
  logStartOffset: number,
  stopped: () => boolean,
): Promise<CorruptRecordError | undefined> {
  let sinceYield = 0;
  for (const seg of [...segments()]) {
    if (!segments().includes(seg)) continue;
    const reader = new ChunkedBatchReader(seg.fd, 0, seg.size, 1 << 20);
    let min = seg.baseOffset;
    for (;;) {
      let b: ReturnType<ChunkedBatchReader['next']>;
      try {
        b = reader.next(min, true);
      } catch (err) {
        if (!segments().includes(seg)) break; // removed by retention meanwhile
        throw storageError(`verifying ${seg.logPath}`, err);
      }
      if (b === undefined) break;
      if (typeof b === 'string')
        return new CorruptRecordError(
          where.topic,
          where.partition,
          Math.max(min, logStartOffset),
          seg.logPath,
          reader.position,
          b,
        );
      min = BatchHeader.lastOffset(b.buf, b.at) + 1;
      sinceYield += b.size;
      if (sinceYield >= 4 * 1024 * 1024) {
        sinceYield = 0;
        await new Promise((r) => setImmediate(r));
        if (stopped()) return undefined;
      }
    }
  }
  return undefined;
}
