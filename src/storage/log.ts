/**
 * A partition log: an ordered list of segments, the last one active. Assigns offsets on append,
 * rolls segments, serves reads as file ranges, answers offset look-ups, applies retention and
 * DeleteRecords, truncates for replication, flushes, and recovers after a crash.
 */
import { mkdirSync } from 'node:fs';
import { updateBatchCrc } from '../protocol/record-batch/encode.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  BatchHeader,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  TIMESTAMP_TYPE_BIT,
} from '../protocol/record-batch/header.js';
import { isCompacted, isDeleteRetained, type LogConfig } from './config.js';
import {
  CorruptRecordError,
  LogClosedError,
  OffsetOutOfRangeError,
  StorageError,
  storageError,
} from './errors.js';
import { GroupCommit } from './group-commit.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { fsyncDir } from './fs-util.js';
import { listSegments } from './log-dir.js';
import { DELETED_SUFFIX } from './naming.js';
import { deletableSegmentCount } from './retention.js';
import { type BatchPosition, ChunkedBatchReader } from './batch-scan.js';
import { LogSegment, type SegmentIo, defaultIo } from './segment.js';

/** How to open a log. The LogManager fills these from its checkpoints. */
export interface LogOptions {
  dir: string;
  topic: string;
  partition: number;
  config: LogConfig;
  /** Offsets below this were flushed with their indexes; recovery scans from here. */
  recoveryPoint?: number;
  /** From the log-start-offset checkpoint. */
  logStartOffset?: number;
  /** The data dir was shut down cleanly: skip the recovery scan. */
  cleanShutdown?: boolean;
  /** Fault injection for tests. */
  io?: SegmentIo;
  /** Clock (ms since epoch); tests pass their own. */
  now?: () => number;
  /** Called (synchronously) when DeleteRecords moves the log start offset, to checkpoint it. */
  onLogStartOffsetChange?: (log: Log) => void;
}

/** Per-append options. */
export interface AppendOptions {
  /** Leader epoch stamped into each batch (default: the latest epoch, or 0). */
  leaderEpoch?: number;
  /**
   * Called for each batch after its offset is assigned and before anything is written: the hook
   * for producer state (producerId/epoch/sequence at fixed header positions). Throwing aborts the
   * whole append; nothing is written and no offset is used.
   */
  onBatch?: (buf: Buffer, at: number) => void;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker's time for LogAppendTime topics, else -1. */
  logAppendTime: number;
  logStartOffset: number;
  /** Number of batches appended. */
  batchCount: number;
}

/** A slice of a `.log` file holding whole batches. The fd stays valid for `file.delete.delay.ms`. */
export interface FileRange {
  file: string;
  fd: number;
  position: number;
  length: number;
}

export interface ReadResult {
  ranges: FileRange[];
  /** Total bytes in `ranges`. */
  size: number;
  /** Base offset of the first batch returned (-1 when nothing is returned). */
  firstOffset: number;
  /** Last offset of the last batch returned (-1 when nothing is returned). */
  lastOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
}

export interface ReadOptions {
  /** Exclusive upper bound: only batches whose last offset is below it (e.g. the high watermark). */
  maxOffset?: number;
  /** Return the first batch even when it is bigger than maxBytes (default true, as Kafka). */
  minOneBatch?: boolean;
}

export interface TimestampAndOffset {
  timestamp: number;
  offset: number;
}

/** Scratch space for per-append batch positions: 4 numbers per batch, reused across appends. */
let scratch = new Float64Array(4 * 64);

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}

const INT32_MAX = 0x7fffffff;

export class Log {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  config: LogConfig;
  private segmentList: LogSegment[];
  private nextOffset: number;
  private lso: number;
  private recoveryPointValue: number;
  readonly leaderEpochs: LeaderEpochCache;
  private closed = false;
  private readonly now: () => number;
  private readonly io: SegmentIo;
  private readonly groupCommit: GroupCommit;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private flushing: Promise<void> | undefined;
  private syncsInFlight = 0;
  private readonly pendingDeletes = new Set<{
    seg: LogSegment;
    timer: NodeJS.Timeout | undefined;
  }>();
  /** Set when a read found damage in a sealed segment: reads at or past it fail. */
  private corruption: CorruptRecordError | undefined;
  private readonly onLsoChange: ((log: Log) => void) | undefined;
  /** Set after an fdatasync failure: the page cache may have dropped data, so the log refuses appends. */
  private failed: StorageError | undefined;
  /** Counters for tests, metrics and the benchmark. */
  readonly stats = { syncs: 0, flushes: 0 };
  /** Recovery statistics of the last open (for logs and the benchmark). */
  readonly recovery: { segmentsScanned: number; truncatedBytes: number; problem?: string };

