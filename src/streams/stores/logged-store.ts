import type { ChangelogOffset, ChangelogWriter } from './changelog.js';
import type { BytesStore, Entry, KeyValueIterator } from './key-value-store.js';
import type { OffsetFile } from './offset-file.js';

/** Options of a {@link LoggedStore}. */
export interface LoggedStoreOptions {
  /**
   * The changelog offset the engine's state is at when the store opens (after restore); `-1` for
   * an empty store over an empty changelog.
   */
  initialOffset: ChangelogOffset;
  /**
   * The store folder's OFFSET file, for persistent engines: removed before the first write after
   * a commit, written on each flush. Omit for in-memory engines (nothing survives to reuse).
   */
  offsetFile?: OffsetFile;
}

/**
 * Sends every change to the store's changelog as it reaches the engine, so the changelog alone
 * can rebuild the store. Reads pass straight through.
 *
 * `flush()` (commit) flushes the changelog and the engine, and then records in the OFFSET file
 * that the engine is at the changelog's offset; `changelogOffset` is what the runtime puts in the
 * checkpoint next to the input offsets. Everything a flush covers is decided when it is called,
 * so writes made while it runs belong to the next one.
 */
export class LoggedStore implements BytesStore {
  readonly #inner: BytesStore;
  readonly #changelog: ChangelogWriter;
  readonly #offsetFile: OffsetFile | undefined;
  #offset: ChangelogOffset;
  /** Counts writes, so a flush can tell whether any write raced it. */
  #writes = 0;
  /** Writes since the OFFSET file was last written. */
  #unrecorded = false;

  constructor(inner: BytesStore, changelog: ChangelogWriter, options: LoggedStoreOptions) {
    this.#inner = inner;
    this.#changelog = changelog;
    this.#offsetFile = options.offsetFile;
    this.#offset = options.initialOffset;
  }

  /** The offset of the last changelog record the flushed state includes (`-1`: none). */
  get changelogOffset(): ChangelogOffset {
    return this.#offset;
  }

  get(key: Buffer): Buffer | undefined {
    return this.#inner.get(key);
  }

  getAll(keys: readonly Buffer[]): Map<Buffer, Buffer> {
    return this.#inner.getAll(keys);
  }

  put(key: Buffer, value: Buffer): void {
    this.#beforeWrite();
    this.#inner.put(key, value);
    this.#changelog.append(key, value);
  }

  putAll(entries: Iterable<Entry<Buffer, Buffer>>): void {
    const batch = Array.isArray(entries) ? (entries as Entry<Buffer, Buffer>[]) : [...entries];
    if (batch.length === 0) return;
    this.#beforeWrite();
    this.#inner.putAll(batch);
    for (const { key, value } of batch) this.#changelog.append(key, value);
  }

  delete(key: Buffer): void {
    this.#beforeWrite();
    this.#inner.delete(key);
    this.#changelog.append(key, null);
  }

  deleteAll(keys: Iterable<Buffer>): void {
    const batch = Array.isArray(keys) ? (keys as Buffer[]) : [...keys];
    if (batch.length === 0) return;
    this.#beforeWrite();
    this.#inner.deleteAll(batch);
    for (const key of batch) this.#changelog.append(key, null);
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

  async flush(): Promise<void> {
    const writes = this.#writes;
    // The changelog flush is started first, synchronously: it covers exactly the changes made so
    // far, which is what the checkpoint taken with this flush describes, even when processing
    // goes on (and appends more) while the engine syncs and the producer waits for acks.
    const changelog = this.#changelog.flush();
    try {
      await this.#inner.flush();
    } catch (error) {
      changelog.catch(() => {});
      throw error;
    }
    const offset = await changelog;
    if (offset !== null) this.#offset = offset;
    // Only if nothing was written while we waited: otherwise the engine is past `offset`.
    if (this.#offsetFile !== undefined && this.#unrecorded && this.#writes === writes) {
      this.#offsetFile.write(this.#offset);
      this.#unrecorded = false;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#inner.close();
  }

  #beforeWrite(): void {
    this.#writes++;
    if (!this.#unrecorded) {
      // Durably, before the engine can hold a change the OFFSET file does not describe.
      this.#offsetFile?.invalidate();
      this.#unrecorded = true;
    }
  }
}
