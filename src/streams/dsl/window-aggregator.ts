/*
 * Keyed windowed aggregation over one bytes store, the part of the high-level API that decides
 * what a window holds and when it is final. It is pure state-machine logic: given records, their
 * timestamps and the watermark, it updates the store and forwards results, so it is tested
 * without a broker and restored exactly after a crash (all its state is in the store).
 *
 * Time windows (tumbling, hopping) are stored window first, `W | start | end | len | key` → the
 * aggregate: every key's window of one period closes at the same time, so "every window due by
 * the watermark" is one range scan over starts, with no index to maintain (one write per record
 * and window). `M` → the watermark windows were last closed at bounds that scan.
 *
 * Sessions have per-key bounds, so they are stored key first with a time index:
 * - data `D | len | key | start | end` → the aggregate;
 * - time index `I | due | len | key | start | end` → 0 (close pending) or 1 (expiry pending).
 */
import type { Serde } from '../serdes/serde.js';
import type { KeyValueStore } from '../stores/key-value-store.js';
import {
  keyPrefix,
  keyWithTimes,
  MIN_TIME,
  readKey,
  readTime,
  timeBound,
  timeIndexKey,
  writeTime,
} from './encoding.js';
import { type WindowSpec, type Windowed, windowStartsFor } from './windows.js';

const DATA = 0x44;
const INDEX = 0x49;
const TIME_DATA = 0x57;
const META = Buffer.of(0x4d);
const CLOSE = Buffer.from([0]);
const EXPIRE = Buffer.from([1]);

/** How a windowed aggregation folds values (Kafka Streams' Initializer/Aggregator/Merger). */
export interface Aggregation<K, V, A> {
  init(): A;
  add(aggregate: A, key: K, value: V): A;
  /** Combines two sessions' aggregates when a record bridges them (session windows only). */
  merge?(left: A, right: A): A;
}

/** `update`: forward every change; `final`: forward each window once, when it closes. */
export type EmitMode = 'update' | 'final';

/** What a windowed aggregation needs. */
export interface WindowAggregatorOptions<K, V, A> {
  readonly store: KeyValueStore<Buffer, Buffer>;
  readonly windows: WindowSpec;
  readonly keySerde: Serde<K>;
  readonly aggregateSerde: Serde<A>;
  readonly aggregation: Aggregation<K, V, A>;
  readonly emit: EmitMode;
  /** Receives results; `null` retracts a session merged into a larger one (update mode). */
  forward(key: Windowed<K>, aggregate: A | null, timestamp: number): void;
  /** Receives records that arrived after at least one of their windows had closed. */
  late?(key: K, value: V, timestamp: number): void;
}

/** One window as the store keys it. */
interface WindowRef {
  readonly start: number;
  readonly end: number;
}

/** Keyed tumbling/hopping/session aggregation with lateness, emit modes and retention. */
export class WindowAggregator<K, V, A> {
  readonly #o: WindowAggregatorOptions<K, V, A>;
  /** The earliest due time in the index; undefined until read from the store, null if none. */
  #nextDue: number | null | undefined;

  constructor(options: WindowAggregatorOptions<K, V, A>) {
    this.#o = options;
  }

  /** When window `w` closes (stops accepting records). */
  closeTime(w: WindowRef): number {
    const spec = this.#o.windows;
    return spec.kind === 'time' ? w.end + spec.grace : w.end + spec.gap + spec.grace;
  }

  /** Adds one record, `watermark` being the task's watermark after seeing it. */
  process(key: K, value: V, timestamp: number, watermark: number): void {
    const keyBytes = this.#o.keySerde.serialize(key);
    if (this.#o.windows.kind === 'time') {
      this.#processTime(key, keyBytes, value, timestamp, watermark);
    } else {
      this.#processSession(key, keyBytes, value, timestamp, watermark);
    }
  }

  #processTime(key: K, keyBytes: Buffer, value: V, timestamp: number, watermark: number): void {
    const spec = this.#o.windows as Extract<WindowSpec, { kind: 'time' }>;
    const { store, aggregateSerde, aggregation } = this.#o;
    let missed = false;
    for (const start of windowStartsFor(spec, timestamp)) {
      const w = { start, end: start + spec.size };
      const closeAt = this.closeTime(w);
      if (watermark >= closeAt) {
        missed = true;
        continue;
      }
      const dataKey = timeDataKey(w.start, w.end, keyBytes);
      const old = store.get(dataKey);
      let aggregate: A;
      if (old === undefined) {
        aggregate = aggregation.add(aggregation.init(), key, value);
        this.#due(closeAt);
      } else {
        aggregate = aggregation.add(aggregateSerde.deserialize(old), key, value);
      }
      store.put(dataKey, aggregateSerde.serialize(aggregate));
      if (this.#o.emit === 'update') this.#o.forward({ key, ...w }, aggregate, timestamp);
    }
    if (missed) this.#o.late?.(key, value, timestamp);
  }

