/**
 * The LogManager owns one data directory: it opens every partition log at startup (recovering
 * those left by a crash), creates and deletes logs, keeps Kafka's data-dir checkpoints
 * (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`,
 * `cleaner-offset-checkpoint`) and clean-shutdown marker (`.kafka_cleanshutdown`), and runs the
 * flusher, retention and the cleaner on a schedule.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CheckpointFormatError,
  formatOffsetCheckpoint,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
} from './checkpoint-file.js';
import { Cleaner, type CleanerStats } from './cleaner.js';
import { type LogConfig, isCompacted, logConfig } from './config.js';
import { StorageError, storageError } from './errors.js';
import { fsyncDir, fsyncDirAsync, writeFileAtomic, writeFileAtomicAsync } from './fs-util.js';
import { Log } from './log.js';
import { parsePartitionDirName, partitionDirName } from './naming.js';
import type { SegmentIo } from './segment.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';
const DELETE_DIR_SUFFIX = '-delete';

/** Broker-level settings of the LogManager (Kafka's `log.*` server configs). */
export interface LogManagerConfig {
  /** Config of a topic's logs at startup (the broker knows topic configs); default: defaults. */
  topicConfig?: (topic: string) => LogConfig | undefined;
  /** log.retention.check.interval.ms (Kafka: 300000). */
  retentionCheckIntervalMs?: number;
  /** log.flush.scheduler.interval.ms: how often logs are checked against flush.ms (default 100). */
  flushCheckIntervalMs?: number;
  /** log.flush.offset.checkpoint.interval.ms (Kafka: 60000). */
  checkpointIntervalMs?: number;
  /** log.cleaner.enable (default true). */
  cleanerEnabled?: boolean;
  /** log.cleaner.backoff.ms: pause between cleaner passes (Kafka: 15000). */
  cleanerBackoffMs?: number;
  /** Most keys the cleaner's offset map holds per pass (default 2,000,000). */
  cleanerMaxMapKeys?: number;
  /** Fault injection and clocks for tests. */
  io?: SegmentIo;
  now?: () => number;
}

/**
 * A partition whose opening dropped data: what recovery cut from it and why. The broker logs one
 * line per entry, so that an operator sees what a crash or a damaged disk cost.
 */
export interface RecoveredPartition {
  topic: string;
  partition: number;
  /** Segments rescanned (every batch CRC-checked) for this partition. */
  segmentsScanned: number;
  /** Bytes removed: a torn or damaged tail, and every later segment. */
  truncatedBytes: number;
  /** The log end offset after recovery: offsets from here on were dropped (if they existed). */
  logEndOffset: number;
  /** The damage recovery stopped at (file and reason); absent when only a clean tail was cut. */
  problem?: string;
}

export interface PartitionSize {
  topic: string;
  partition: number;
  size: number;
  logStartOffset: number;
  logEndOffset: number;
  segments: number;
}

const key = (topic: string, partition: number): string => `${topic}-${partition}`;

export class LogManager {
  private readonly logMap = new Map<string, Log>();
  private readonly cleanerOffsets: Map<string, number>;
  private timer: NodeJS.Timeout | undefined;
  private lastRetention = 0;
  private lastCheckpoint = 0;
  private lastCleaning = 0;
  private running: Promise<unknown> | undefined;
  private closed = false;
  readonly cleaner: Cleaner;
  private readonly now: () => number;
  /** Whether the previous run ended with a clean shutdown (recovery was skipped). */
  readonly hadCleanShutdown: boolean;
  /** Milliseconds taken by open() to load every log. */
  readonly startupMs: number;
  /** Partitions whose recovery at open dropped bytes or met damage (see {@link RecoveredPartition}). */
  readonly recovered: RecoveredPartition[] = [];
  /** Segments rescanned at open (0 after a clean shutdown unless something looked wrong). */
  readonly segmentsScanned: number = 0;
  private readonly background = new Set<Promise<unknown>>();
  /** Early closers of deleted logs whose descriptors stay open for file.delete.delay.ms. */
  private readonly retired = new Set<() => void>();

