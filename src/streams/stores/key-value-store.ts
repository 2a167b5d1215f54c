/** One key and its value, as range scans yield them. */
export interface Entry<K, V> {
  readonly key: K;
  readonly value: V;
}

/**
 * An iterator over entries in key order. Breaking out of a `for...of` (or calling `return()`)
 * releases the engine's iterator; iterate to the end or break, never abandon one half-read.
 */
export type KeyValueIterator<K, V> = IterableIterator<Entry<K, V>>;

/**
 * A task's local key-value state, Samza's `KeyValueStore`. Reads and writes are synchronous, as
 * in Samza: the task's `process()` reads and updates state per message, and the engines answer
 * from memory or the page cache. Durability comes from `flush()`, which the runtime calls on
 * commit, and from the changelog.
 *
 * Order: range scans run in the byte order of the serialized keys. `range(from, to)` includes
 * `from` and excludes `to`.
 *
 * Ownership: a store may keep the key and value objects it is given (the bytes layers keep the
 * Buffers), so callers must not mutate them afterwards; values returned must not be mutated
 * either.
 */
export interface KeyValueStore<K, V> {
  /** The value for `key`, or `undefined` when there is none. */
  get(key: K): V | undefined;
  /** The values for the keys that have one; absent keys are absent from the map. */
  getAll(keys: readonly K[]): Map<K, V>;
  put(key: K, value: V): void;
  putAll(entries: Iterable<Entry<K, V>>): void;
  delete(key: K): void;
  deleteAll(keys: Iterable<K>): void;
  /** Entries with `from <= key < to`, in key order. */
  range(from: K, to: K): KeyValueIterator<K, V>;
  /** Entries whose serialized key starts with the serialized `prefix`, in key order. */
  prefix(prefix: K): KeyValueIterator<K, V>;
  /** Every entry, in key order. */
  all(): KeyValueIterator<K, V>;
  /** An estimate of the number of keys (exact for the in-memory engine). */
  approximateCount(): number;
  /** Makes every write so far durable in this layer and those below it (called on commit). */
  flush(): Promise<void>;
  /** Flushes, then releases the engine. Further use raises `StoreClosedError`. */
  close(): Promise<void>;
}

/** The bytes-level store every layer below the serde layer implements. */
export type BytesStore = KeyValueStore<Buffer, Buffer>;

/**
 * The smallest key greater than every key that starts with `prefix`, or `null` when there is
 * none (the prefix is empty or all 0xff): the exclusive upper bound of a prefix scan.
 */
export function prefixEnd(prefix: Buffer): Buffer | null {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return null;
  const out = Buffer.from(prefix.subarray(0, end));
  out[end - 1] = out[end - 1]! + 1;
  return out;
}
