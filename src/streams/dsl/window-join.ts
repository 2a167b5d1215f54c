/*
 * Stream–stream join within a time window (Kafka Streams' JoinWindows, inner join): a record of
 * one side joins every record of the other side with the same key whose timestamp is at most
 * `within` ms away, whichever arrives second producing the result. Both sides are buffered in a
 * bytes store each, so the buffers are changelogged and restored like any state:
 * - data `D | len | key | ts | id` → the value bytes (`id`: the record's input offset, so a
 *   record replayed after a crash overwrites itself instead of joining twice);
 * - time index `I | ts | len | key | id` → empty, so expiry is one range scan.
 * A record is late, and dropped, once the watermark passed `ts + within + grace`; buffered
 * records are kept until no record that is not late could still join them
 * (`ts + 2 * within + grace`).
 *
 * Left values are stored behind one byte saying whether a right record joined them yet, which a
 * left join reads when the record expires to emit the left record alone.
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
} from './encoding.js';

const DATA = 0x44;
const INDEX = 0x49;
const EMPTY = Buffer.alloc(0);
const UNJOINED = 0;
const JOINED = 1;

/** One side of the join. */
export type JoinSide = 'left' | 'right';

/** What a windowed stream–stream join needs. */
export interface WindowJoinOptions<K, L, R, O> {
  readonly left: KeyValueStore<Buffer, Buffer>;
  readonly right: KeyValueStore<Buffer, Buffer>;
  readonly keySerde: Serde<K>;
  readonly leftSerde: Serde<L>;
  readonly rightSerde: Serde<R>;
  /** Largest timestamp distance (ms, either direction) of records that join. */
  readonly within: number;
  /** Extra ms a record may be late by and still join. */
  readonly grace: number;
  joiner(left: L, right: R, key: K): O;
  /**
   * Makes the join a left join: a left record no right record joined is forwarded through this
   * once it can no longer be joined (when it expires from the buffer).
   */
  leftOnly?(left: L, key: K): O;
  /** Receives each result with the larger of the two timestamps. */
  forward(key: K, value: O, timestamp: number): void;
  late?(side: JoinSide, key: K, timestamp: number): void;
}

/** The join state machine over the two buffers. */
export class WindowJoin<K, L, R, O> {
  readonly #o: WindowJoinOptions<K, L, R, O>;
  #nextExpiry: number | null | undefined;

  constructor(options: WindowJoinOptions<K, L, R, O>) {
    if (!Number.isSafeInteger(options.within) || options.within < 0) {
      throw new RangeError('join window must be an integer >= 0');
    }
    this.#o = options;
  }

  /** Buffers one record of `side` and joins it with the other side's buffered records. */
  process(side: JoinSide, key: K, value: L | R, timestamp: number, id: number, wm: number): void {
    const o = this.#o;
    if (wm >= timestamp + o.within + o.grace) {
      o.late?.(side, key, timestamp);
      return;
    }
    const keyBytes = o.keySerde.serialize(key);
    const own = side === 'left' ? o.left : o.right;
    const other = side === 'left' ? o.right : o.left;
    const dataKey = keyWithTimes(DATA, keyBytes, timestamp, id);
    const from = keyWithTimes(DATA, keyBytes, timestamp - o.within, MIN_TIME);
    const to = keyWithTimes(DATA, keyBytes, timestamp + o.within + 1, MIN_TIME);
    let joined = false;
    const marks: { key: Buffer; value: Buffer }[] = [];
    for (const e of other.range(from, to)) {
      const at = readKey(e.key, 1).end;
      const ts = Math.max(timestamp, readTime(e.key, at));
      joined = true;
      if (side === 'left') {
        o.forward(key, o.joiner(value as L, o.rightSerde.deserialize(e.value), key), ts);
      } else {
        o.forward(key, o.joiner(o.leftSerde.deserialize(e.value.subarray(1)), value as R, key), ts);
        if (e.value[0] === UNJOINED) marks.push({ key: e.key, value: e.value });
      }
    }
    // Left records this right record joined are marked (after the scan: no writes under it).
    for (const m of marks) {
      const marked = Buffer.from(m.value);
      marked[0] = JOINED;
      o.left.put(m.key, marked);
    }
    let bytes: Buffer;
    if (side === 'left') {
      const v = o.leftSerde.serialize(value as L);
      bytes = Buffer.allocUnsafe(1 + v.length);
      bytes[0] = joined ? JOINED : UNJOINED;
      v.copy(bytes, 1);
    } else {
      bytes = o.rightSerde.serialize(value as R);
    }
    own.put(dataKey, bytes);
    const expiresAt = timestamp + 2 * o.within + o.grace;
    own.put(timeIndexKey(INDEX, expiresAt, dataKey.subarray(1)), EMPTY);
    if (
      this.#nextExpiry === null ||
      (this.#nextExpiry !== undefined && expiresAt < this.#nextExpiry)
    ) {
      this.#nextExpiry = expiresAt;
    }
  }

  /** Drops buffered records no record that is not late could still join. */
  expire(wm: number): void {
    if (this.#nextExpiry === undefined) this.#nextExpiry = this.#firstExpiry();
    if (this.#nextExpiry === null || wm < this.#nextExpiry) return;
    for (const store of [this.#o.left, this.#o.right]) {
      const due: Buffer[] = [];
      for (const e of store.range(timeBound(INDEX, MIN_TIME), timeBound(INDEX, wm + 1))) {
        due.push(e.key);
      }
      for (const k of due) {
        store.delete(k);
        const dataKey = Buffer.concat([Buffer.of(DATA), k.subarray(9)]);
        const leftOnly = this.#o.leftOnly;
        if (store === this.#o.left && leftOnly !== undefined) {
          const v = store.get(dataKey);
          if (v !== undefined && v[0] === UNJOINED) {
            const { key: keyBytes, end: at } = readKey(dataKey, 1);
            const key = this.#o.keySerde.deserialize(keyBytes);
            const left = this.#o.leftSerde.deserialize(v.subarray(1));
            this.#o.forward(key, leftOnly(left, key), readTime(dataKey, at));
          }
        }
        store.delete(dataKey);
      }
    }
    this.#nextExpiry = this.#firstExpiry();
  }

  #firstExpiry(): number | null {
    let first: number | null = null;
    for (const store of [this.#o.left, this.#o.right]) {
      for (const e of store.range(timeBound(INDEX, MIN_TIME), timeBound(INDEX + 1, MIN_TIME))) {
        const t = readTime(e.key, 1);
        if (first === null || t < first) first = t;
        break;
      }
    }
    return first;
  }

  /** How many records one side buffers (for tests and metrics). */
  buffered(side: JoinSide, key: K): number {
    const store = side === 'left' ? this.#o.left : this.#o.right;
    let n = 0;
    for (const _ of store.prefix(keyPrefix(DATA, this.#o.keySerde.serialize(key)))) n++;
    return n;
  }
}
