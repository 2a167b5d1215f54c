/**
 * The last check before record data leaves the broker. Reads walk batch headers only, so damage
 * inside a batch that recovery did not rescan (data below the recovery point, or any data after
 * a clean shutdown) would otherwise reach clients. Fetch reads the bytes into memory anyway (Node
 * has no sendfile), so each batch's CRC-32C is checked there, at native speed (~6 GB/s, against
 * the ~0.2 GB/s a fetch serves), and a bad batch is never sent.
 */
import { checkBatchFrame, verifyBatchCrc } from '../protocol/record-batch/batch.js';
import { BATCH_LENGTH_OFFSET, BatchHeader, LOG_OVERHEAD } from '../protocol/record-batch/header.js';
import { isCompacted } from './config.js';
import { CorruptRecordError } from './errors.js';
import type { FileRange, Log } from './log.js';

/** What {@link checkServedBatches} found. */
export interface ServedCheck {
  /** Length of the prefix of whole, valid batches: all that may be served. */
  validLength: number;
  /** The offset after the last valid batch (the next range's first batch starts there or later). */
  nextOffset: number;
  /** The damage at `validLength`, when a batch there failed its checks (not a short read). */
  corruption?: CorruptRecordError;
  /** True when this damage is news to the log (the caller reports it once). */
  newlyFound: boolean;
}

/**
 * Checks the batches of `data`, the bytes read for `range` of `log`: each frame (length, magic),
 * CRC-32C, and offsets (the base offset is outside the CRC): never past the log end, never below
 * the previous batch's end, and (unless the topic is compacted) exactly at it. At the first bad batch the log is marked corrupt
 * from that batch's offset on, so later reads at or past it fail with a CorruptRecordError naming
 * it (as for damage found by recovery or the cleaner), and only the batches before it are valid.
 * A short read (the file was cut meanwhile) ends the valid prefix without marking anything.
 *
 * @param expectedOffset the first offset `range` holds, when known (ReadResult.firstOffset for a
 *   read's first range, the previous range's `nextOffset` after that).
 */
export function checkServedBatches(
  log: Log,
  range: FileRange,
  data: Buffer,
  expectedOffset?: number,
): ServedCheck {
  let at = 0;
  let next = expectedOffset ?? log.logStartOffset;
  const end = log.logEndOffset;
  // Only compaction leaves gaps between batches; elsewhere each starts where the last ended.
  const gaps = isCompacted(log.config);
  let exact = expectedOffset !== undefined && !gaps;
  while (at < data.length) {
    const remaining = data.length - at;
    if (data.length < range.length && remaining < range.length - at) {
      // Fewer bytes than asked for: the file shrank under the read (deletion, truncation);
      // a batch cut off by the short read is not damage.
      const whole =
        remaining >= LOG_OVERHEAD &&
        data.readInt32BE(at + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD <= remaining;
      if (!whole) return { validLength: at, nextOffset: next, newlyFound: false };
    }
    const base = remaining >= 8 ? BatchHeader.baseOffset(data, at) : -1;
    let problem: string | undefined;
    let size = 0;
    let last = -1;
    try {
      size = checkBatchFrame(data, at);
      verifyBatchCrc(data, at, size);
      last = base + BatchHeader.lastOffsetDelta(data, at);
      if (base < next || (exact && base !== next) || last >= end)
        problem = `batch offsets ${base}..${last} outside ${next}..${end - 1}`;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    if (problem !== undefined) {
      // The base offset is outside the CRC: trust it only where it can be.
      const offset = !exact && base >= next && base < end ? base : next;
      const corruption = new CorruptRecordError(
        log.topic,
        log.partition,
        offset,
        range.file,
        range.position + at,
        problem,
      );
      const known = log.corruptionFound;
      log.markCorrupt(corruption);
      return {
        validLength: at,
        nextOffset: next,
        corruption: log.corruptionFound ?? corruption,
        newlyFound: known === undefined || corruption.offset < known.offset,
      };
    }
    next = last + 1;
    exact = !gaps;
    at += size;
  }
  return { validLength: at, nextOffset: next, newlyFound: false };
}
