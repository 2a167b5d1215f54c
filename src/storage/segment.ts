/**
 * One segment of a partition log: a `.log` file of whole record batches starting at `baseOffset`,
 * with its `.index` and `.timeindex`. A segment knows nothing of offsets assignment or rolling
 * (that is the Log's job); it appends bytes, indexes them, finds batches, and recovers itself.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { CorruptRecordError } from './errors.js';
import { type BatchPosition, ChunkedBatchReader, HeaderReader } from './batch-scan.js';
import { closeInBackground, writeFully } from './fs-util.js';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segmentFile } from './naming.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';
import { BatchHeader } from '../protocol/record-batch/header.js';

/** Settings a segment needs from the topic config. */
export interface SegmentSettings {
  indexIntervalBytes: number;
  maxIndexBytes: number;
}

/** No timestamp seen yet. */
export const NO_TIMESTAMP = -1;

/** The seam through which segments write, so that fault tests can inject ENOSPC/EIO. */
export interface SegmentIo {
  write(fd: number, buf: Buffer, position: number): void;
}

export const defaultIo: SegmentIo = { write: writeFully };

/** A full disk (or quota, or file-size limit): the errors that more room would cure. */
export function isOutOfSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}

export class LogSegment {
  private fdValue = -1;
  /** Bytes of valid data in the `.log` file (the file may be longer after a failed write). */
  size: number;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  private bytesSinceLastIndexEntry = 0;
  /** Largest batch maxTimestamp in the segment and the last offset of the first batch with it. */
  private maxTs = NO_TIMESTAMP;
  private offsetOfMaxTs = -1;
  private maxTsKnown: boolean;
  /** maxTimestamp of the first batch: segment.ms counts from it (as Kafka does). */
  rollingBaseTimestamp: number | undefined;
  /** This segment's share of segment.jitter.ms (picked once, at random, as Kafka does). */
  rollJitterMs: number | undefined;
  /** Wall-clock creation time, for segment.ms on segments without timestamps. */
  readonly created: number;
  private headerReader: HeaderReader | undefined;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly settings: SegmentSettings,
    size: number,
    fresh: boolean,
    created: number,
    private readonly io: SegmentIo,
  ) {
    this.size = size;
    this.offsetIndex = new OffsetIndex(
      segmentFile(dir, baseOffset, INDEX_SUFFIX),
      baseOffset,
      settings.maxIndexBytes,
      fresh,
    );
    this.timeIndex = new TimeIndex(
      segmentFile(dir, baseOffset, TIME_INDEX_SUFFIX),
      baseOffset,
      settings.maxIndexBytes,
      fresh,
    );
    this.maxTsKnown = fresh;
    this.created = created;
  }

  /** Extra suffix of all three file names (`.cleaned` while the cleaner writes a segment). */
  private fileSuffix = '';

  get logPath(): string {
    return segmentFile(this.dir, this.baseOffset, LOG_SUFFIX) + this.fileSuffix;
  }

  /**
   * Renames the files from `<name><suffix>` to `<name>` (the last step of a compaction swap);
   * descriptors stay valid.
   */
  dropSuffix(): void {
    const suffix = this.fileSuffix;
    if (!suffix) return;
    const from = this.logPath;
    this.fileSuffix = '';
    renameSync(from, this.logPath);
    for (const idx of [this.offsetIndex, this.timeIndex]) {
      const target = idx.path.slice(0, -suffix.length);
      if (existsSync(idx.path)) renameSync(idx.path, target);
      idx.path = target;
    }
  }

  /**
   * Creates a new, empty segment (truncating files left at that name). With `suffix`, the files
   * are named `<name><suffix>` until dropSuffix().
   */
  static create(
    dir: string,
    baseOffset: number,
    settings: SegmentSettings,
    io: SegmentIo = defaultIo,
    suffix = '',
  ): LogSegment {
    const seg = new LogSegment(dir, baseOffset, settings, 0, true, Date.now(), io);
    seg.fileSuffix = suffix;
    seg.offsetIndex.path += suffix;
    seg.timeIndex.path += suffix;
    seg.fdValue = openSync(seg.logPath, 'w+');
    seg.offsetIndex.reset();
    seg.timeIndex.reset();
    return seg;
  }

  /** Opens an existing segment: a stat only; the file and its indexes open on first use. */
  static open(
    dir: string,
    baseOffset: number,
    settings: SegmentSettings,
    io: SegmentIo = defaultIo,
  ): LogSegment {
    const st = statSync(segmentFile(dir, baseOffset, LOG_SUFFIX));
    return new LogSegment(dir, baseOffset, settings, st.size, false, st.mtimeMs, io);
  }

  /** The `.log` file descriptor, opened on demand. */
  get fd(): number {
    if (this.fdValue < 0) this.fdValue = openSync(this.logPath, 'r+');
    return this.fdValue;
  }

  get isOpen(): boolean {
    return this.fdValue >= 0;
  }

  private get headers(): HeaderReader {
    if (!this.headerReader) this.headerReader = new HeaderReader(this.fd);
    return this.headerReader;
  }

  /** Size of the file on disk (may exceed `size` after a failed write). */
  fileSize(): number {
    return fstatSync(this.fd).size;
  }

  /**
   * Appends `buf` (whole batches, offsets already assigned) at the end of the segment. `batches`
   * lists the batches' (relative position in buf, size, lastOffset, maxTimestamp) as
   * flat numbers, four per batch. On a write error the segment is left exactly as before.
   */
  append(buf: Buffer, batches: Float64Array, batchCount: number): void {
    const start = this.size;
    try {
      this.io.write(this.fd, buf, start);
    } catch (err) {
      try {
        ftruncateSync(this.fd, start);
      } catch {
        // The bytes past `size` are ignored and overwritten by the next append anyway.
      }
      throw err; // the Log wraps it with the topic, partition and offset
    }
    this.size = start + buf.length;
    if (!this.maxTsKnown) this.loadMaxTimestamp();
    const interval = this.settings.indexIntervalBytes;
    for (let i = 0; i < batchCount; i++) {
      const pos = batches[i * 4];
      const size = batches[i * 4 + 1];
      const lastOffset = batches[i * 4 + 2];
      const ts = batches[i * 4 + 3];
      this.indexBatch(start + pos, size, lastOffset, ts, interval);
    }
  }

  private indexBatch(
    position: number,
    size: number,
    lastOffset: number,
    maxTimestamp: number,
    interval: number,
  ): void {
    if (this.rollingBaseTimestamp === undefined && maxTimestamp >= 0)
      this.rollingBaseTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTs) {
      this.maxTs = maxTimestamp;
      this.offsetOfMaxTs = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > interval) {
      this.offsetIndex.append(lastOffset, position);
      if (this.maxTs >= 0) this.timeIndex.maybeAppend(this.maxTs, this.offsetOfMaxTs);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
  }

  /** What segment.ms counts from: the first batch's max timestamp (loads it when needed). */
  get rollingBase(): number | undefined {
    if (!this.maxTsKnown) this.loadMaxTimestamp();
    return this.rollingBaseTimestamp;
  }

  /** Largest batch maxTimestamp in the segment (NO_TIMESTAMP if none). */
  get largestTimestamp(): number {
    if (!this.maxTsKnown) this.loadMaxTimestamp();
    return this.maxTs;
  }

  /** Last offset of the first batch that reached the largest timestamp. */
  get offsetOfLargestTimestamp(): number {
    if (!this.maxTsKnown) this.loadMaxTimestamp();
    return this.offsetOfMaxTs;
  }

  /** Sealed segments: read the last time index entry only (it holds the largest timestamp). */
  peekLargestTimestamp(): number {
    if (this.maxTsKnown) return this.maxTs >= 0 ? this.maxTs : this.created;
    if (this.peeked === undefined) {
      const last = this.timeIndex.peekLastEntry();
      // Without timestamps, the file's modification time stands in (as in Kafka).
      this.peeked = last ? last.timestamp : this.created;
    }
    return this.peeked;
  }

  /** Cached result of peekLargestTimestamp for a sealed segment (whose content is fixed). */
  private peeked: number | undefined;

  /** Learns the max timestamp from the time index, then scans the batches after its entry. */
  private loadMaxTimestamp(): void {
    this.maxTsKnown = true;
    const last = this.timeIndex.lastEntry();
    if (last) {
      this.maxTs = last.timestamp;
      this.offsetOfMaxTs = last.offset;
    }
    const from = this.offsetIndex.lastEntry()?.position ?? 0;
    const scan = this.scan(from, this.size);
    for (const b of scan.batches) {
      if (this.rollingBaseTimestamp === undefined && from === 0)
        this.rollingBaseTimestamp = b.maxTimestamp;
      if (b.maxTimestamp > this.maxTs) {
        this.maxTs = b.maxTimestamp;
        this.offsetOfMaxTs = b.lastOffset;
      }
    }
    if (this.rollingBaseTimestamp === undefined && this.size > 0) {
      const first = this.headers.at(0, this.size, this.baseOffset);
      if (first && typeof first !== 'string') this.rollingBaseTimestamp = first.maxTimestamp;
    }
    this.bytesSinceLastIndexEntry = this.size - from;
  }

  /** Header scan of [from, to): the valid batches and the problem that stopped it, if any. */
  scan(
    from: number,
    to: number,
    minBaseOffset = this.baseOffset,
  ): { batches: BatchPosition[]; problem?: string; stoppedAt: number } {
    const batches: BatchPosition[] = [];
    let pos = from;
    let min = minBaseOffset;
    for (;;) {
      const b = this.headers.at(pos, to, min);
      if (b === undefined) return { batches, stoppedAt: pos };
      if (typeof b === 'string') return { batches, problem: b, stoppedAt: pos };
      batches.push(b);
      pos += b.size;
      min = b.lastOffset + 1;
    }
  }

  /** The next offset after the segment's last batch (baseOffset when empty). */
  readNextOffset(): { nextOffset: number; problem?: string; at: number } {
    const last = this.offsetIndex.lastEntry();
    const from = last?.position ?? 0;
    const s = this.scan(from, this.size, last ? this.baseOffset : this.baseOffset);
    const tail = s.batches.at(-1);
    const nextOffset = tail ? tail.lastOffset + 1 : last ? last.lastOffset + 1 : this.baseOffset;
    return { nextOffset, problem: s.problem, at: s.stoppedAt };
  }

  /**
   * Finds the first batch whose last offset is >= `offset`, from the index position on. Returns
   * undefined when the segment has no such batch; throws CorruptRecordError on a bad header.
   */
  findBatch(
    offset: number,
    end: number,
    where: { topic: string; partition: number },
  ): BatchPosition | undefined {
    return this.scanWithIndex(
      () => ({ entry: this.offsetIndex.lookupEntry(offset) }),
      end,
      (b) => b.lastOffset >= offset,
      offset,
      where,
    );
  }

  /** The batch at `position` (after one ending at `minBaseOffset - 1`). */
  batchAt(
    position: number,
    end: number,
    minBaseOffset: number,
  ): BatchPosition | string | undefined {
    return this.headers.at(position, end, minBaseOffset);
  }

  /** First batch with maxTimestamp >= `timestamp`, using the time index to skip ahead. */
  findByTimestamp(
    timestamp: number,
    minOffset: number,
    where: { topic: string; partition: number },
  ): BatchPosition | undefined {
    return this.scanWithIndex(
      () => {
        const timeEntry = this.timeIndex.lookupEntry(timestamp);
        const from = Math.max(timeEntry?.offset ?? this.baseOffset, minOffset);
        return {
          entry: this.offsetIndex.lookupEntry(from),
          timeEntry: timeEntry && timeEntry.offset >= minOffset ? timeEntry : undefined,
        };
      },
      this.size,
      (b) => b.maxTimestamp >= timestamp && b.lastOffset >= minOffset,
      minOffset,
      where,
    );
  }

  /** The indexes were rebuilt from the log in this process (so they are trusted). */
  private indexesRebuilt = false;
  /** Set by seal(): the segment no longer takes appends. */
  private sealed = false;

  /**
   * Scans headers for the first batch that is `wanted`, starting where the indexes say. Index
   * entries are checked against the log as the scan meets them (the batch at an offset index
   * entry's position must end at its offset; the batch ending at a time index entry's offset must
   * have its timestamp as max). A mismatch, or a bad header after an index jump, may be a damaged
   * index rather than a damaged log: the indexes are then rebuilt from the log once and the scan
   * repeated. Damage that remains is reported.
   */
  private scanWithIndex(
    start: () => {
      entry: { position: number; lastOffset: number } | undefined;
      timeEntry?: { timestamp: number; offset: number };
    },
    end: number,
    wanted: (b: BatchPosition) => boolean,
    offset: number,
    where: { topic: string; partition: number },
  ): BatchPosition | undefined {
    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt === 0 && !this.indexesRebuilt;
      const { entry, timeEntry } = start();
      let pos = entry?.position ?? 0;
      let min = this.baseOffset;
      let first = true;
      let timeChecked = timeEntry === undefined;
      let retry = false;
      for (;;) {
        const b = this.headers.at(pos, end, min);
        if (b === undefined) {
          // Entries pointing past the data are damage to the index too.
          retry = canRetry && ((first && entry !== undefined) || !timeChecked);
          break;
        }
        if (typeof b === 'string') {
          if (entry && canRetry) {
            retry = true;
            break;
          }
          throw new CorruptRecordError(
            where.topic,
            where.partition,
            Math.max(min, offset),
            this.logPath,
            pos,
            b,
          );
        }
        const indexLied =
          (first && entry !== undefined && b.lastOffset !== entry.lastOffset) ||
          (!timeChecked &&
            b.lastOffset >= timeEntry!.offset &&
            (b.lastOffset !== timeEntry!.offset || b.maxTimestamp !== timeEntry!.timestamp));
        if (indexLied && canRetry) {
          retry = true;
          break;
        }
        if (!timeChecked && b.lastOffset >= timeEntry!.offset) timeChecked = true;
        first = false;
        if (wanted(b)) return b;
        pos += b.size;
        min = b.lastOffset + 1;
      }
      if (!retry) return undefined;
      this.rebuildIndexes();
    }
  }

  /** Marks a segment opened from disk as sealed (it is not the last of its log). */
  markSealed(): void {
    this.sealed = true;
  }

  /** Rebuilds both indexes from the log without cutting anything. */
  rebuildIndexes(): { problem?: string; nextOffset: number } {
    const r = this.recover(this.baseOffset, false);
    this.indexesRebuilt = true;
    if (this.sealed) this.seal();
    return { problem: r.problem, nextOffset: r.nextOffset };
  }

  /**
   * Rescans the whole segment, validating every batch (length, magic, offsets, CRC), rebuilds
   * both indexes, and cuts the file at the first invalid batch (with `truncate` false, only
   * indexes what comes before it). Returns the next offset and the number of bytes cut.
   * With `contiguous` (a log that is not compacted), each batch must start exactly where the
   * previous one ended: the base offset is outside the CRC, so a damaged one is found only so.
   */
  recover(
    minBaseOffset = this.baseOffset,
    truncate = true,
    contiguous = false,
    onBatch?: (partitionLeaderEpoch: number, baseOffset: number) => void,
  ): {
    nextOffset: number;
    truncatedBytes: number;
    problem?: string;
  } {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTs = NO_TIMESTAMP;
    this.offsetOfMaxTs = -1;
    this.maxTsKnown = true;
    this.rollingBaseTimestamp = undefined;
    this.bytesSinceLastIndexEntry = 0;
    const fileSize = truncate ? this.fileSize() : this.size;
    const reader = new ChunkedBatchReader(this.fd, 0, fileSize);
    let next = Math.max(minBaseOffset, this.baseOffset);
    let problem: string | undefined;
    let cutAt: number | undefined;
    const interval = this.settings.indexIntervalBytes;
    for (;;) {
      const b = reader.next(next, true);
      if (b === undefined) break;
      if (typeof b === 'string') {
        problem = b;
        break;
      }
      const base = BatchHeader.baseOffset(b.buf, b.at);
      if (contiguous && base !== next) {
        problem = `batch at position ${b.position} starts at offset ${base}, expected ${next}`;
        cutAt = b.position;
        break;
      }
      const last = BatchHeader.lastOffset(b.buf, b.at);
      if (last - this.baseOffset > 0x7fffffff) {
        problem = `offset ${last} does not fit the segment starting at ${this.baseOffset}`;
        cutAt = b.position;
        break;
      }
      this.indexBatch(b.position, b.size, last, BatchHeader.maxTimestamp(b.buf, b.at), interval);
      onBatch?.(BatchHeader.partitionLeaderEpoch(b.buf, b.at), base);
      next = last + 1;
    }
    const validBytes = cutAt ?? reader.position;
    if (!truncate) {
      // Index rebuild of a sealed segment: keep the bytes; reads stop at the damage.
      this.writeIndexesIfRoom();
      return { nextOffset: next, truncatedBytes: 0, problem };
    }
    if (validBytes < fileSize) ftruncateSync(this.fd, validBytes);
    this.size = validBytes;
    this.writeIndexesIfRoom();
    return { nextOffset: next, truncatedBytes: fileSize - validBytes, problem };
  }

  /**
   * Removes every batch at or after file position `position` (a batch boundary), and the index
   * entries that point there.
   */
  truncateToPosition(position: number): void {
    if (position >= this.size) return;
    ftruncateSync(this.fd, position);
    this.size = position;
    this.offsetIndex.truncateToPosition(position);
    const s = this.scan(this.offsetIndex.lastEntry()?.position ?? 0, position);
    const nextOffset = s.batches.at(-1)
      ? s.batches.at(-1)!.lastOffset + 1
      : this.offsetIndex.lastEntry()
        ? this.offsetIndex.lastEntry()!.lastOffset + 1
        : this.baseOffset;
    this.timeIndex.truncateToOffset(nextOffset);
    // Max timestamp is recomputed lazily from what is left.
    this.peeked = undefined;
    this.maxTs = NO_TIMESTAMP;
    this.offsetOfMaxTs = -1;
    this.maxTsKnown = false;
    if (position === 0) this.rollingBaseTimestamp = undefined;
  }

  /** Called when the segment stops being the active one: index the max timestamp, write indexes. */
  seal(): void {
    if (!this.maxTsKnown) this.loadMaxTimestamp();
    if (this.maxTs >= 0) this.timeIndex.maybeAppend(this.maxTs, this.offsetOfMaxTs);
    this.sealed = true;
    // Written now, fsynced by the next flush; the descriptors are released.
    try {
      this.offsetIndex.close();
    } finally {
      this.timeIndex.close();
    }
  }

  /**
   * Writes rebuilt indexes. On a full disk they stay in memory (a later flush, roll or close
   * writes them): index files are hints that recovery rebuilds anyway, and a disk filled with
   * log data must not stop the broker from starting and serving that data (it did: the write
   * of the rebuilt index made the whole start-up fail with ENOSPC).
   */
  private writeIndexesIfRoom(): void {
    try {
      this.offsetIndex.flush(false);
      this.timeIndex.flush(false);
    } catch (err) {
      if (!isOutOfSpace(err)) throw err;
    }
  }

  /** Writes index tails and fsyncs the log and both indexes. */
  flushSync(): void {
    if (this.fdValue >= 0) fsyncSync(this.fdValue);
    this.offsetIndex.flush(true);
    this.timeIndex.flush(true);
  }

  /** fdatasync of the `.log` file on the thread pool (for group commit). */
  syncDataAsync(): Promise<void> {
    if (this.fdValue < 0) return Promise.resolve();
    const fd = this.fdValue;
    return new Promise((resolve, reject) =>
      fdatasync(fd, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * Closes the files (indexes written out first). Every descriptor is closed even when writing an
   * index fails (a full disk); the error is then rethrown, and the next start rebuilds the index.
   */
  close(): void {
    try {
      this.offsetIndex.close();
    } finally {
      try {
        this.timeIndex.close();
      } finally {
        if (this.fdValue >= 0) {
          closeSync(this.fdValue);
          this.fdValue = -1;
          this.headerReader = undefined;
        }
      }
    }
  }

  /**
   * Like {@link close}, but the `.log` descriptor is closed on the thread pool: when the file is
   * already unlinked, that close frees its blocks, which waits for the device.
   */
  closeInBackground(): Promise<void> {
    try {
      this.offsetIndex.close();
      this.timeIndex.close();
    } catch {
      // Index files are hints; recovery rebuilds them (and this segment is being removed).
    }
    const fd = this.fdValue;
    if (fd < 0) return Promise.resolve();
    this.fdValue = -1;
    this.headerReader = undefined;
    return closeInBackground(fd);
  }

  /** Renames the files with `suffix` appended (e.g. `.deleted`), keeping descriptors valid. */
  renameAll(suffix: string): void {
    for (const p of [this.logPath, this.offsetIndex.path, this.timeIndex.path]) {
      if (existsSync(p)) renameSync(p, p + suffix);
    }
  }

  /** Removes the files (called after close). `suffix` is what renameAll added. */
  deleteFiles(suffix = ''): void {
    for (const p of this.filePaths(suffix)) rmSync(p, { force: true });
  }

  /** The paths of the three files, with `suffix` (what renameAll added) appended. */
  filePaths(suffix = ''): string[] {
    return [this.logPath + suffix, this.offsetIndex.path + suffix, this.timeIndex.path + suffix];
  }
}
