/**
 * When a log starts a new segment before an append (Kafka's rules): the active segment is
 * non-empty and the append would pass `segment.bytes`, the segment is older than `segment.ms`
 * (minus its share of `segment.jitter.ms`), an index is full, or a relative offset would not fit
 * 32 bits.
 */
import type { LogConfig } from './config.js';
import type { LogSegment } from './segment.js';

const INT32_MAX = 0x7fffffff;

/**
 * Whether `seg` (the active segment) must be sealed before an append of `appendSize` bytes whose
 * largest timestamp is `appendMaxTs` and last offset `appendLastOffset`.
 */
export function shouldRoll(
  seg: LogSegment,
  config: LogConfig,
  appendSize: number,
  appendMaxTs: number,
  appendLastOffset: number,
  now: () => number,
): boolean {
  if (seg.size === 0) return false;
  const base = seg.rollingBase;
  seg.rollJitterMs ??= Math.floor(Math.random() * config['segment.jitter.ms']);
  // segment.ms counts from the first batch's timestamp (Kafka's rule), or from the segment's
  // creation when there are no timestamps.
  const waited = base !== undefined && appendMaxTs >= 0 ? appendMaxTs - base : now() - seg.created;
  return (
    seg.size > config['segment.bytes'] - appendSize ||
    waited > config['segment.ms'] - seg.rollJitterMs ||
    seg.offsetIndex.isFull ||
    seg.timeIndex.isFull ||
    appendLastOffset - seg.baseOffset > INT32_MAX
  );
}
