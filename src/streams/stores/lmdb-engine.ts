import { type Database, open, type RootDatabase } from 'lmdb';
import { StoreClosedError, StoreEngineError } from '../errors.js';
import {
  type BytesStore,
  type Entry,
  type KeyValueIterator,
  prefixEnd,
} from './key-value-store.js';

/** `Database.sync`, which lmdb's types leave out: forces the environment's data to disk. */
interface Syncable {
  sync(callback: (error: Error | null) => void): void;
}

/** lmdb-js's key size limit with the default page size. */
export const LMDB_MAX_KEY_SIZE = 1978;

/** Where the value of the empty key lives: LMDB refuses zero-length keys. */
const EMPTY_KEY_SLOT = Buffer.from('empty-key');

/**
 * The persistent engine: LMDB through `lmdb`, one environment per store folder, holding two
 * named databases: `data` (every non-empty key) and `meta` (the empty key's value, which LMDB
 * cannot store as a key; it sorts before every other key, so scans yield it first).
 *
 * The environment is opened with `noSync`: a write transaction commits (and is visible, and
 * survives a process crash) without an fsync, where LMDB's default costs an fsync per write
 * transaction (~180 writes/s measured here). `flush()`, called on commit, syncs the environment
 * once. A machine crash between syncs can damage the files, which the OFFSET protocol covers: the
 * OFFSET file is removed before the first write after a commit, so such a folder is rebuilt from
 * the changelog, never trusted.
 *
 * Keys longer than {@link LMDB_MAX_KEY_SIZE} bytes are refused with a `StoreEngineError`.
 */
export class LmdbEngine implements BytesStore {
  readonly #root: RootDatabase;
  readonly #data: Database<Buffer, Buffer>;
  readonly #meta: Database<Buffer, Buffer>;
  readonly #dir: string;
  #unsynced = false;
  #closed = false;

  private constructor(root: RootDatabase, dir: string) {
    this.#root = root;
    this.#dir = dir;
    const options = { keyEncoding: 'binary', encoding: 'binary', cache: false } as const;
    this.#data = root.openDB<Buffer, Buffer>({ name: 'data', ...options });
    this.#meta = root.openDB<Buffer, Buffer>({ name: 'meta', ...options });
  }

  /** Opens (creating if missing) the environment in `dir`. */
  static async open(dir: string): Promise<LmdbEngine> {
    try {
      const root = open({ path: dir, compression: false, noSync: true, maxDbs: 4 });
      return new LmdbEngine(root, dir);
    } catch (cause) {
      throw new StoreEngineError(`cannot open LMDB in ${dir}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  get(key: Buffer): Buffer | undefined {
    this.#check();
    if (key.length === 0) return this.#meta.getBinary(EMPTY_KEY_SLOT);
    this.#checkKey(key);
    return this.#data.getBinary(key);
  }

  getAll(keys: readonly Buffer[]): Map<Buffer, Buffer> {
    const out = new Map<Buffer, Buffer>();
    for (const key of keys) {
      const value = this.get(key);
      if (value !== undefined) out.set(key, value);
    }
    return out;
  }

  put(key: Buffer, value: Buffer): void {
    this.#check();
    this.#checkKey(key);
    this.#transaction(() => this.#put(key, value));
  }

  putAll(entries: Iterable<Entry<Buffer, Buffer>>): void {
    this.#check();
    const batch = Array.isArray(entries) ? (entries as Entry<Buffer, Buffer>[]) : [...entries];
    for (const { key } of batch) this.#checkKey(key);
    this.#transaction(() => {
      for (const { key, value } of batch) this.#put(key, value);
    });
  }

  delete(key: Buffer): void {
    this.#check();
    this.#checkKey(key);
    this.#transaction(() => this.#remove(key));
  }

  deleteAll(keys: Iterable<Buffer>): void {
    this.#check();
    const batch = Array.isArray(keys) ? (keys as Buffer[]) : [...keys];
    for (const key of batch) this.#checkKey(key);
    this.#transaction(() => {
      for (const key of batch) this.#remove(key);
    });
  }

  range(from: Buffer, to: Buffer): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    if (Buffer.compare(from, to) >= 0) return [].values();
    return this.#scan(from.length === 0, from.length > 0 ? from : undefined, to);
  }

  prefix(prefix: Buffer): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    if (prefix.length === 0) return this.#scan(true, undefined, undefined);
    return this.#scan(false, prefix, prefixEnd(prefix) ?? undefined);
  }

  all(): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    return this.#scan(true, undefined, undefined);
  }

  approximateCount(): number {
    this.#check();
    const { entryCount } = this.#data.getStats() as { entryCount: number };
    return entryCount + (this.#meta.getBinary(EMPTY_KEY_SLOT) === undefined ? 0 : 1);
  }

  async flush(): Promise<void> {
    this.#check();
    if (!this.#unsynced) return;
    const root = this.#root as unknown as Syncable;
    // Cleared before the sync, not after: a write that lands while it runs (processing goes on
    // during a commit) may miss this sync, and must leave the engine marked unsynced.
    this.#unsynced = false;
    try {
      await new Promise<void>((resolve, reject) => {
        root.sync((error) =>
          error
            ? reject(new StoreEngineError(`LMDB sync failed in ${this.#dir}`, { cause: error }))
            : resolve(),
        );
      });
    } catch (error) {
      this.#unsynced = true;
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    await this.#root.close();
  }

  #check(): void {
    if (this.#closed) throw new StoreClosedError(`LMDB ${this.#dir}`);
  }

  #checkKey(key: Buffer): void {
    if (key.length > LMDB_MAX_KEY_SIZE) {
      throw new StoreEngineError(
        `key of ${key.length} bytes is longer than LMDB allows (${LMDB_MAX_KEY_SIZE}) in ${this.#dir}`,
      );
    }
  }

  #put(key: Buffer, value: Buffer): void {
    if (key.length === 0) this.#meta.putSync(EMPTY_KEY_SLOT, value);
    else this.#data.putSync(key, value);
  }

  #remove(key: Buffer): void {
    if (key.length === 0) this.#meta.removeSync(EMPTY_KEY_SLOT);
    else this.#data.removeSync(key);
  }

  #transaction(action: () => void): void {
    try {
      // Synchronous: committed, and visible to the next read, when this returns.
      this.#root.transactionSync(action);
      this.#unsynced = true;
    } catch (cause) {
      throw new StoreEngineError(`LMDB write failed in ${this.#dir}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  *#scan(
    withEmptyKey: boolean,
    start: Buffer | undefined,
    end: Buffer | undefined,
  ): Generator<Entry<Buffer, Buffer>, void, undefined> {
    if (withEmptyKey) {
      const value = this.#meta.getBinary(EMPTY_KEY_SLOT);
      if (value !== undefined) yield { key: Buffer.alloc(0), value };
    }
    for (const { key, value } of this.#data.getRange({ start, end })) {
      if (this.#closed) throw new StoreClosedError(`LMDB ${this.#dir}`);
      yield { key: key as Buffer, value };
    }
  }
}