  private constructor(
    readonly dataDir: string,
    readonly config: LogManagerConfig,
  ) {
    const started = performance.now();
    this.now = config.now ?? Date.now;
    mkdirSync(dataDir, { recursive: true });
    const marker = join(dataDir, CLEAN_SHUTDOWN_FILE);
    this.hadCleanShutdown = existsSync(marker);
    const recoveryPoints = this.readCheckpoint(RECOVERY_POINT_CHECKPOINT);
    const startOffsets = this.readCheckpoint(LOG_START_OFFSET_CHECKPOINT);
    this.cleanerOffsets = this.readCheckpoint(CLEANER_OFFSET_CHECKPOINT);
    for (const name of readdirSync(dataDir, { withFileTypes: true })) {
      if (!name.isDirectory()) continue;
      if (name.name.endsWith(DELETE_DIR_SUFFIX)) {
        this.removeInBackground(join(dataDir, name.name));
        continue;
      }
      const tp = parsePartitionDirName(name.name);
      if (!tp) continue;
      const k = key(tp.topic, tp.partition);
      const log = Log.open({
        dir: join(dataDir, name.name),
        topic: tp.topic,
        partition: tp.partition,
        config: config.topicConfig?.(tp.topic) ?? logConfig(),
        recoveryPoint: recoveryPoints.get(k) ?? 0,
        logStartOffset: startOffsets.get(k),
        cleanShutdown: this.hadCleanShutdown,
        io: config.io,
        now: config.now,
        onLogStartOffsetChange: () => this.checkpointLogStartOffsets(),
      });
      this.logMap.set(k, log);
      this.segmentsScanned += log.recovery.segmentsScanned;
      if (log.recovery.problem !== undefined || log.recovery.truncatedBytes > 0) {
        this.recovered.push({
          topic: tp.topic,
          partition: tp.partition,
          segmentsScanned: log.recovery.segmentsScanned,
          truncatedBytes: log.recovery.truncatedBytes,
          logEndOffset: log.logEndOffset,
          ...(log.recovery.problem !== undefined ? { problem: log.recovery.problem } : {}),
        });
      }
    }
    // From here on a crash is an unclean shutdown; the marker must be gone before any append.
    rmSync(marker, { force: true });
    fsyncDir(dataDir);
    this.cleaner = new Cleaner({ now: this.now, maxMapKeys: config.cleanerMaxMapKeys });
    this.startupMs = performance.now() - started;
  }

  /** Opens every partition log under `dataDir` (creating the directory if needed). */
  static open(dataDir: string, config: LogManagerConfig = {}): LogManager {
    try {
      return new LogManager(dataDir, config);
    } catch (err) {
      throw storageError(`cannot open data dir ${dataDir}`, err);
    }
  }