  private constructor(opts: LogOptions) {
    this.dir = opts.dir;
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.config = opts.config;
    this.now = opts.now ?? Date.now;
    this.io = opts.io ?? defaultIo;
    this.onLsoChange = opts.onLogStartOffsetChange;
    mkdirSync(this.dir, { recursive: true });
    this.leaderEpochs = new LeaderEpochCache(this.dir);
    const settings = this.segmentSettings();
    const bases = listSegments(this.dir);
    this.recovery = { segmentsScanned: 0, truncatedBytes: 0 };
    if (bases.length === 0) {
      const start = opts.logStartOffset ?? 0;
      this.segmentList = [LogSegment.create(this.dir, start, settings, this.io)];
      this.nextOffset = start;
      fsyncDir(this.dir);
    } else {
      this.segmentList = bases.map((b) => LogSegment.open(this.dir, b, settings, this.io));
      this.nextOffset = opts.cleanShutdown
        ? this.loadAfterCleanShutdown()
        : this.recoverFrom(opts.recoveryPoint ?? 0);
    }
    this.lso = Math.min(
      Math.max(opts.logStartOffset ?? 0, this.segmentList[0].baseOffset),
      this.nextOffset,
    );
    this.recoveryPointValue = Math.min(
      opts.cleanShutdown ? this.nextOffset : (opts.recoveryPoint ?? 0),
      this.nextOffset,
    );
    this.leaderEpochs.truncateFromEnd(this.nextOffset);
    this.leaderEpochs.truncateFromStart(this.lso);
    this.lastFlushMs = this.now();
    this.groupCommit = new GroupCommit(
      this.nextOffset,
      () => this.nextOffset,
      (from, to) => this.syncData(from, to),
    );
  }

  /** Opens (or creates) the log in `opts.dir`, recovering it if it was not shut down cleanly. */
  static open(opts: LogOptions): Log {
    try {
      return new Log(opts);
    } catch (err) {
      throw storageError(`cannot open log ${opts.topic}-${opts.partition} in ${opts.dir}`, err);
    }
  }

  private segmentSettings() {
    return {
      indexIntervalBytes: this.config['index.interval.bytes'],
      maxIndexBytes: this.config['segment.index.bytes'],
    };
  }

  private get active(): LogSegment {
    return this.segmentList[this.segmentList.length - 1];
  }

  /** After a clean shutdown: only the active segment's tail is read to find the log end. */
  private loadAfterCleanShutdown(): number {
    const seg = this.active;
    if (!this.loadIndexes(seg)) return this.recoverSegments(this.segmentList.length - 1);
    const r = seg.readNextOffset();
    if (r.problem !== undefined || r.at !== seg.size)
      return this.recoverSegments(this.segmentList.length - 1);
    return r.nextOffset;
  }

  /** After a crash: recover every segment from the one holding `recoveryPoint`. */
  private recoverFrom(recoveryPoint: number): number {
    let i = this.segmentList.length - 1;
    while (i > 0 && this.segmentList[i].baseOffset > recoveryPoint) i--;
    return this.recoverSegments(i);
  }