  #processSession(key: K, keyBytes: Buffer, value: V, timestamp: number, watermark: number): void {
    const spec = this.#o.windows as Extract<WindowSpec, { kind: 'session' }>;
    const { store, aggregateSerde, aggregation } = this.#o;
    if (watermark >= this.closeTime({ start: timestamp, end: timestamp })) {
      this.#o.late?.(key, value, timestamp);
      return;
    }
    // Open sessions this record touches: within a gap of it, and not closed (closed is final).
    const merged: { w: WindowRef; aggregate: A }[] = [];
    for (const entry of store.prefix(keyPrefix(DATA, keyBytes))) {
      const at = readKey(entry.key, 1).end;
      const w = { start: readTime(entry.key, at), end: readTime(entry.key, at + 8) };
      if (w.start - spec.gap > timestamp) break;
      if (timestamp - w.end > spec.gap || watermark >= this.closeTime(w)) continue;
      merged.push({ w, aggregate: aggregateSerde.deserialize(entry.value) });
    }
    let start = timestamp;
    let end = timestamp;
    let aggregate: A | undefined;
    for (const m of merged) {
      start = Math.min(start, m.w.start);
      end = Math.max(end, m.w.end);
      if (aggregate === undefined) aggregate = m.aggregate;
      else {
        const merge = aggregation.merge;
        if (merge === undefined) throw new TypeError('session windows need a merger');
        aggregate = merge(aggregate, m.aggregate);
      }
      this.#remove(keyBytes, m.w);
    }
    const next = aggregation.add(aggregate ?? aggregation.init(), key, value);
    const w = { start, end };
    for (const m of merged) {
      if (this.#o.emit === 'update' && (m.w.start !== start || m.w.end !== end)) {
        this.#o.forward({ key, ...m.w }, null, timestamp);
      }
    }
    store.put(keyWithTimes(DATA, keyBytes, start, end), aggregateSerde.serialize(next));
    this.#index(keyBytes, w, this.closeTime(w), CLOSE);
    if (this.#o.emit === 'update') this.#o.forward({ key, ...w }, next, timestamp);
  }

