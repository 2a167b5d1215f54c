/**
 * The time index (`.timeindex`): 12-byte entries of timestamp (int64) and relative offset (int32),
 * as in Kafka. An entry (T, O) says: the batch ending at offset O is the first in the segment whose
 * max timestamp reaches T, so every earlier batch has a smaller max timestamp. Timestamps strictly
 * increase from entry to entry. The last entry of a sealed segment holds its largest timestamp.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { IndexFile } from './index-file.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}

export class TimeIndex extends IndexFile {
  constructor(
    path: string,
    readonly baseOffset: number,
    maxBytes: number,
    fresh: boolean,
  ) {
    super(path, TIME_INDEX_ENTRY_SIZE, maxBytes, fresh);
  }

  /** Largest timestamp known to be in the index (a cache for maybeAppend). */
  private lastAppended = Number.NEGATIVE_INFINITY;

  override reset(): void {
    this.lastAppended = Number.NEGATIVE_INFINITY;
    super.reset();
  }

  override unload(): void {
    this.lastAppended = Number.NEGATIVE_INFINITY;
    super.unload();
  }

  protected isSane(): boolean {
    let prevTs = Number.NEGATIVE_INFINITY;
    let prevOff = -1;
    for (let i = 0; i < this.count; i++) {
      const t = readInt64(this.buf, i * 12);
      const o = this.buf.readInt32BE(i * 12 + 8);
      if (t <= prevTs || o < prevOff) return false;
      prevTs = t;
      prevOff = o;
    }
    return true;
  }

  /** Appends (timestamp, offset) if the timestamp is above the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    // Hot path (once per indexed batch): most calls repeat the last timestamp.
    if (timestamp <= this.lastAppended) return;
    this.ensureLoaded();
    if (this.count > 0 && readInt64(this.buf, (this.count - 1) * 12) >= timestamp) {
      this.lastAppended = readInt64(this.buf, (this.count - 1) * 12);
      return;
    }
    this.lastAppended = timestamp;
    this.grow();
    const at = this.count * 12;
    writeInt64(this.buf, at, timestamp);
    this.buf.writeInt32BE(offset - this.baseOffset, at + 8);
    this.count++;
  }

  /**
   * The offset of the last entry whose timestamp is at most `timestamp` (a forward scan for the
   * first batch with maxTimestamp >= timestamp may start at the batch holding it), or undefined.
   */
  lookup(timestamp: number): number | undefined {
    return this.lookupEntry(timestamp)?.offset;
  }

  /** The entry `lookup` uses (the last one whose timestamp is at most `timestamp`), if any. */
  lookupEntry(timestamp: number): { timestamp: number; offset: number } | undefined {
    this.ensureLoaded();
    const found = this.lastEntryWhere((i) => readInt64(this.buf, i * 12) <= timestamp);
    if (found < 0) return undefined;
    return {
      timestamp: readInt64(this.buf, found * 12),
      offset: this.baseOffset + this.buf.readInt32BE(found * 12 + 8),
    };
  }

  lastEntry(): { timestamp: number; offset: number } | undefined {
    this.ensureLoaded();
    if (this.count === 0) return undefined;
    const at = (this.count - 1) * 12;
    return {
      timestamp: readInt64(this.buf, at),
      offset: this.baseOffset + this.buf.readInt32BE(at + 8),
    };
  }

  /**
   * The last entry read straight from the file without loading the index: how a sealed segment
   * learns its largest timestamp at startup cheaply.
   */
  peekLastEntry(): { timestamp: number; offset: number } | undefined {
    if (this.isLoaded) return this.lastEntry();
    if (!existsSync(this.path)) return undefined;
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      const n = Math.floor(size / 12);
      if (n === 0) return undefined;
      const b = Buffer.allocUnsafe(12);
      if (readSync(fd, b, 0, 12, (n - 1) * 12) !== 12) return undefined;
      return { timestamp: readInt64(b, 0), offset: this.baseOffset + b.readInt32BE(8) };
    } finally {
      closeSync(fd);
    }
  }

  /** Drops entries for offsets at or above `offset`. */
  truncateToOffset(offset: number): void {
    this.lastAppended = Number.NEGATIVE_INFINITY;
    this.ensureLoaded();
    let n = this.count;
    while (n > 0 && this.baseOffset + this.buf.readInt32BE((n - 1) * 12 + 8) >= offset) n--;
    this.truncateEntries(n);
  }
}
