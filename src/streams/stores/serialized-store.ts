import type { Serde } from '../serdes/serde.js';
import type { BytesStore, Entry, KeyValueIterator, KeyValueStore } from './key-value-store.js';

/**
 * The typed face of a store: keys and values go through their serdes on the way down, and
 * come back through them on the way up. The outermost layer of the stack
 * serde → cache → changelog → engine.
 */
export class SerializedStore<K, V> implements KeyValueStore<K, V> {
  readonly #inner: BytesStore;
  readonly #keySerde: Serde<K>;
  readonly #valueSerde: Serde<V>;

  /**
   * The last string or number key serialized, and its bytes: a read-modify-write (get, then put
   * of the same key) serializes the key once. Only immutable keys are remembered.
   */
  #lastKey: unknown = undefined;
  #lastKeyBytes: Buffer | undefined;

  constructor(inner: BytesStore, keySerde: Serde<K>, valueSerde: Serde<V>) {
    this.#inner = inner;
    this.#keySerde = keySerde;
    this.#valueSerde = valueSerde;
  }

  #keyBytes(key: K): Buffer {
    if (this.#lastKeyBytes !== undefined && Object.is(key, this.#lastKey)) {
      return this.#lastKeyBytes;
    }
    const bytes = this.#keySerde.serialize(key);
    if (typeof key === 'string' || typeof key === 'number') {
      this.#lastKey = key;
      this.#lastKeyBytes = bytes;
    }
    return bytes;
  }

  get(key: K): V | undefined {
    const bytes = this.#inner.get(this.#keyBytes(key));
    return bytes === undefined ? undefined : this.#valueSerde.deserialize(bytes);
  }

  getAll(keys: readonly K[]): Map<K, V> {
    const serialized = keys.map((key) => this.#keySerde.serialize(key));
    const found = this.#inner.getAll(serialized);
    const out = new Map<K, V>();
    for (let i = 0; i < keys.length; i++) {
      const bytes = found.get(serialized[i]!);
      if (bytes !== undefined) out.set(keys[i]!, this.#valueSerde.deserialize(bytes));
    }
    return out;
  }

  put(key: K, value: V): void {
    this.#inner.put(this.#keyBytes(key), this.#valueSerde.serialize(value));
  }

  putAll(entries: Iterable<Entry<K, V>>): void {
    const serialized: Entry<Buffer, Buffer>[] = [];
    for (const { key, value } of entries) {
      serialized.push({
        key: this.#keySerde.serialize(key),
        value: this.#valueSerde.serialize(value),
      });
    }
    this.#inner.putAll(serialized);
  }

  delete(key: K): void {
    this.#inner.delete(this.#keyBytes(key));
  }

  deleteAll(keys: Iterable<K>): void {
    const serialized: Buffer[] = [];
    for (const key of keys) serialized.push(this.#keySerde.serialize(key));
    this.#inner.deleteAll(serialized);
  }

  range(from: K, to: K): KeyValueIterator<K, V> {
    return this.#typed(
      this.#inner.range(this.#keySerde.serialize(from), this.#keySerde.serialize(to)),
    );
  }

  prefix(prefix: K): KeyValueIterator<K, V> {
    return this.#typed(this.#inner.prefix(this.#keySerde.serialize(prefix)));
  }

  all(): KeyValueIterator<K, V> {
    return this.#typed(this.#inner.all());
  }

  approximateCount(): number {
    return this.#inner.approximateCount();
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  *#typed(entries: KeyValueIterator<Buffer, Buffer>): Generator<Entry<K, V>, void, undefined> {
    // Delegating through for...of means an early `return()` here closes the engine's iterator.
    for (const { key, value } of entries) {
      yield { key: this.#keySerde.deserialize(key), value: this.#valueSerde.deserialize(value) };
    }
  }
}