  private readCheckpoint(name: string): Map<string, number> {
    try {
      return readOffsetCheckpoint(join(this.dataDir, name));
    } catch (err) {
      // A damaged checkpoint costs a longer recovery (or a smaller log start offset), not data.
      if (err instanceof CheckpointFormatError) return new Map();
      throw err;
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError(`log manager for ${this.dataDir} is shut down`);
  }

  getLog(topic: string, partition: number): Log | undefined {
    return this.logMap.get(key(topic, partition));
  }

  /** The log of a partition, created (with `topicConfig`) if it does not exist yet. */
  getOrCreateLog(topic: string, partition: number, topicConfig?: LogConfig): Log {
    this.checkOpen();
    const existing = this.getLog(topic, partition);
    if (existing) return existing;
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..')
      throw new StorageError(`invalid topic name ${JSON.stringify(topic)}`);
    if (!Number.isInteger(partition) || partition < 0)
      throw new StorageError(`invalid partition ${partition}`);
    const log = Log.open({
      dir: join(this.dataDir, partitionDirName(topic, partition)),
      topic,
      partition,
      config: topicConfig ?? this.config.topicConfig?.(topic) ?? logConfig(),
      recoveryPoint: 0,
      io: this.config.io,
      now: this.config.now,
      onLogStartOffsetChange: () => this.checkpointLogStartOffsets(),
    });
    fsyncDir(this.dataDir);
    this.logMap.set(key(topic, partition), log);
    return log;
  }

  /**
   * Deletes a partition log: closes it, renames its directory to `<dir>.<uuid>-delete` (so it is
   * gone from the data dir at once, even after a crash), and removes the files in the background.
   */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const log = this.getLog(topic, partition);
    if (!log) return;
    this.logMap.delete(key(topic, partition));
    this.cleanerOffsets.delete(key(topic, partition));
    this.retired.add(log.retire());
    const target = `${log.dir}.${randomUUID().replaceAll('-', '')}${DELETE_DIR_SUFFIX}`;
    try {
      renameSync(log.dir, target);
    } catch (err) {
      throw storageError(`cannot delete ${topic}-${partition}`, err);
    }
    // The rename is durable before this resolves (and before anything is removed); the fsync
    // waits for the disk, so it runs on the thread pool. A shutdown meanwhile waits for it.
    const rest = fsyncDirAsync(this.dataDir).then(() => {
      this.checkpointLogStartOffsets();
      this.removeInBackground(target);
    });
    this.background.add(rest);
    await rest.finally(() => this.background.delete(rest));
  }

  private removeInBackground(path: string): void {
    const p = rm(path, { recursive: true, force: true }).catch(() => undefined);
    this.background.add(p);
    p.finally(() => this.background.delete(p));
  }

  /** Every open log. */
  logs(): Log[] {
    return [...this.logMap.values()];
  }

  /** Sizes per partition (for DescribeLogDirs and metrics). */
  sizes(): PartitionSize[] {
    return this.logs().map((l) => ({
      topic: l.topic,
      partition: l.partition,
      size: l.size,
      logStartOffset: l.logStartOffset,
      logEndOffset: l.logEndOffset,
      segments: l.segments.length,
    }));
  }

  /** Applies a changed topic config to its open logs. */
  updateTopicConfig(topic: string, config: LogConfig): void {
    for (const l of this.logMap.values()) if (l.topic === topic) l.config = config;
  }

  // ------------------------------------------------------------- checkpoints

  /** Writes the recovery points and log start offsets of every log. */
  checkpoint(): void {
    const path = join(this.dataDir, RECOVERY_POINT_CHECKPOINT);
    const text = this.recoveryPointText();
    writeFileAtomic(path, text);
    this.written.set(path, text);
    this.checkpointLogStartOffsets();
  }

  /**
   * The scheduler's checkpoint: written only when it changed, and on the thread pool. Written
   * synchronously it stalled every connection for each fsync and for freeing the replaced file
   * (4-22 ms measured per checkpoint on the shared machine). The log start offsets are written
   * synchronously at every change already, so here they are only rewritten when retention
   * changed them.
   */
  private async checkpointInBackground(): Promise<void> {
    const path = join(this.dataDir, RECOVERY_POINT_CHECKPOINT);
    const text = this.recoveryPointText();
    if (this.written.get(path) !== text) {
      await writeFileAtomicAsync(path, text);
      this.written.set(path, text);
    }
    this.checkpointLogStartOffsets();
  }

  /** The text last written to each checkpoint file (so unchanged ones are not rewritten). */
  private readonly written = new Map<string, string>();

  private recoveryPointText(): string {
    return formatOffsetCheckpoint(
      this.logs().map((l) => ({ topic: l.topic, partition: l.partition, offset: l.recoveryPoint })),
    );
  }

  private checkpointLogStartOffsets(): void {
    const path = join(this.dataDir, LOG_START_OFFSET_CHECKPOINT);
    const text = formatOffsetCheckpoint(
      this.logs()
        .filter((l) => l.logStartOffset > (l.segments[0]?.baseOffset ?? 0))
        .map((l) => ({ topic: l.topic, partition: l.partition, offset: l.logStartOffset })),
    );
    if (this.written.get(path) === text) return;
    writeFileAtomic(path, text);
    this.written.set(path, text);
  }

