import { StoreClosedError } from '../errors.js';
import {
  type BytesStore,
  type Entry,
  type KeyValueIterator,
  prefixEnd,
} from './key-value-store.js';

/**
 * A sorted in-memory bytes engine: the reference every other engine and layer is tested against,
 * and the engine for stores that need no local persistence (the changelog still restores them).
 *
 * Keys live in a `Map` under their latin1 decoding: one UTF-16 code unit per byte, so JavaScript
 * string comparison is exactly byte-wise key order. Point reads and writes are O(1); the sorted
 * key index is rebuilt lazily, on the first scan after new keys arrived (sort of the new keys,
 * then a merge), because the jobs this serves (counts, joins) write far more often than they scan.
 */
export class InMemoryEngine implements BytesStore {
  readonly #name: string;
  readonly #values = new Map<string, Buffer>();
  /** Sorted keys as of the last scan; may hold keys deleted since (skipped when read). */
  #sorted: string[] = [];
  /** Keys added to the map since `#sorted` was built, unsorted, possibly repeated. */
  #pending: string[] = [];
  #stale = 0;
  #closed = false;

  constructor(name = 'in-memory') {
    this.#name = name;
  }

  get(key: Buffer): Buffer | undefined {
    this.#check();
    return this.#values.get(key.toString('latin1'));
  }

  getAll(keys: readonly Buffer[]): Map<Buffer, Buffer> {
    this.#check();
    const out = new Map<Buffer, Buffer>();
    for (const key of keys) {
      const value = this.#values.get(key.toString('latin1'));
      if (value !== undefined) out.set(key, value);
    }
    return out;
  }

  put(key: Buffer, value: Buffer): void {
    this.#check();
    this.#set(key.toString('latin1'), value);
  }

  putAll(entries: Iterable<Entry<Buffer, Buffer>>): void {
    this.#check();
    for (const { key, value } of entries) this.#set(key.toString('latin1'), value);
  }

  delete(key: Buffer): void {
    this.#check();
    if (this.#values.delete(key.toString('latin1'))) this.#stale++;
  }

  deleteAll(keys: Iterable<Buffer>): void {
    this.#check();
    for (const key of keys) if (this.#values.delete(key.toString('latin1'))) this.#stale++;
  }

  range(from: Buffer, to: Buffer): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    return this.#scan(from.toString('latin1'), to.toString('latin1'));
  }

  prefix(prefix: Buffer): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    const end = prefixEnd(prefix);
    return this.#scan(prefix.toString('latin1'), end === null ? null : end.toString('latin1'));
  }

  all(): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    return this.#scan('', null);
  }

  approximateCount(): number {
    this.#check();
    return this.#values.size;
  }

  async flush(): Promise<void> {
    this.#check();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #check(): void {
    if (this.#closed) throw new StoreClosedError(this.#name);
  }

  #set(key: string, value: Buffer): void {
    const size = this.#values.size;
    this.#values.set(key, value);
    if (this.#values.size !== size) this.#pending.push(key);
  }

  /** The sorted live keys, rebuilt if keys were added (or many deleted) since the last scan. */
  #index(): string[] {
    if (this.#pending.length === 0 && this.#stale <= this.#sorted.length / 2) return this.#sorted;
    const values = this.#values;
    const added = this.#pending.sort();
    const old = this.#sorted;
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    let last: string | undefined;
    while (i < old.length || j < added.length) {
      let next: string;
      if (j >= added.length || (i < old.length && old[i]! <= added[j]!)) next = old[i++]!;
      else next = added[j++]!;
      if (next !== last && values.has(next)) merged.push(next);
      last = next;
    }
    // A new array, never an in-place edit: running scans keep iterating their own snapshot.
    this.#sorted = merged;
    this.#pending = [];
    this.#stale = 0;
    return merged;
  }

  *#scan(from: string, to: string | null): Generator<Entry<Buffer, Buffer>, void, undefined> {
    const keys = this.#index();
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < keys.length; i++) {
      const key = keys[i]!;
      if (to !== null && key >= to) return;
      if (this.#closed) throw new StoreClosedError(this.#name);
      // Deleted since the index was built: skip. Overwritten: the current value.
      const value = this.#values.get(key);
      if (value !== undefined) yield { key: Buffer.from(key, 'latin1'), value };
    }
  }
}