  private recoverSegments(from: number): number {
    let next = this.segmentList[from].baseOffset;
    for (let i = from; i < this.segmentList.length; i++) {
      const seg = this.segmentList[i];
      const r = seg.recover(next);
      this.recovery.segmentsScanned++;
      this.recovery.truncatedBytes += r.truncatedBytes;
      next = Math.max(r.nextOffset, seg.baseOffset);
      const following = this.segmentList[i + 1];
      if (
        r.problem === undefined &&
        following &&
        next < following.baseOffset &&
        !isCompacted(this.config)
      ) {
        // Only compaction leaves gaps between segments; otherwise the tail of this segment was
        // lost (e.g. unflushed pages after a power loss) and later data must not survive it.
        r.problem = `segment ends at offset ${next} but the next one starts at ${following.baseOffset}`;
      }
      if (r.problem !== undefined) {
        this.recovery.problem = `${seg.logPath}: ${r.problem}`;
        // Everything after the damage is dropped: later segments hold offsets after it.
        for (const later of this.segmentList.splice(i + 1)) {
          this.recovery.truncatedBytes += later.size;
          later.close();
          later.deleteFiles();
        }
        break;
      }
    }
    // A sealed segment whose end did not reach the next base offset leaves a gap; that is
    // legal (compaction makes gaps), so nothing to fix.
    if (this.active.size === 0 && this.segmentList.length > 1) next = this.active.baseOffset;
    return next;
  }

  /** Loads a segment's indexes, rebuilding them from the log if they are malformed. */
  private loadIndexes(seg: LogSegment): boolean {
    if (seg.offsetIndex.isLoaded && seg.timeIndex.isLoaded) return true;
    const ok = seg.offsetIndex.ensureLoaded() && seg.timeIndex.ensureLoaded();
    const last = seg.offsetIndex.lastEntry();
    if (ok && (!last || last.position < seg.size)) return true;
    const r = seg.recover(seg.baseOffset);
    if (r.problem !== undefined)
      this.corruption ??= new CorruptRecordError(
        this.topic,
        this.partition,
        r.nextOffset,
        seg.logPath,
        seg.size,
        r.problem,
      );
    return false;
  }

  // ---------------------------------------------------------------- state

  get logStartOffset(): number {
    return this.lso;
  }

  get logEndOffset(): number {
    return this.nextOffset;
  }

  /** Single node: everything appended is committed. Replication will move this separately. */
  get highWatermark(): number {
    return this.nextOffset;
  }

  /** With flush.policy=always: every offset below this is fdatasynced. */
  get durableOffset(): number {
    return this.groupCommit.durableOffset;
  }

  get recoveryPoint(): number {
    return this.recoveryPointValue;
  }

  /** Bytes on disk in `.log` files. */
  get size(): number {
    let n = 0;
    for (const s of this.segmentList) n += s.size;
    return n;
  }