  private checkpointCleanerOffsets(): void {
    writeOffsetCheckpoint(
      join(this.dataDir, CLEANER_OFFSET_CHECKPOINT),
      [...this.cleanerOffsets].flatMap(([k, offset]) => {
        const log = this.logMap.get(k);
        return log ? [{ topic: log.topic, partition: log.partition, offset }] : [];
      }),
    );
  }

  // ------------------------------------------------------------- background work

  /** Runs retention over every log; returns the number of segments deleted. */
  runRetention(): number {
    let n = 0;
    for (const log of this.logs()) {
      try {
        n += log.applyRetention();
      } catch {
        // One failing partition does not stop retention of the others; the next pass retries.
      }
    }
    return n;
  }

  /** Flushes logs whose flush.ms has passed. */
  async runFlushes(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const log of this.logs()) {
      const p = log.maybeFlush();
      if (p) pending.push(p.catch(() => undefined));
    }
    await Promise.all(pending);
  }

  /** One cleaner pass over compacted logs whose dirty ratio is high enough. */
  async runCleaner(): Promise<CleanerStats[]> {
    const out: CleanerStats[] = [];
    for (const log of this.logs()) {
      if (!isCompacted(log.config) || log.isClosed) continue;
      const k = key(log.topic, log.partition);
      const firstDirty = this.cleanerOffsets.get(k) ?? log.logStartOffset;
      const stats = await this.cleaner.maybeClean(log, firstDirty);
      if (stats) {
        this.cleanerOffsets.set(k, stats.cleanedUpTo);
        out.push(stats);
      }
    }
    if (out.length > 0) this.checkpointCleanerOffsets();
    return out;
  }

  /** The first dirty offset the cleaner recorded for a partition. */
  cleanerCheckpoint(topic: string, partition: number): number | undefined {
    return this.cleanerOffsets.get(key(topic, partition));
  }

  /** Starts the periodic flusher, retention, checkpointing and cleaner. */
  startScheduler(): void {
    if (this.timer) return;
    const tick = this.config.flushCheckIntervalMs ?? 100;
    const start = this.now();
    this.lastRetention = start;
    this.lastCheckpoint = start;
    this.lastCleaning = start;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    }, tick);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const now = this.now();
    await this.runFlushes();
    if (now - this.lastRetention >= (this.config.retentionCheckIntervalMs ?? 300_000)) {
      this.lastRetention = now;
      this.runRetention();
    }
    if (now - this.lastCheckpoint >= (this.config.checkpointIntervalMs ?? 60_000)) {
      this.lastCheckpoint = now;
      await this.checkpointInBackground().catch(() => {
        // Retried on the next interval; a stale checkpoint only lengthens recovery.
      });
    }
    if (
      (this.config.cleanerEnabled ?? true) &&
      now - this.lastCleaning >= (this.config.cleanerBackoffMs ?? 15_000)
    ) {
      this.lastCleaning = now;
      await this.runCleaner().catch(() => undefined);
    }
  }

  /** Stops the scheduler and waits for the running pass to end. */
  async stopScheduler(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * Clean shutdown: stops background work, flushes and closes every log, writes the checkpoints,
   * then the clean-shutdown marker (so the next startup skips recovery).
   */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.stopScheduler();
    this.closed = true;
    let failed: unknown;
    for (const log of this.logs()) {
      try {
        await log.close();
      } catch (err) {
        failed ??= err;
      }
    }
    for (const close of this.retired) close();
    this.retired.clear();
    await Promise.all(this.background);
    this.checkpoint();
    if (this.cleanerOffsets.size > 0) this.checkpointCleanerOffsets();
    // Only a fully flushed shutdown may skip recovery next time.
    if (failed === undefined) writeFileAtomic(join(this.dataDir, CLEAN_SHUTDOWN_FILE), '');
    else throw storageError(`shutdown of ${this.dataDir} was not clean`, failed);
  }
}
