/**
 * The read side of a Log over its segments: finding the batch that holds an offset, bounding a
 * fetch to whole batches, and the timestamp look-ups. Only batch headers are read.
 */
import type { BatchPosition } from './batch-scan.js';
import { CorruptRecordError } from './errors.js';
import type { LogSegment } from './segment.js';

export interface TimestampAndOffset {
  timestamp: number;
  offset: number;
}

interface Where {
  topic: string;
  partition: number;
}

/** The index of the segment that holds `offset` (the last one with baseOffset <= offset). */
export function segmentIndexFor(segments: readonly LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (segments[mid].baseOffset <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Where a fetch lands: the segment, the first batch and where the returned bytes end. */
export interface ReadSpan {
  seg: LogSegment;
  first: BatchPosition;
  end: number;
  lastOffset: number;
}

/**
 * The span of whole batches from the one holding `offset`, within `maxBytes` (at least one batch
 * with `minOne`) and below `maxOffset`; undefined when there is nothing to return. Damage found
 * after good batches is passed to `onCorrupt` and ends the span; damage at the start throws.
 */
export function findReadSpan(
  segments: readonly LogSegment[],
  offset: number,
  maxBytes: number,
  maxOffset: number,
  minOne: boolean,
  where: Where,
  loadIndexes: (seg: LogSegment) => void,
  onCorrupt: (err: CorruptRecordError) => void,
): ReadSpan | undefined {
  for (let i = segmentIndexFor(segments, offset); i < segments.length; i++) {
    const seg = segments[i];
    loadIndexes(seg);
    let first: BatchPosition | undefined;
    try {
      first = seg.findBatch(offset, seg.size, where);
    } catch (err) {
      if (err instanceof CorruptRecordError) onCorrupt(err);
      throw err;
    }
    if (!first) continue; // the rest of this segment was compacted away
    if (first.lastOffset >= maxOffset || (!minOne && first.size > maxBytes)) return undefined;
    const end = boundRead(seg, first, maxBytes, maxOffset, where, onCorrupt);
    return { seg, first, end: end.position, lastOffset: end.lastOffset };
  }
  return undefined;
}

/** Where a read that starts with `first` ends: whole batches within maxBytes and maxOffset. */
function boundRead(
  seg: LogSegment,
  first: BatchPosition,
  maxBytes: number,
  maxOffset: number,
  where: Where,
  onCorrupt: (err: CorruptRecordError) => void,
): { position: number; lastOffset: number } {
  let pos = first.position + first.size;
  let lastOffset = first.lastOffset;
  const limit = first.position + Math.max(maxBytes, first.size);
  // Jump over whole batches with the index: every batch before an indexed boundary at or
  // below the limit fits, if that boundary's batch is itself below maxOffset.
  const jump = seg.offsetIndex.floorByPosition(Math.min(limit, seg.size), pos);
  if (jump && jump.lastOffset < maxOffset) {
    const b = seg.batchAt(jump.position, seg.size, 0);
    if (b && typeof b !== 'string' && b.position + b.size <= limit) {
      pos = b.position + b.size;
      lastOffset = b.lastOffset;
    }
  }
  for (;;) {
    const b = seg.batchAt(pos, seg.size, lastOffset + 1);
    if (b === undefined) break;
    if (typeof b === 'string') {
      // Damage after good data: serve what is good, refuse reads from the damage on.
      onCorrupt(
        new CorruptRecordError(where.topic, where.partition, lastOffset + 1, seg.logPath, pos, b),
      );
      break;
    }
    if (b.lastOffset >= maxOffset || b.position + b.size > limit) break;
    pos += b.size;
    lastOffset = b.lastOffset;
  }
  return { position: pos, lastOffset };
}

/** The first batch from `logStartOffset` whose max timestamp is >= `timestamp`. */
export function findOffsetForTimestamp(
  segments: readonly LogSegment[],
  timestamp: number,
  logStartOffset: number,
  where: Where,
  loadIndexes: (seg: LogSegment) => void,
): (TimestampAndOffset & { batchLastOffset: number }) | undefined {
  for (let i = segmentIndexFor(segments, logStartOffset); i < segments.length; i++) {
    const seg = segments[i];
    const isActive = i === segments.length - 1;
    const largest = isActive ? seg.largestTimestamp : seg.peekLargestTimestamp();
    if (largest < timestamp) continue;
    loadIndexes(seg);
    const b = seg.findByTimestamp(timestamp, logStartOffset, where);
    if (b)
      return {
        offset: Math.max(b.baseOffset, logStartOffset),
        timestamp: b.maxTimestamp,
        batchLastOffset: b.lastOffset,
      };
  }
  return undefined;
}

/** The largest timestamp in the log and the last offset of the batch that first reached it. */
export function findMaxTimestamp(segments: readonly LogSegment[]): TimestampAndOffset | undefined {
  let best: TimestampAndOffset | undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    let entry: TimestampAndOffset | undefined;
    if (i === segments.length - 1) {
      const ts = seg.largestTimestamp;
      if (ts >= 0) entry = { timestamp: ts, offset: seg.offsetOfLargestTimestamp };
    } else {
      const e = seg.timeIndex.peekLastEntry();
      if (e) entry = { timestamp: e.timestamp, offset: e.offset };
    }
    if (entry && (!best || entry.timestamp > best.timestamp)) best = entry;
  }
  return best;
}