  get segments(): readonly LogSegment[] {
    return this.segmentList;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private checkOpen(): void {
    if (this.closed) throw new LogClosedError(`log ${this.topic}-${this.partition} is closed`);
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends whole record batches exactly as received (one write syscall), assigning offsets by
   * patching each header's baseOffset (and partitionLeaderEpoch; for LogAppendTime topics also
   * maxTimestamp, the timestamp-type bit and so the CRC). With `flush.policy=always` the promise
   * resolves only once the data is fdatasynced (group commit); otherwise once it is in the OS.
   */
  async append(batches: Buffer, opts: AppendOptions = {}): Promise<AppendResult> {
    const result = this.appendToOs(batches, opts);
    if (this.config['flush.policy'] === 'always')
      await this.groupCommit.waitFor(result.lastOffset + 1);
    return result;
  }

  /**
   * The synchronous part of `append`: the data is in the OS page cache when this returns (it
   * survives a process crash, not a power loss). Exposed for callers that manage durability.
   */
  appendToOs(batches: Buffer, opts: AppendOptions = {}): AppendResult {
    this.checkOpen();
    if (this.failed) throw this.failed;
    const epoch = opts.leaderEpoch ?? this.leaderEpochs.latestEpoch ?? 0;
    const logAppendTime =
      this.config['message.timestamp.type'] === 'LogAppendTime' ? this.now() : -1;
    let offset = this.nextOffset;
    let pos = 0;
    let count = 0;
    let maxTs = -1;
    let records = 0;
    while (pos < batches.length) {
      const left = batches.length - pos;
      const size = left >= BATCH_HEADER_SIZE ? BatchHeader.totalSize(batches, pos) : -1;
      if (size < BATCH_HEADER_SIZE || size > left || BatchHeader.magic(batches, pos) !== MAGIC_V2)
        throw new CorruptRecordError(
          this.topic,
          this.partition,
          offset,
          '(append)',
          pos,
          `not a whole magic v2 batch at byte ${pos} of the append`,
        );
      BatchHeader.setBaseOffset(batches, offset, pos);
      BatchHeader.setPartitionLeaderEpoch(batches, epoch, pos);
      if (logAppendTime >= 0) {
        batches.writeInt16BE(
          BatchHeader.attributes(batches, pos) | TIMESTAMP_TYPE_BIT,
          pos + ATTRIBUTES_OFFSET,
        );
        writeInt64(batches, pos + MAX_TIMESTAMP_OFFSET, logAppendTime);
        updateBatchCrc(batches, pos);
      }
      opts.onBatch?.(batches, pos);
      const delta = BatchHeader.lastOffsetDelta(batches, pos);
      if (delta < 0)
        throw new CorruptRecordError(
          this.topic,
          this.partition,
          offset,
          '(append)',
          pos,
          `negative last offset delta ${delta}`,
        );
      const last = offset + delta;
      const ts = BatchHeader.maxTimestamp(batches, pos);
      if (scratch.length < (count + 1) * 4) {
        const bigger = new Float64Array(scratch.length * 2);
        bigger.set(scratch);
        scratch = bigger;
      }
      scratch[count * 4] = pos;
      scratch[count * 4 + 1] = size;
      scratch[count * 4 + 2] = last;
      scratch[count * 4 + 3] = ts;
      if (ts > maxTs) maxTs = ts;
      records += BatchHeader.recordsCount(batches, pos);
      count++;
      offset = last + 1;
      pos += size;
    }
    if (count === 0)
      throw new CorruptRecordError(
        this.topic,
        this.partition,
        offset,
        '(append)',
        0,
        'empty append',
      );
    const baseOffset = this.nextOffset;
    this.maybeRoll(batches.length, maxTs, offset - 1);
    try {
      this.active.append(batches, scratch, count);
    } catch (err) {
      throw storageError(
        `append to ${this.topic}-${this.partition} at offset ${baseOffset} failed`,
        err,
      );
    }
    this.nextOffset = offset;
    if (this.leaderEpochs.latestEpoch === undefined || epoch > this.leaderEpochs.latestEpoch)
      this.leaderEpochs.assign(epoch, baseOffset);
    this.unflushedMessages += records;
    if (
      this.unflushedMessages >= this.config['flush.messages'] &&
      this.config['flush.policy'] !== 'always'
    )
      this.flush().catch(() => {
        // The failure is recorded in this.failed by flush; the next append reports it.
      });
    return {
      baseOffset,
      lastOffset: offset - 1,
      logAppendTime,
      logStartOffset: this.lso,
      batchCount: count,
    };
  }

  private maybeRoll(appendSize: number, appendMaxTs: number, appendLastOffset: number): void {
    const seg = this.active;
    if (seg.size === 0) return;
    const c = this.config;
    const base = seg.rollingBase;
    seg.rollJitterMs ??= Math.floor(Math.random() * c['segment.jitter.ms']);
    const waited =
      base !== undefined && appendMaxTs >= 0 ? appendMaxTs - base : this.now() - seg.created;
    if (
      seg.size > c['segment.bytes'] - appendSize ||
      waited > c['segment.ms'] - seg.rollJitterMs ||
      seg.offsetIndex.isFull ||
      seg.timeIndex.isFull ||
      appendLastOffset - seg.baseOffset > INT32_MAX
    )
      this.roll();
  }

  /** Seals the active segment and starts a new one at the log end offset (no-op when empty). */
  roll(): void {
    this.checkOpen();
    if (this.active.size === 0) return;
    try {
      this.active.seal();
      this.segmentList.push(
        LogSegment.create(this.dir, this.nextOffset, this.segmentSettings(), this.io),
      );
      // The new file's directory entry must survive a power loss too (fdatasync of the file
      // alone does not persist its name).
      fsyncDir(this.dir);
    } catch (err) {
      throw storageError(`rolling a segment of ${this.topic}-${this.partition} failed`, err);
    }
  }

  // ---------------------------------------------------------------- read

  /** The index of the segment that holds `offset` (the last one with baseOffset <= offset). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segmentList.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segmentList[mid].baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * File ranges of whole batches from the batch that holds `offset`, up to `maxBytes` (at least
   * one batch by default, as Kafka does). `offset` equal to the log end offset gives no ranges.
   */
  read(offset: number, maxBytes: number, opts: ReadOptions = {}): ReadResult {
    this.checkOpen();
    const result: ReadResult = {
      ranges: [],
      size: 0,
      firstOffset: -1,
      lastOffset: -1,
      logStartOffset: this.lso,
      logEndOffset: this.nextOffset,
      highWatermark: this.highWatermark,
    };
    if (offset < this.lso || offset > this.nextOffset)
      throw new OffsetOutOfRangeError(
        this.topic,
        this.partition,
        offset,
        this.lso,
        this.nextOffset,
      );
    if (this.corruption && offset >= this.corruption.offset) throw this.corruption;
    const maxOffset = Math.min(opts.maxOffset ?? this.nextOffset, this.nextOffset);
    if (offset >= maxOffset) return result;
    const minOne = opts.minOneBatch ?? true;
    const where = { topic: this.topic, partition: this.partition };
    for (let i = this.segmentIndexFor(offset); i < this.segmentList.length; i++) {
      const seg = this.segmentList[i];
      this.loadIndexes(seg);
      let first: BatchPosition | undefined;
      try {
        first = seg.findBatch(offset, seg.size, where);
      } catch (err) {
        if (err instanceof CorruptRecordError) this.corruption = err;
        throw err;
      }
      if (!first) continue; // the rest of this segment was compacted away
      if (first.lastOffset >= maxOffset || (!minOne && first.size > maxBytes)) return result;
      const end = this.boundRead(seg, first, maxBytes, maxOffset);
      result.ranges.push({
        file: seg.logPath,
        fd: seg.fd,
        position: first.position,
        length: end.position - first.position,
      });
      result.size = end.position - first.position;
      result.firstOffset = first.baseOffset;
      result.lastOffset = end.lastOffset;
      return result;
    }
    return result;
  }

  /** Where a read that starts with `first` ends: whole batches within maxBytes and maxOffset. */
  private boundRead(
    seg: LogSegment,
    first: BatchPosition,
    maxBytes: number,
    maxOffset: number,
  ): { position: number; lastOffset: number } {
    let pos = first.position + first.size;
    let lastOffset = first.lastOffset;
    const limit = first.position + Math.max(maxBytes, first.size);
    // Jump over whole batches with the index: every batch before an indexed boundary at or
    // below the limit fits, if that boundary's batch is itself below maxOffset.
    const jump = seg.offsetIndex.floorByPosition(Math.min(limit, seg.size), pos);
    if (jump && jump.lastOffset < maxOffset) {
      const b = seg.batchAt(jump.position, seg.size, 0);
      if (b && typeof b !== 'string' && b.position + b.size <= limit) {
        pos = b.position + b.size;
        lastOffset = b.lastOffset;
      }
    }
    for (;;) {
      const b = seg.batchAt(pos, seg.size, lastOffset + 1);
      if (b === undefined) break;
      if (typeof b === 'string') {
        // Damage after good data: serve what is good, refuse reads from the damage on.
        this.corruption ??= new CorruptRecordError(
          this.topic,
          this.partition,
          lastOffset + 1,
          seg.logPath,
          pos,
          b,
        );
        break;
      }
      if (b.lastOffset >= maxOffset || b.position + b.size > limit) break;
      pos += b.size;
      lastOffset = b.lastOffset;
    }
    return { position: pos, lastOffset };
  }

  // ---------------------------------------------------------------- look-ups

  /** ListOffsets EARLIEST. */
  earliestOffset(): number {
    return this.lso;
  }

  /** ListOffsets LATEST. */
  latestOffset(): number {
    return this.highWatermark;
  }

  /**
   * ListOffsets by timestamp: the first batch (from the log start offset) whose maxTimestamp is
   * >= `timestamp`; its base offset (at least the log start offset) and max timestamp. Undefined
   * when no batch qualifies. (Finding the exact record inside the batch needs record decoding,
   * which the broker may do on the returned batch.)
   */
  offsetForTimestamp(
    timestamp: number,
  ): (TimestampAndOffset & { batchLastOffset: number }) | undefined {
    this.checkOpen();
    const where = { topic: this.topic, partition: this.partition };
    for (let i = this.segmentIndexFor(this.lso); i < this.segmentList.length; i++) {
      const seg = this.segmentList[i];
      const isActive = i === this.segmentList.length - 1;
      const largest = isActive ? seg.largestTimestamp : seg.peekLargestTimestamp();
      if (largest < timestamp) continue;
      this.loadIndexes(seg);
      const b = seg.findByTimestamp(timestamp, this.lso, where);
      if (b)
        return {
          offset: Math.max(b.baseOffset, this.lso),
          timestamp: b.maxTimestamp,
          batchLastOffset: b.lastOffset,
        };
    }
    return undefined;
  }

  /** ListOffsets MAX_TIMESTAMP: the largest timestamp and the last offset of its batch. */
  maxTimestamp(): TimestampAndOffset | undefined {
    let best: TimestampAndOffset | undefined;
    for (let i = 0; i < this.segmentList.length; i++) {
      const seg = this.segmentList[i];
      const isActive = i === this.segmentList.length - 1;
      let entry: TimestampAndOffset | undefined;
      if (isActive) {
        const ts = seg.largestTimestamp;
        if (ts >= 0) entry = { timestamp: ts, offset: seg.offsetOfLargestTimestamp };
      } else {
        const e = seg.timeIndex.peekLastEntry();
        if (e) entry = { timestamp: e.timestamp, offset: e.offset };
      }
      if (entry && (!best || entry.timestamp > best.timestamp)) best = entry;
    }
    return best;
  }

  // ---------------------------------------------------------------- deletion and truncation

  /**
   * DeleteRecords: moves the log start offset up to `offset` (at most the high watermark) and
   * removes segments that are now wholly below it. Returns the new log start offset.
   */
  deleteRecordsBefore(offset: number): number {
    this.checkOpen();
    if (offset > this.highWatermark || offset < 0)
      throw new OffsetOutOfRangeError(
        this.topic,
        this.partition,
        offset,
        this.lso,
        this.highWatermark,
      );
    if (offset <= this.lso) return this.lso;
    this.lso = offset;
    this.leaderEpochs.truncateFromStart(offset);
    this.onLsoChange?.(this);
    this.deleteSegments(
      deletableSegmentCount(this.retentionView(), {
        now: this.now(),
        retentionMs: -1,
        retentionBytes: -1,
        logStartOffset: this.lso,
        deleteByTimeAndSize: false,
      }),
    );
    return this.lso;
  }

  private retentionView() {
    return this.segmentList.map((s, i) => ({
      baseOffset: s.baseOffset,
      size: s.size,
      largestTimestamp:
        i === this.segmentList.length - 1 ? s.largestTimestamp : s.peekLargestTimestamp(),
    }));
  }

  /** Applies retention.ms / retention.bytes (when cleanup.policy has delete). Returns segments deleted. */
  applyRetention(): number {
    this.checkOpen();
    const n = deletableSegmentCount(this.retentionView(), {
      now: this.now(),
      retentionMs: this.config['retention.ms'],
      retentionBytes: this.config['retention.bytes'],
      logStartOffset: this.lso,
      deleteByTimeAndSize: isDeleteRetained(this.config),
    });
    this.deleteSegments(n);
    return n;
  }

  /** Removes the first `n` segments (never the active one): rename now, remove files later. */
  private deleteSegments(n: number): void {
    n = Math.min(n, this.segmentList.length - 1);
    if (n <= 0) return;
    const gone = this.segmentList.splice(0, n);
    for (const seg of gone) this.scheduleDelete(seg);
    const newStart = this.segmentList[0].baseOffset;
    if (newStart > this.lso) {
      this.lso = newStart;
      this.leaderEpochs.truncateFromStart(newStart);
    }
    if (this.corruption && this.corruption.offset < newStart) this.corruption = undefined;
  }

  /** Renames a segment's files to `.deleted` and closes/removes them after file.delete.delay.ms. */
  scheduleDelete(seg: LogSegment): void {
    seg.offsetIndex.unload();
    seg.timeIndex.unload();
    try {
      seg.renameAll(DELETED_SUFFIX);
    } catch (err) {
      throw storageError(`cannot delete segment ${seg.logPath}`, err);
    }
    const entry: { seg: LogSegment; timer: NodeJS.Timeout | undefined } = { seg, timer: undefined };
    const reap = (): void => {
      if (this.syncsInFlight > 0) {
        entry.timer = setTimeout(reap, 10);
        entry.timer.unref();
        return;
      }
      this.pendingDeletes.delete(entry);
      seg.close();
      seg.deleteFiles(DELETED_SUFFIX);
    };
    this.pendingDeletes.add(entry);
    entry.timer = setTimeout(reap, this.config['file.delete.delay.ms']);
    entry.timer.unref();
  }

  /**
   * Removes every batch that holds an offset >= `offset` (replication's truncation to a leader's
   * epoch end offset). A batch that straddles `offset` goes whole.
   */
  truncateTo(offset: number): void {
    this.checkOpen();
    if (offset >= this.nextOffset) return;
    try {
      while (this.segmentList.length > 1 && this.active.baseOffset >= offset) {
        // Readers may still hold ranges of it: remove it like retention does.
        this.scheduleDelete(this.segmentList.pop()!);
      }
      const seg = this.active;
      if (seg.baseOffset >= offset) {
        // The only segment left starts at or after `offset`: restart the log there.
        this.scheduleDelete(seg);
        this.segmentList = [LogSegment.create(this.dir, offset, this.segmentSettings(), this.io)];
        this.nextOffset = offset;
      } else {
        this.loadIndexes(seg);
        const b = seg.findBatch(offset, seg.size, { topic: this.topic, partition: this.partition });
        if (b) seg.truncateToPosition(b.position);
        this.nextOffset = b ? b.baseOffset : offset;
      }
    } catch (err) {
      throw storageError(`truncating ${this.topic}-${this.partition} to ${offset} failed`, err);
    }
    this.lso = Math.min(this.lso, this.nextOffset);
    this.recoveryPointValue = Math.min(this.recoveryPointValue, this.nextOffset);
    this.groupCommit.truncate(this.nextOffset);
    this.leaderEpochs.truncateFromEnd(this.nextOffset);
    if (this.corruption && this.corruption.offset >= this.nextOffset) this.corruption = undefined;
  }

  // ---------------------------------------------------------------- flush

  /** Segments that hold offsets in [from, to). */
  private segmentsBetween(from: number, to: number): LogSegment[] {
    const out: LogSegment[] = [];
    for (let i = this.segmentIndexFor(from); i < this.segmentList.length; i++) {
      if (this.segmentList[i].baseOffset >= to && i > 0) break;
      out.push(this.segmentList[i]);
    }
    return out;
  }

  /** Group commit's sync: fdatasync of the `.log` files only (indexes are rebuilt by recovery). */
  private async syncData(from: number, to: number): Promise<void> {
    const segs = this.segmentsBetween(from, to);
    this.stats.syncs++;
    this.syncsInFlight++;
    try {
      await Promise.all(segs.map((s) => s.syncDataAsync()));
    } catch (err) {
      this.failed = new StorageError(
        `fdatasync of ${this.topic}-${this.partition} failed; the log refuses appends until it is reopened`,
        { cause: err },
      );
      throw this.failed;
    } finally {
      this.syncsInFlight--;
    }
  }

  /**
   * Flushes everything appended so far (the `.log` files and their indexes) and moves the
   * recovery point to the log end offset. Concurrent calls share one flush.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    const to = this.nextOffset;
    if (to <= this.recoveryPointValue) return Promise.resolve();
    const run = async (): Promise<void> => {
      const segs = this.segmentsBetween(this.recoveryPointValue, to);
      for (const s of segs) {
        s.offsetIndex.flush(false);
        s.timeIndex.flush(false);
      }
      await this.syncData(this.recoveryPointValue, to);
      // Index files are small; fsync them after the data so the recovery point only moves once
      // both are durable.
      for (const s of segs) {
        s.offsetIndex.flush(true);
        s.timeIndex.flush(true);
      }
      this.recoveryPointValue = Math.max(this.recoveryPointValue, Math.min(to, this.nextOffset));
      this.groupCommit.durableOffset = Math.max(this.groupCommit.durableOffset, to);
      this.unflushedMessages = 0;
      this.stats.flushes++;
      this.lastFlushMs = this.now();
    };
    this.flushing = run().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Called by the LogManager's scheduler: flushes when flush.ms has passed since the last one. */
  maybeFlush(): Promise<void> | undefined {
    if (this.closed || this.nextOffset <= this.recoveryPointValue) return undefined;
    if (this.now() - this.lastFlushMs < this.config['flush.ms']) return undefined;
    return this.flush();
  }

  /** Flushes and closes all files. The log cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      while (this.flushing || this.groupCommit.inFlight) {
        await this.flushing?.catch(() => undefined);
        if (this.groupCommit.inFlight) await new Promise((r) => setTimeout(r, 1));
      }
      this.closed = true;
      for (const seg of this.segmentList) {
        seg.flushSync();
        seg.close();
      }
      this.recoveryPointValue = this.nextOffset;
    } finally {
      this.closed = true;
      this.reapAll();
    }
  }

  /** Closes without flushing (what a crash leaves behind, minus the page cache loss). */
  closeWithoutFlush(): void {
    this.closed = true;
    for (const seg of this.segmentList) seg.close();
    this.reapAll();
  }

  /**
   * For a deleted partition: refuses further use at once, but keeps the file descriptors open
   * for `file.delete.delay.ms` so that fetches holding file ranges can finish (closing them at
   * once could let the OS reuse a descriptor number under a reader). Returns a function that
   * closes them early (at shutdown).
   */
  retire(): () => void {
    this.closed = true;
    const segs = [...this.segmentList];
    for (const seg of segs) {
      seg.offsetIndex.unload();
      seg.timeIndex.unload();
    }
    let done = false;
    const closeAll = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const seg of segs) seg.close();
      this.reapAll();
    };
    const timer = setTimeout(closeAll, this.config['file.delete.delay.ms']);
    timer.unref();
    return closeAll;
  }

  private reapAll(): void {
    for (const e of this.pendingDeletes) {
      clearTimeout(e.timer);
      e.seg.close();
      e.seg.deleteFiles(DELETED_SUFFIX);
    }
    this.pendingDeletes.clear();
  }

  /**
   * Scrub: reads every batch of every segment and checks its CRC (reads only check headers).
   * Damage is recorded like damage found by a read (reads at or past it fail) and returned.
   * Yields to the event loop every 4 MiB.
   */
  async verify(): Promise<CorruptRecordError | undefined> {
    this.checkOpen();
    let sinceYield = 0;
    for (const seg of [...this.segmentList]) {
      if (!this.segmentList.includes(seg)) continue;
      const reader = new ChunkedBatchReader(seg.fd, 0, seg.size, 1 << 20);
      let min = seg.baseOffset;
      for (;;) {
        let b: ReturnType<ChunkedBatchReader['next']>;
        try {
          b = reader.next(min, true);
        } catch (err) {
          if (!this.segmentList.includes(seg)) break; // removed by retention meanwhile
          throw storageError(`verifying ${seg.logPath}`, err);
        }
        if (b === undefined) break;
        if (typeof b === 'string') {
          const err = new CorruptRecordError(
            this.topic,
            this.partition,
            Math.max(min, this.lso),
            seg.logPath,
            reader.position,
            b,
          );
          this.markCorrupt(err);
          return err;
        }
        min = BatchHeader.lastOffset(b.buf, b.at) + 1;
        sinceYield += b.size;
        if (sinceYield >= 4 * 1024 * 1024) {
          sinceYield = 0;
          await new Promise((r) => setImmediate(r));
          if (this.closed) return undefined;
        }
      }
    }
    return undefined;
  }

  /** Replaces segments after compaction (see cleaner.ts): `replaced` leave, `added` take their place. */
  replaceSegments(replaced: readonly LogSegment[], added: LogSegment): void {
    const first = this.segmentList.indexOf(replaced[0]);
    if (first < 0) throw new StorageError('compaction swap: segment no longer in the log');
    this.segmentList.splice(first, replaced.length, added);
  }

  /** Marks data at or after `offset` as unreadable (found corrupt by a scan such as the cleaner's). */
  markCorrupt(err: CorruptRecordError): void {
    if (!this.corruption || err.offset < this.corruption.offset) this.corruption = err;
  }

  /** The damage found by reads or loads, if any. */
  get corruptionFound(): CorruptRecordError | undefined {
    return this.corruption;
  }

  /** Makes the log usable again after an fdatasync failure (e.g. once an operator fixed the disk). */
  clearFailure(): void {
    this.failed = undefined;
  }
}
