import { type Database, open, TransactionFlags } from 'lmdb';
import { StoreClosedError, StoreEngineError } from '../errors.js';
import {
  type BytesStore,
  type Entry,
  type KeyValueIterator,
  prefixEnd,
} from './key-value-store.js';

/** Writes commit at once and are visible to the next read; the fsync waits for `flush()`. */
const WRITE_FLAGS = TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH;

/** The persistent engine on LMDB (`lmdb`), one environment per store folder. */
export class LmdbEngine implements BytesStore {
  readonly #db: Database<Buffer, Buffer>;
  readonly #dir: string;
  #closed = false;

  private constructor(db: Database<Buffer, Buffer>, dir: string) {
    this.#db = db;
    this.#dir = dir;
  }

  /** Opens (creating if missing) the environment in `dir`. */
  static async open(dir: string): Promise<LmdbEngine> {
    try {
      const db = open<Buffer, Buffer>({
        path: dir,
        keyEncoding: 'binary',
        encoding: 'binary',
        compression: false,
        cache: false,
      });
      return new LmdbEngine(db, dir);
    } catch (cause) {
      throw new StoreEngineError(`cannot open LMDB in ${dir}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  get(key: Buffer): Buffer | undefined {
    this.#check();
    return this.#db.getBinary(key);
  }

  getAll(keys: readonly Buffer[]): Map<Buffer, Buffer> {
    this.#check();
    const out = new Map<Buffer, Buffer>();
    for (const key of keys) {
      const value = this.#db.getBinary(key);
      if (value !== undefined) out.set(key, value);
    }
    return out;
  }

  put(key: Buffer, value: Buffer): void {
    this.#check();
    this.#transaction(() => this.#db.putSync(key, value));
  }

  putAll(entries: Iterable<Entry<Buffer, Buffer>>): void {
    this.#check();
    this.#transaction(() => {
      for (const { key, value } of entries) this.#db.putSync(key, value);
    });
  }

  delete(key: Buffer): void {
    this.#check();
    this.#transaction(() => this.#db.removeSync(key));
  }

  deleteAll(keys: Iterable<Buffer>): void {
    this.#check();
    this.#transaction(() => {
      for (const key of keys) this.#db.removeSync(key);
    });
  }

  range(from: Buffer, to: Buffer): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    return this.#scan(from, to);
  }

  prefix(prefix: Buffer): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    return this.#scan(prefix.length > 0 ? prefix : undefined, prefixEnd(prefix) ?? undefined);
  }

  all(): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    return this.#scan(undefined, undefined);
  }

  approximateCount(): number {
    this.#check();
    return (this.#db.getStats() as { entryCount: number }).entryCount;
  }

  async flush(): Promise<void> {
    this.#check();
    await this.#db.flushed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    await this.#db.close();
  }

  #check(): void {
    if (this.#closed) throw new StoreClosedError(`LMDB ${this.#dir}`);
  }

  #transaction(action: () => void): void {
    try {
      this.#db.transactionSync(action, WRITE_FLAGS);
    } catch (cause) {
      throw new StoreEngineError(`LMDB write failed in ${this.#dir}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  *#scan(
    start: Buffer | undefined,
    end: Buffer | undefined,
  ): Generator<Entry<Buffer, Buffer>, void, undefined> {
    for (const { key, value } of this.#db.getRange({ start, end })) {
      if (this.#closed) throw new StoreClosedError(`LMDB ${this.#dir}`);
      yield { key: key as Buffer, value };
    }
  }
}
