import { createRequire } from 'node:module';
import { StoreClosedError, StoreEngineError } from '../errors.js';
import {
  type BytesStore,
  type Entry,
  type KeyValueIterator,
  prefixEnd,
} from './key-value-store.js';

/*
 * @nxtedition/rocksdb ships no types. These are the few members we use: its synchronous
 * ("nxt") read, batch and iterator calls, which let `get` and `put` stay synchronous like
 * Samza's store API, while open and close stay asynchronous.
 */
interface RocksBatch {
  _put(key: Buffer, value: Buffer, options: object): void;
  _del(key: Buffer, options: object): void;
  _clear(): void;
  _writeSync(options: { sync: boolean }): void;
}
interface RocksIterator {
  _nextvSync(size: number, options: object): { rows: Buffer[]; finished: boolean };
  _closeSync(): void;
}
interface RocksIteratorOptions {
  gte?: Buffer;
  lt?: Buffer;
  keyEncoding: 'buffer';
  valueEncoding: 'buffer';
}
interface RocksLevel {
  open(options: { createIfMissing: boolean; infoLogLevel?: string | null }): Promise<void>;
  close(): Promise<void>;
  batch(): RocksBatch;
  getProperty(name: string): string;
  _getManySync(keys: Buffer[], options: { valueEncoding: 'buffer' }): (Buffer | undefined)[];
  _iterator(options: RocksIteratorOptions): RocksIterator;
}
interface RocksModule {
  RocksLevel: new (location: string) => RocksLevel;
}

const require = createRequire(import.meta.url);
const VALUES = { valueEncoding: 'buffer' } as const;
const NO_OPTIONS = {};
/** Rows fetched per native call while scanning: big enough to amortise the call. */
const SCAN_CHUNK = 1000;

/*
 * A zero-length Buffer of its own has a null data pointer, and RocksDB's key comparison asserts
 * on null data (it aborts the process when a multi-get sorts such a key). A zero-length view into
 * an allocated buffer has a real pointer, so empty keys are passed as this view.
 */
const EMPTY = Buffer.alloc(1).subarray(0, 0);
function nonNull(bytes: Buffer): Buffer {
  return bytes.length === 0 ? EMPTY : bytes;
}

/**
 * The persistent engine: RocksDB through `@nxtedition/rocksdb`, one database per store folder.
 * Writes go to RocksDB's write-ahead log without fsync; `flush()` (commit) forces one fsync, so a
 * commit is durable against power loss and a process crash loses nothing written before it.
 */
export class RocksDbEngine implements BytesStore {
  readonly #db: RocksLevel;
  readonly #dir: string;
  readonly #batch: RocksBatch;
  readonly #iterators = new Set<RocksIterator>();
  #unsynced = false;
  #closed = false;

  private constructor(db: RocksLevel, dir: string) {
    this.#db = db;
    this.#dir = dir;
    this.#batch = db.batch();
  }

  /** Opens (creating if missing) the database in `dir`. */
  static async open(dir: string): Promise<RocksDbEngine> {
    const { RocksLevel } = require('@nxtedition/rocksdb') as RocksModule;
    const db = new RocksLevel(dir);
    try {
      await db.open({ createIfMissing: true, infoLogLevel: null });
    } catch (cause) {
      throw new StoreEngineError(`cannot open RocksDB in ${dir}: ${(cause as Error).message}`, {
        cause,
      });
    }
    return new RocksDbEngine(db, dir);
  }

  get(key: Buffer): Buffer | undefined {
    this.#check();
    return this.#db._getManySync([nonNull(key)], VALUES)[0];
  }

  getAll(keys: readonly Buffer[]): Map<Buffer, Buffer> {
    this.#check();
    const values = this.#db._getManySync(keys.map(nonNull), VALUES);
    const out = new Map<Buffer, Buffer>();
    for (let i = 0; i < keys.length; i++) {
      const value = values[i];
      if (value !== undefined) out.set(keys[i]!, value);
    }
    return out;
  }

  put(key: Buffer, value: Buffer): void {
    this.#check();
    this.#batch._put(nonNull(key), value, NO_OPTIONS);
    this.#write();
  }

  putAll(entries: Iterable<Entry<Buffer, Buffer>>): void {
    this.#check();
    for (const { key, value } of entries) this.#batch._put(nonNull(key), value, NO_OPTIONS);
    this.#write();
  }

  delete(key: Buffer): void {
    this.#check();
    this.#batch._del(nonNull(key), NO_OPTIONS);
    this.#write();
  }

  deleteAll(keys: Iterable<Buffer>): void {
    this.#check();
    for (const key of keys) this.#batch._del(nonNull(key), NO_OPTIONS);
    this.#write();
  }

  range(from: Buffer, to: Buffer): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    const options: RocksIteratorOptions = { keyEncoding: 'buffer', valueEncoding: 'buffer' };
    if (from.length > 0) options.gte = from;
    options.lt = nonNull(to);
    return this.#scan(options);
  }

  prefix(prefix: Buffer): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    const end = prefixEnd(prefix);
    const options: RocksIteratorOptions = { keyEncoding: 'buffer', valueEncoding: 'buffer' };
    if (prefix.length > 0) options.gte = prefix;
    if (end !== null) options.lt = end;
    return this.#scan(options);
  }

  all(): KeyValueIterator<Buffer, Buffer> {
    this.#check();
    return this.#scan({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
  }

  approximateCount(): number {
    this.#check();
    return Number(this.#db.getProperty('rocksdb.estimate-num-keys'));
  }

  async flush(): Promise<void> {
    this.#check();
    if (!this.#unsynced) return;
    // An empty batch written with sync fsyncs the write-ahead log, and with it every earlier
    // unsynced write.
    this.#batch._writeSync({ sync: true });
    this.#unsynced = false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    for (const iterator of this.#iterators) iterator._closeSync();
    this.#iterators.clear();
    await this.#db.close();
  }

  #check(): void {
    if (this.#closed) throw new StoreClosedError(`RocksDB ${this.#dir}`);
  }

  #write(): void {
    try {
      this.#batch._writeSync({ sync: false });
    } catch (cause) {
      throw new StoreEngineError(
        `RocksDB write failed in ${this.#dir}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    } finally {
      this.#batch._clear();
    }
    this.#unsynced = true;
  }

  *#scan(options: RocksIteratorOptions): Generator<Entry<Buffer, Buffer>, void, undefined> {
    // RocksDB iterators read from an implicit snapshot: writes during the scan are not seen.
    const iterator = this.#db._iterator(options);
    this.#iterators.add(iterator);
    try {
      for (;;) {
        if (this.#closed) throw new StoreClosedError(`RocksDB ${this.#dir}`);
        const { rows, finished } = iterator._nextvSync(SCAN_CHUNK, NO_OPTIONS);
        for (let i = 0; i < rows.length; i += 2) yield { key: rows[i]!, value: rows[i + 1]! };
        if (finished) return;
      }
    } finally {
      if (this.#iterators.delete(iterator)) iterator._closeSync();
    }
  }
}
