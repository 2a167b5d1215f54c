/**
 * A partition log: an ordered list of segments, the last one active. Assigns offsets on append,
 * rolls segments, serves reads as file ranges, answers offset look-ups, applies retention and
 * DeleteRecords, truncates for replication, flushes, and recovers after a crash.
 */
import { mkdirSync } from 'node:fs';
import { isCompacted, isDeleteRetained, type LogConfig } from './config.js';
import type {
  AppendOptions,
  AppendResult,
  LogOptions,
  ReadOptions,
  ReadResult,
} from './log-types.js';
import {
  CorruptRecordError,
  LogClosedError,
  OffsetOutOfRangeError,
  StorageError,
  storageError,
} from './errors.js';
import { assignOffsets } from './assign-offsets.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { fsyncDir } from './fs-util.js';
import { type FlushStats, LogFlusher } from './log-flush.js';
import { listSegments } from './log-dir.js';
import {
  loadAfterCleanShutdown,
  loadIndexes,
  type RecoveryStats,
  recoverFrom,
} from './recovery.js';
import {
  findMaxTimestamp,
  findOffsetForTimestamp,
  findReadSpan,
  type TimestampAndOffset,
} from './log-read.js';
import { deletableSegmentCount } from './retention.js';
import { shouldRoll } from './roll-policy.js';
import { scrubSegments } from './scrub.js';
import { SegmentReaper } from './segment-reaper.js';
import { LogSegment, type SegmentIo, defaultIo } from './segment.js';

export type {
  AppendOptions,
  AppendResult,
  FileRange,
  LogOptions,
  ReadOptions,
  ReadResult,
} from './log-types.js';
export type { TimestampAndOffset } from './log-read.js';

