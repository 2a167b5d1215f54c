/**
 * The sparse offset index (`.index`): 8-byte entries of relative offset (int32, the last offset of
 * a batch minus the segment's base offset) and file position (int32) of that batch, as in Kafka.
 * One entry is added at most every `index.interval.bytes` of log.
 */
import { IndexFile } from './index-file.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export class OffsetIndex extends IndexFile {
  constructor(
    path: string,
    readonly baseOffset: number,
    maxBytes: number,
    fresh: boolean,
  ) {
    super(path, OFFSET_INDEX_ENTRY_SIZE, maxBytes, fresh);
  }

  protected isSane(): boolean {
    let prevOff = -1;
    let prevPos = -1;
    for (let i = 0; i < this.count; i++) {
      const o = this.buf.readInt32BE(i * 8);
      const p = this.buf.readInt32BE(i * 8 + 4);
      if (o < prevOff || p <= prevPos || o < 0) return false;
      prevOff = o;
      prevPos = p;
    }
    return true;
  }

  /** Adds an entry: `lastOffset` of the batch that starts at `position`. */
  append(lastOffset: number, position: number): void {
    this.ensureLoaded();
    this.grow();
    const at = this.count * 8;
    this.buf.writeInt32BE(lastOffset - this.baseOffset, at);
    this.buf.writeInt32BE(position, at + 4);
    this.count++;
  }

  /**
   * The file position from which a forward scan finds the batch holding `offset`: the position of
   * the last entry whose offset is below `offset` (entries hold batch *last* offsets), else 0.
   */
  lookup(offset: number): number {
    return this.lookupEntry(offset)?.position ?? 0;
  }

  /** The entry `lookup` uses (the last one whose offset is below `offset`), if any. */
  lookupEntry(offset: number): { position: number; lastOffset: number } | undefined {
    this.ensureLoaded();
    const rel = offset - this.baseOffset;
    const best = this.lastEntryWhere((i) => this.buf.readInt32BE(i * 8) < rel);
    if (best < 0) return undefined;
    return {
      position: this.buf.readInt32BE(best * 8 + 4),
      lastOffset: this.baseOffset + this.buf.readInt32BE(best * 8),
    };
  }

  /**
   * The largest indexed batch boundary at or below `position` and above `after`, with its
   * batch's last offset; undefined when there is none. Used to skip ahead when bounding reads.
   */
  floorByPosition(
    position: number,
    after: number,
  ): { position: number; lastOffset: number } | undefined {
    this.ensureLoaded();
    const found = this.lastEntryWhere((i) => this.buf.readInt32BE(i * 8 + 4) <= position);
    if (found < 0) return undefined;
    const pos = this.buf.readInt32BE(found * 8 + 4);
    if (pos <= after) return undefined;
    return { position: pos, lastOffset: this.baseOffset + this.buf.readInt32BE(found * 8) };
  }

  /** The last entry, if any. */
  lastEntry(): { lastOffset: number; position: number } | undefined {
    this.ensureLoaded();
    if (this.count === 0) return undefined;
    const at = (this.count - 1) * 8;
    return {
      lastOffset: this.baseOffset + this.buf.readInt32BE(at),
      position: this.buf.readInt32BE(at + 4),
    };
  }

  /** Drops the entries of batches at or after file position `position`. */
  truncateToPosition(position: number): void {
    this.ensureLoaded();
    let n = this.count;
    while (n > 0 && this.buf.readInt32BE((n - 1) * 8 + 4) >= position) n--;
    this.truncateEntries(n);
  }
}
