/*
 * A table kept from an input topic that is its own changelog (`StoreSpec.sourceTopic`): the
 * runtime applies the topic's records to the store, the task only reads it, and nothing is
 * written to a changelog. The pieces: a ChangelogWriter that writes nothing and reports the
 * offset of the last source record applied (so LoggedStore's commit and OFFSET file protocol
 * work unchanged), and a read-only view the task gets.
 */
import { ReadOnlyStoreError } from '../errors.js';
import type { ChangelogOffset, ChangelogWriter } from './changelog.js';
import type { BytesStore, Entry, KeyValueIterator } from './key-value-store.js';

/**
 * The "changelog writer" of a source-backed store: the source topic already holds every change,
 * so appends go nowhere; `flush` reports the offset of the last source record applied.
 */
export class SourceOffsetWriter implements ChangelogWriter {
  /** The offset of the last source record applied to the store (`-1`: none). */
  offset: ChangelogOffset;

  constructor(initialOffset: ChangelogOffset) {
    this.offset = initialOffset;
  }

  append(_key: Buffer, _value: Buffer | null): void {}

  async flush(): Promise<ChangelogOffset | null> {
    return this.offset < 0 ? null : this.offset;
  }
}

/**
 * Applies one source record to the store below the task's view: a null value deletes, a record
 * without a key changes nothing. The buffers are copied: a consumer batch's are views into a
 * fetch response.
 */
export function applySourceRecord(
  store: BytesStore,
  writer: SourceOffsetWriter,
  offset: number,
  key: Buffer | null,
  value: Buffer | null,
): void {
  if (key !== null) {
    if (value === null) store.delete(Buffer.from(key));
    else store.put(Buffer.from(key), Buffer.from(value));
  }
  writer.offset = offset;
}

/** The task's view of a source-backed store: reads pass through, writes are refused. */
export class ReadOnlyStore implements BytesStore {
  readonly #inner: BytesStore;
  readonly #what: string;

  /** `what` names the store and its topic in the error a write raises. */
  constructor(inner: BytesStore, what: string) {
    this.#inner = inner;
    this.#what = what;
  }

  get(key: Buffer): Buffer | undefined {
    return this.#inner.get(key);
  }

  getAll(keys: readonly Buffer[]): Map<Buffer, Buffer> {
    return this.#inner.getAll(keys);
  }

  put(_key: Buffer, _value: Buffer): void {
    this.#refuse();
  }

  putAll(_entries: Iterable<Entry<Buffer, Buffer>>): void {
    this.#refuse();
  }

  delete(_key: Buffer): void {
    this.#refuse();
  }

  deleteAll(_keys: Iterable<Buffer>): void {
    this.#refuse();
  }

  range(from: Buffer, to: Buffer): KeyValueIterator<Buffer, Buffer> {
    return this.#inner.range(from, to);
  }

  prefix(prefix: Buffer): KeyValueIterator<Buffer, Buffer> {
    return this.#inner.prefix(prefix);
  }

  all(): KeyValueIterator<Buffer, Buffer> {
    return this.#inner.all();
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

  #refuse(): never {
    throw new ReadOnlyStoreError(
      `${this.#what}: the runtime keeps it from its topic, tasks only read it (write to the topic instead)`,
    );
  }
}