export class Log {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  config: LogConfig;
  private segmentList: LogSegment[];
  private nextOffset: number;
  private lso: number;
  readonly leaderEpochs: LeaderEpochCache;
  private closed = false;
  private readonly now: () => number;
  private readonly io: SegmentIo;
  private readonly flusher: LogFlusher;
  private readonly reaper = new SegmentReaper(
    () => this.config['file.delete.delay.ms'],
    () => this.flusher.syncing,
  );
  /** Set when a read found damage in a sealed segment: reads at or past it fail. */
  private corruption: CorruptRecordError | undefined;
  private readonly onLsoChange: ((log: Log) => void) | undefined;
  /** Counters for tests, metrics and the benchmark. */
  get stats(): FlushStats {
    return this.flusher.stats;
  }
  /** Recovery statistics of the last open (for logs and the benchmark). */
  readonly recovery: RecoveryStats;

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
      for (const seg of this.segmentList.slice(0, -1)) seg.markSealed();
      const allowGaps = isCompacted(this.config);
      this.nextOffset = opts.cleanShutdown
        ? loadAfterCleanShutdown(this.segmentList, allowGaps, this.recovery, this)
        : recoverFrom(
            this.segmentList,
            opts.recoveryPoint ?? 0,
            allowGaps,
            this.recovery,
            (epoch, baseOffset) => {
              if (epoch >= 0) this.leaderEpochs.assign(epoch, baseOffset);
            },
          );
    }
    this.lso = Math.min(
      Math.max(opts.logStartOffset ?? 0, this.segmentList[0].baseOffset),
      this.nextOffset,
    );
    this.leaderEpochs.truncateFromEnd(this.nextOffset);
    this.leaderEpochs.truncateFromStart(this.lso);
    this.flusher = new LogFlusher(
      this,
      Math.min(opts.cleanShutdown ? this.nextOffset : (opts.recoveryPoint ?? 0), this.nextOffset),
      this.now,
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

  // Bound once: a closure per read would be allocated (and, under tsx, renamed) on every fetch.
  private readonly loadIndexesFn = (seg: LogSegment): void => this.loadIndexes(seg);
  private readonly markCorruptFn = (err: CorruptRecordError): void => this.markCorrupt(err);

  /** Loads a segment's indexes on first use; damage found while rebuilding them is recorded. */
  private loadIndexes(seg: LogSegment): void {
    const r = loadIndexes(seg, { topic: this.topic, partition: this.partition });
    if (r instanceof CorruptRecordError) this.markCorrupt(r);
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
    return this.flusher.durableOffset;
  }

  get recoveryPoint(): number {
    return this.flusher.recoveryPoint;
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
      await this.flusher.waitForDurable(result.lastOffset + 1);
    return result;
  }

  /**
   * Whether an acknowledged append must wait for an fdatasync (`flush.policy=always`): then the
   * caller of {@link appendToOs} waits for {@link waitForDurable} before answering.
   */
  get syncsEveryAppend(): boolean {
    return this.config['flush.policy'] === 'always';
  }

  /** Resolves once every offset below `offset` is fdatasynced (group commit). */
  waitForDurable(offset: number): Promise<void> {
    return this.flusher.waitForDurable(offset);
  }

  /**
   * The synchronous part of `append`: the data is in the OS page cache when this returns (it
   * survives a process crash, not a power loss). Exposed for callers that manage durability
   * (the produce path, which so answers without a promise per append unless
   * {@link syncsEveryAppend}).
   */
  appendToOs(batches: Buffer, opts: AppendOptions = {}): AppendResult {
    this.checkOpen();
    if (this.flusher.failed) throw this.flusher.failed;
    const epoch = opts.leaderEpoch ?? this.leaderEpochs.latestEpoch ?? 0;
    const logAppendTime =
      this.config['message.timestamp.type'] === 'LogAppendTime' ? this.now() : -1;
    const a = assignOffsets(batches, this.nextOffset, epoch, logAppendTime, opts.onBatch, this);
    const offset = a.nextOffset;
    const count = a.count;
    const records = a.records;
    const baseOffset = this.nextOffset;
    if (shouldRoll(this.active, this.config, batches.length, a.maxTimestamp, offset - 1, this.now))
      this.roll();
    try {
      this.active.append(batches, a.positions, count);
    } catch (err) {
      throw storageError(
        `append to ${this.topic}-${this.partition} at offset ${baseOffset} failed`,
        err,
      );
    }
    this.nextOffset = offset;
    if (this.leaderEpochs.latestEpoch === undefined || epoch > this.leaderEpochs.latestEpoch)
      this.leaderEpochs.assign(epoch, baseOffset);
    if (
      this.flusher.noteAppended(records, this.config['flush.messages']) &&
      this.config['flush.policy'] !== 'always'
    )
      this.flush().catch(() => {
        // The failure is recorded by the flusher; the next append reports it.
      });
    return {
      baseOffset,
      lastOffset: offset - 1,
      logAppendTime,
      logStartOffset: this.lso,
      batchCount: count,
    };
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
      // The directory is fsynced by the next sync, on the thread pool (see markDirUnsynced).
      this.flusher.markDirUnsynced();
    } catch (err) {
      throw storageError(`rolling a segment of ${this.topic}-${this.partition} failed`, err);
    }
  }

  // ---------------------------------------------------------------- read

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
    const span = findReadSpan(
      this.segmentList,
      offset,
      maxBytes,
      maxOffset,
      opts.minOneBatch ?? true,
      this,
      this.loadIndexesFn,
      this.markCorruptFn,
    );
    if (!span) return result;
    const length = span.end - span.first.position;
    result.ranges.push({
      file: span.seg.logPath,
      fd: span.seg.fd,
      position: span.first.position,
      length,
    });
    result.size = length;
    result.firstOffset = span.first.baseOffset;
    result.lastOffset = span.lastOffset;
    return result;
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
    return findOffsetForTimestamp(this.segmentList, timestamp, this.lso, this, this.loadIndexesFn);
  }

  /** ListOffsets MAX_TIMESTAMP: the largest timestamp and the last offset of its batch. */
  maxTimestamp(): TimestampAndOffset | undefined {
    this.checkOpen();
    return findMaxTimestamp(this.segmentList);
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch <= `epoch` this log knows and where it ends (the
   * start of the next epoch, or the log end offset); epoch -1 and offset -1 when none is known.
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.leaderEpochs.endOffsetFor(epoch, this.nextOffset);
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

  /** Removes a segment that left the log: renamed now, closed and unlinked after a delay. */
  scheduleDelete(seg: LogSegment): void {
    this.reaper.schedule(seg);
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
        this.flusher.markDirUnsynced();
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
    this.flusher.truncated(this.nextOffset);
    this.leaderEpochs.truncateFromEnd(this.nextOffset);
    if (this.corruption && this.corruption.offset >= this.nextOffset) this.corruption = undefined;
  }

  // ---------------------------------------------------------------- flush

  /**
   * Flushes everything appended so far (the `.log` files and their indexes) and moves the
   * recovery point to the log end offset. Concurrent calls share one flush.
   */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Called by the LogManager's scheduler: flushes when flush.ms has passed since the last one. */
  maybeFlush(): Promise<void> | undefined {
    if (this.closed) return undefined;
    return this.flusher.maybeFlush(this.config['flush.ms']);
  }

  /** Flushes and closes all files. The log cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flusher.idle();
      this.closed = true;
      for (const seg of this.segmentList) {
        seg.flushSync();
        seg.close();
      }
      this.flusher.closed();
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
    return this.reaper.retire([...this.segmentList], this.config['file.delete.delay.ms']);
  }

  private reapAll(): void {
    this.reaper.reapAll();
  }

  /**
   * Scrub: reads every batch of every segment and checks its CRC (reads only check headers).
   * Damage is recorded like damage found by a read (reads at or past it fail) and returned.
   * Yields to the event loop every 4 MiB.
   */
  async verify(): Promise<CorruptRecordError | undefined> {
    this.checkOpen();
    const err = await scrubSegments(
      () => this.segmentList,
      this,
      this.lso,
      () => this.closed,
    );
    if (err) this.markCorrupt(err);
    return err;
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
    this.flusher.failed = undefined;
  }
}
