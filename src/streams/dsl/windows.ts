/*
 * Window definitions, after Kafka Streams' TimeWindows and SessionWindows: a tumbling window is
 * a hopping window whose advance equals its size. Windows are half-open, [start, end), and
 * aligned to the epoch. A window closes once the watermark reaches its end plus the grace
 * period (its allowed lateness); a session closes once the watermark reaches its last record's
 * time plus the gap plus the grace period.
 */
import { SerdeError } from '../errors.js';
import type { Serde } from '../serdes/serde.js';
import { readTime, writeTime } from './encoding.js';

/** What both window kinds share. */
interface WindowOptions {
  /** Allowed lateness in ms: records for a window update it until end + grace (default 0). */
  readonly grace?: number;
  /**
   * How long (ms) a window's state stays queryable after it closed (default 0: removed when it
   * closes). Late records never reopen a closed window, whatever the retention.
   */
  readonly retainAfterClose?: number;
}

/** Fixed-size windows starting every `advance` ms. */
export interface TimeWindows {
  readonly kind: 'time';
  readonly size: number;
  readonly advance: number;
  readonly grace: number;
  readonly retainAfterClose: number;
}

/** Activity sessions: records of a key closer than `gap` ms belong to one session. */
export interface SessionWindows {
  readonly kind: 'session';
  readonly gap: number;
  readonly grace: number;
  readonly retainAfterClose: number;
}

export type WindowSpec = TimeWindows | SessionWindows;

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be an integer >= 0`);
  return v;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be an integer > 0`);
  }
  return value;
}

/** Tumbling windows of `size` ms: each record belongs to exactly one. */
export function tumblingWindows(size: number, options: WindowOptions = {}): TimeWindows {
  return hoppingWindows(size, size, options);
}

/** Hopping windows of `size` ms every `advance` ms (`advance <= size`): overlapping windows. */
export function hoppingWindows(
  size: number,
  advance: number,
  options: WindowOptions = {},
): TimeWindows {
  positive('window size', size);
  positive('window advance', advance);
  if (advance > size) throw new RangeError('window advance must not exceed its size');
  return {
    kind: 'time',
    size,
    advance,
    grace: nonNegative('grace', options.grace, 0),
    retainAfterClose: nonNegative('retainAfterClose', options.retainAfterClose, 0),
  };
}

/** Session windows closed by `gap` ms of inactivity of a key. */
export function sessionWindows(gap: number, options: WindowOptions = {}): SessionWindows {
  return {
    kind: 'session',
    gap: positive('session gap', gap),
    grace: nonNegative('grace', options.grace, 0),
    retainAfterClose: nonNegative('retainAfterClose', options.retainAfterClose, 0),
  };
}

/**
 * The starts of the time windows containing `timestamp`, in ascending order. Written as a loop
 * over the last window that contains it, backwards while windows still contain it.
 */
export function windowStartsFor(spec: TimeWindows, timestamp: number): number[] {
  const mod = ((timestamp % spec.advance) + spec.advance) % spec.advance;
  const starts: number[] = [];
  for (let start = timestamp - mod; start > timestamp - spec.size; start -= spec.advance) {
    starts.push(start);
  }
  return starts.reverse();
}

/** A key with the window it was aggregated in: the key of a windowed table. */
export interface Windowed<K> {
  readonly key: K;
  /** Window start (inclusive), ms. */
  readonly start: number;
  /** Window end: exclusive for time windows; a session's last record time. */
  readonly end: number;
}

/**
 * A serde for windowed keys: start and end (8 bytes each, ordered) then the inner key's bytes,
 * so an output topic of a windowed table is readable by any client that knows the layout.
 */
export function windowedSerde<K>(inner: Serde<K>): Serde<Windowed<K>> {
  return {
    serialize(value: Windowed<K>): Buffer {
      const key = inner.serialize(value.key);
      const out = Buffer.allocUnsafe(16 + key.length);
      writeTime(out, 0, value.start);
      writeTime(out, 8, value.end);
      key.copy(out, 16);
      return out;
    },
    deserialize(bytes: Buffer): Windowed<K> {
      if (bytes.length < 16) throw new SerdeError('windowed serde: fewer than 16 bytes');
      return {
        start: readTime(bytes, 0),
        end: readTime(bytes, 8),
        key: inner.deserialize(bytes.subarray(16)),
      };
    },
  };
}

/** A readable form of a windowed key, `key@start-end`, for string outputs and logs. */
export function windowedToString<K>(w: Windowed<K>): string {
  return `${String(w.key)}@${w.start}-${w.end}`;
}