  /** Removes a session's data and its pending close from the index. */
  #remove(keyBytes: Buffer, w: WindowRef): void {
    const dataKey = keyWithTimes(DATA, keyBytes, w.start, w.end);
    this.#o.store.delete(dataKey);
    this.#o.store.delete(indexKey(this.closeTime(w), dataKey));
  }

  #index(keyBytes: Buffer, w: WindowRef, due: number, kind: Buffer): void {
    this.#o.store.put(indexKey(due, keyWithTimes(DATA, keyBytes, w.start, w.end)), kind);
    this.#due(due);
  }

  /** Notes that something falls due at `due`. */
  #due(due: number): void {
    if (this.#nextDue === null || (this.#nextDue !== undefined && due < this.#nextDue)) {
      this.#nextDue = due;
    }
  }

  /**
   * Closes every window due by `watermark` (forwarding final results in final mode) and removes
   * the state of windows past their retention.
   */
  advance(watermark: number): void {
    if (this.#nextDue === undefined) this.#nextDue = this.#firstDue();
    if (this.#nextDue === null || watermark < this.#nextDue) return;
    if (this.#o.windows.kind === 'time') {
      this.#advanceTime(watermark);
      return;
    }
    const { store, keySerde, aggregateSerde, windows } = this.#o;
    const due: { key: Buffer; value: Buffer }[] = [];
    for (const e of store.range(timeBound(INDEX, MIN_TIME), timeBound(INDEX, watermark + 1))) {
      due.push({ key: e.key, value: e.value });
    }
    for (const e of due) {
      store.delete(e.key);
      const dataKey = Buffer.concat([Buffer.of(DATA), e.key.subarray(9)]);
      const { key: keyBytes, end: at } = readKey(dataKey, 1);
      const w = { start: readTime(dataKey, at), end: readTime(dataKey, at + 8) };
      if (e.value[0] === CLOSE[0]) {
        if (this.#o.emit === 'final') {
          const value = store.get(dataKey);
          if (value !== undefined) {
            this.#o.forward(
              { key: keySerde.deserialize(keyBytes), ...w },
              aggregateSerde.deserialize(value),
              w.end,
            );
          }
        }
        if (windows.retainAfterClose > 0) {
          store.put(indexKey(this.closeTime(w) + windows.retainAfterClose, dataKey), EXPIRE);
        } else {
          store.delete(dataKey);
        }
      } else {
        store.delete(dataKey);
      }
    }
    this.#nextDue = this.#firstDue();
  }

  /** Closes and expires time windows; see the layout above. */
  #advanceTime(watermark: number): void {
    const { store, keySerde, aggregateSerde, emit, forward } = this.#o;
    const spec = this.#o.windows as Extract<WindowSpec, { kind: 'time' }>;
    // Windows closing now: close time in (closedThrough, watermark], i.e. by start.
    const lag = spec.size + spec.grace;
    const closing: { key: Buffer; value: Buffer }[] = [];
    for (const e of store.range(
      timeBound(TIME_DATA, this.#closedThrough() - lag + 1),
      timeBound(TIME_DATA, watermark - lag + 1),
    )) {
      closing.push({ key: e.key, value: e.value });
    }
    for (const e of closing) {
      const start = readTime(e.key, 1);
      const end = readTime(e.key, 9);
      if (emit === 'final') {
        const w = { key: keySerde.deserialize(readKey(e.key, 17).key), start, end };
        forward(w, aggregateSerde.deserialize(e.value), end - 1);
      }
      if (spec.retainAfterClose === 0) store.delete(e.key);
    }
    if (spec.retainAfterClose > 0) {
      const expired: Buffer[] = [];
      for (const e of store.range(
        timeBound(TIME_DATA, MIN_TIME),
        timeBound(TIME_DATA, watermark - lag - spec.retainAfterClose + 1),
      )) {
        expired.push(e.key);
      }
      for (const k of expired) store.delete(k);
    }
    const meta = Buffer.allocUnsafe(8);
    writeTime(meta, 0, watermark);
    store.put(META, meta);
    this.#nextDue = this.#firstDue();
  }

  /** The watermark time windows were last closed at (every close time up to it is done). */
  #closedThrough(): number {
    const meta = this.#o.store.get(META);
    return meta === undefined ? MIN_TIME : readTime(meta, 0);
  }

  #firstDue(): number | null {
    const spec = this.#o.windows;
    if (spec.kind === 'time') {
      const lag = spec.size + spec.grace;
      let due: number | null = null;
      // The next window to close: the first start past those closed.
      for (const e of this.#o.store.range(
        timeBound(TIME_DATA, this.#closedThrough() - lag + 1),
        timeBound(TIME_DATA + 1, MIN_TIME),
      )) {
        due = readTime(e.key, 1) + lag;
        break;
      }
      if (spec.retainAfterClose > 0) {
        // The next closed window to expire: the first start of all.
        for (const e of this.#o.store.range(
          timeBound(TIME_DATA, MIN_TIME),
          timeBound(TIME_DATA + 1, MIN_TIME),
        )) {
          const expiry = readTime(e.key, 1) + lag + spec.retainAfterClose;
          if (due === null || expiry < due) due = expiry;
          break;
        }
      }
      return due;
    }
    for (const e of this.#o.store.range(
      timeBound(INDEX, MIN_TIME),
      timeBound(INDEX + 1, MIN_TIME),
    )) {
      return readTime(e.key, 1);
    }
    return null;
  }

  /** The current aggregate of `key` in the window starting at `start` and ending at `end`. */
  fetch(key: K, start: number, end: number): A | undefined {
    const keyBytes = this.#o.keySerde.serialize(key);
    const value = this.#o.store.get(
      this.#o.windows.kind === 'time'
        ? timeDataKey(start, end, keyBytes)
        : keyWithTimes(DATA, keyBytes, start, end),
    );
    return value === undefined ? undefined : this.#o.aggregateSerde.deserialize(value);
  }

  /** Every window of `key` the store still holds, oldest first. */
  *fetchAll(key: K): Generator<{ key: Windowed<K>; value: A }> {
    for (const e of windowEntries(this.#o.store, this.#o.keySerde.serialize(key))) {
      yield {
        key: { key, start: e.start, end: e.end },
        value: this.#o.aggregateSerde.deserialize(e.value),
      };
    }
  }
}

/** The index entry of data key `dataKey` (tag included) due at `due`. */
function indexKey(due: number, dataKey: Buffer): Buffer {
  return timeIndexKey(INDEX, due, dataKey.subarray(1));
}

/** A time window's data key: `W | start | end | len | key`. */
function timeDataKey(start: number, end: number, keyBytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(21 + keyBytes.length);
  out[0] = TIME_DATA;
  writeTime(out, 1, start);
  writeTime(out, 9, end);
  out.writeUInt32BE(keyBytes.length, 17);
  keyBytes.copy(out, 21);
  return out;
}

/** One stored window of a windowed aggregation's store. */
export interface StoredWindow {
  readonly keyBytes: Buffer;
  readonly start: number;
  readonly end: number;
  readonly value: Buffer;
}

/**
 * The windows a windowed aggregation's store holds, of one key (`keyBytes`) or all, whatever
 * the window kind: what interactive queries read.
 */
export function* windowEntries(
  store: KeyValueStore<Buffer, Buffer>,
  keyBytes?: Buffer,
): Generator<StoredWindow> {
  const sessions =
    keyBytes === undefined
      ? store.range(Buffer.of(DATA), Buffer.of(DATA + 1))
      : store.prefix(keyPrefix(DATA, keyBytes));
  for (const e of sessions) {
    const { key, end: at } = readKey(e.key, 1);
    yield {
      keyBytes: key,
      start: readTime(e.key, at),
      end: readTime(e.key, at + 8),
      value: e.value,
    };
  }
  for (const e of store.range(Buffer.of(TIME_DATA), Buffer.of(TIME_DATA + 1))) {
    const { key } = readKey(e.key, 17);
    if (keyBytes !== undefined && !key.equals(keyBytes)) continue;
    yield { keyBytes: key, start: readTime(e.key, 1), end: readTime(e.key, 9), value: e.value };
  }
}
