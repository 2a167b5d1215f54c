/**
 * The shared machinery of `.index` and `.timeindex` files: fixed-size big-endian entries kept in
 * memory (loaded lazily on first use), appended in memory on the hot path, and written to the
 * file only on flush, roll and close. That keeps appends at one write syscall; an index tail lost
 * in a crash is rebuilt by recovery, which rescans everything after the recovery point.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
} from 'node:fs';
import { writeFully } from './fs-util.js';

export abstract class IndexFile {
  protected buf: Buffer = Buffer.alloc(0);
  protected count = 0;
  /** Entries already written to the file. */
  private written = 0;
  private loaded = false;
  private fd = -1;

  constructor(
    public path: string,
    protected readonly entrySize: number,
    /** segment.index.bytes: the index is full (and the segment rolls) at this size. */
    readonly maxBytes: number,
    /** A new (empty) index needs no load. */
    fresh: boolean,
  ) {
    if (fresh) this.loaded = true;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Number of entries (loads the index). */
  get entries(): number {
    this.ensureLoaded();
    return this.count;
  }

  get isFull(): boolean {
    return (this.entries + 1) * this.entrySize > this.maxBytes;
  }

  /**
   * Loads the file. Returns false when the file is malformed (a partial entry or entries out of
   * order): the caller then rebuilds it from the log.
   */
  ensureLoaded(): boolean {
    if (this.loaded) return true;
    this.loaded = true;
    if (!existsSync(this.path)) return this.count === 0;
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      const n = Math.floor(size / this.entrySize);
      this.buf = Buffer.allocUnsafe(Math.max(n * this.entrySize, 64));
      let got = 0;
      while (got < n * this.entrySize) {
        const r = readSync(fd, this.buf, got, n * this.entrySize - got, got);
        if (r === 0) break;
        got += r;
      }
      this.count = Math.floor(got / this.entrySize);
      this.written = this.count;
      return size % this.entrySize === 0 && this.isSane();
    } finally {
      closeSync(fd);
    }
  }

  /** Checks ordering of the loaded entries. */
  protected abstract isSane(): boolean;

  /**
   * The last entry for which `atOrBelow` holds, or -1: a binary search over entries sorted by the
   * key `atOrBelow` tests (true for a prefix of the entries, false for the rest).
   */
  protected lastEntryWhere(atOrBelow: (entry: number) => boolean): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (atOrBelow(mid)) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  protected grow(): void {
    if ((this.count + 1) * this.entrySize <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, 64 * this.entrySize));
    this.buf.copy(next, 0, 0, this.count * this.entrySize);
    this.buf = next;
  }

  /** Drops every entry at or after entry number `n`. */
  protected truncateEntries(n: number): void {
    this.ensureLoaded();
    if (n >= this.count) return;
    this.count = n;
    if (this.written > n) {
      this.written = n;
      this.openFd();
      ftruncateSync(this.fd, n * this.entrySize);
      this.unsynced = true;
      this.releaseIfSealed();
    }
  }

  /** Removes all entries (before a rebuild). */
  reset(): void {
    this.loaded = true;
    this.count = 0;
    this.written = 0;
    this.openFd();
    ftruncateSync(this.fd, 0);
    this.unsynced = true;
    this.releaseIfSealed();
  }

  private releaseIfSealed(): void {
    if (this.released && this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private openFd(): void {
    if (this.fd < 0) this.fd = openSync(this.path, existsSync(this.path) ? 'r+' : 'w+');
  }

  /** Writes entries not yet in the file; with `sync`, fsyncs them. */
  flush(sync: boolean): void {
    if (!this.loaded) return;
    const wasOpen = this.fd >= 0;
    if (this.written < this.count) {
      this.openFd();
      writeFully(
        this.fd,
        this.buf.subarray(this.written * this.entrySize, this.count * this.entrySize),
        this.written * this.entrySize,
      );
      this.written = this.count;
      this.unsynced = true;
    } else if (this.fd < 0 && !existsSync(this.path)) {
      this.openFd();
      this.unsynced = true;
    }
    if (sync && this.unsynced) {
      this.openFd();
      fsyncSync(this.fd);
      this.unsynced = false;
    }
    // Sealed segments do not keep index descriptors open (one per segment is enough: the log's).
    if (!wasOpen) this.releaseIfSealed();
  }

  /**
   * Writes entries not yet in the file and fsyncs it on the thread pool: the periodic flush
   * must not block the event loop (an fsync waits for the journal commit, tens of ms on ext4,
   * which showed as a p99 end-to-end latency of ~75 ms at 10,000 records/s). A descriptor of its
   * own is used, so that the index's descriptor may be released meanwhile.
   */
  async flushDurable(): Promise<void> {
    this.flush(false);
    if (!this.unsynced) return;
    // Cleared first: entries written while the fsync runs set it again for the next flush.
    this.unsynced = false;
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      // The segment was deleted meanwhile (retention, topic deletion): nothing left to sync.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.unsynced = true;
      throw err;
    }
    try {
      await new Promise<void>((resolve, reject) =>
        fsync(fd, (err) => (err ? reject(err) : resolve())),
      );
    } catch (err) {
      this.unsynced = true;
      throw err;
    } finally {
      closeSync(fd);
    }
  }

  /** Entries written but not yet fsynced. */
  private unsynced = false;
  /** After close(): descriptors are opened only for the duration of a flush. */
  private released = false;

  /** Writes what is pending and releases the file descriptor (keeps the entries in memory). */
  close(): void {
    try {
      this.flush(false);
    } finally {
      // Even when the write failed (a full disk): entries not written stay in memory for the
      // next flush, which opens the file again for its duration.
      this.released = true;
      if (this.fd >= 0) {
        closeSync(this.fd);
        this.fd = -1;
      }
    }
  }

  /** Forgets the in-memory entries of a sealed segment (they reload on demand). */
  unload(): void {
    this.close();
    this.buf = Buffer.alloc(0);
    this.count = 0;
    this.written = 0;
    this.loaded = false;
  }

  /** Size the file has (or will have) on disk. */
  get sizeInBytes(): number {
    return this.loaded ? this.count * this.entrySize : 0;
  }
}

/** Sentinel returned by look-ups that find no entry. */
export const NO_ENTRY = -1;
