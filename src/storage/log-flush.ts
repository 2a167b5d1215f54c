/**
 * When a partition log's data reaches the disk: the periodic flush (`flush.policy=interval`:
 * `flush.ms`, `flush.messages`), group commit (`flush.policy=always`), the recovery point, and
 * the refusal of appends after a failed fdatasync.
 *
 * Everything here that waits for the disk runs on the thread pool (fdatasync of the `.log` files,
 * fsync of index files and of the directory after a roll), so a flush never stalls the event
 * loop: appends go on while it runs (measured: an append during an fdatasync takes as long as any
 * other). The only synchronous steps are writes of index tails into the page cache.
 */
import { StorageError } from './errors.js';
import { fsyncDir, fsyncDirAsync } from './fs-util.js';
import { GroupCommit } from './group-commit.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import { segmentIndexFor } from './log-read.js';
import type { LogSegment } from './segment.js';

/** What the flusher reads of its log. */
export interface FlushedLog {
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  readonly segments: readonly LogSegment[];
  readonly logEndOffset: number;
  readonly leaderEpochs: LeaderEpochCache;
}

/** Counters for tests, metrics and the benchmark. */
export interface FlushStats {
  /** fdatasync rounds (group commit and flushes). */
  syncs: number;
  /** Completed flushes (the recovery point moved). */
  flushes: number;
}

export class LogFlusher {
  /** Everything below this offset is on disk with its indexes (Kafka's recovery point). */
  recoveryPoint: number;
  /** Set after an fdatasync failure: the page cache may have dropped data, so appends are refused. */
  failed: StorageError | undefined;
  readonly stats: FlushStats = { syncs: 0, flushes: 0 };
  private readonly groupCommit: GroupCommit;
  private syncsInFlight = 0;
  /** A segment was created since the last sync: its directory entry is not durable yet. */
  private dirUnsynced = false;
  /** The directory fsync in flight: a sync that starts meanwhile must wait for it too. */
  private dirSyncing: Promise<void> | undefined;
  private flushing: Promise<void> | undefined;
  private unflushedMessages = 0;
  private lastFlushMs: number;

  constructor(
    private readonly log: FlushedLog,
    recoveryPoint: number,
    private readonly now: () => number,
  ) {
    this.recoveryPoint = recoveryPoint;
    this.lastFlushMs = now();
    this.groupCommit = new GroupCommit(
      log.logEndOffset,
      () => this.log.logEndOffset,
      (from, to) => this.syncData(from, to),
    );
  }

  /** With flush.policy=always: every offset below this is fdatasynced. */
  get durableOffset(): number {
    return this.groupCommit.durableOffset;
  }

  /** True while an fdatasync may be using a descriptor (closing one must wait). */
  get syncing(): boolean {
    return this.syncsInFlight > 0;
  }

  /** Resolves once every offset below `offset` is fdatasynced (group commit). */
  waitForDurable(offset: number): Promise<void> {
    return this.groupCommit.waitFor(offset);
  }

  /** Counts appended records; true once `flush.messages` of them wait for a flush. */
  noteAppended(records: number, flushMessages: number): boolean {
    this.unflushedMessages += records;
    return this.unflushedMessages >= flushMessages;
  }

  /**
   * A segment file was created (a roll): its name must survive a power loss too (fdatasync of
   * the file alone does not persist it). The next sync fsyncs the directory on the thread pool,
   * before anything in the new segment counts as durable; done at the roll itself, the directory
   * fsync stalled the event loop on every roll.
   */
  markDirUnsynced(): void {
    this.dirUnsynced = true;
  }

  /** After a truncation to `offset` (the new log end). */
  truncated(offset: number): void {
    this.recoveryPoint = Math.min(this.recoveryPoint, offset);
    this.groupCommit.truncate(offset);
  }

  /** Segments that hold offsets in [from, to). */
  private segmentsBetween(from: number, to: number): LogSegment[] {
    const list = this.log.segments;
    const out: LogSegment[] = [];
    for (let i = segmentIndexFor(list, from); i < list.length; i++) {
      if (list[i].baseOffset >= to && i > 0) break;
      out.push(list[i]);
    }
    return out;
  }

  /** fdatasync of the `.log` files holding [from, to) and, after a roll, of the directory. */
  private async syncData(from: number, to: number): Promise<void> {
    const segs = this.segmentsBetween(from, to);
    this.stats.syncs++;
    this.syncsInFlight++;
    try {
      // A flush and a group commit sync may overlap: the one that did not start the directory
      // fsync still waits for it, so neither counts a new segment durable before its name is.
      const dirSync = this.dirUnsynced ? this.syncDir() : this.dirSyncing;
      await Promise.all([
        dirSync,
        this.log.leaderEpochs.sync(),
        ...segs.map((s) => s.syncDataAsync()),
      ]);
    } catch (err) {
      this.failed = new StorageError(
        `fdatasync of ${this.log.topic}-${this.log.partition} failed; the log refuses appends until it is reopened`,
        { cause: err },
      );
      throw this.failed;
    } finally {
      this.syncsInFlight--;
    }
  }

  private syncDir(): Promise<void> {
    this.dirUnsynced = false;
    const p: Promise<void> = fsyncDirAsync(this.log.dir).finally(() => {
      if (this.dirSyncing === p) this.dirSyncing = undefined;
    });
    this.dirSyncing = p;
    return p;
  }

  /**
   * Flushes everything appended so far (the `.log` files and their indexes) and moves the
   * recovery point to the log end offset. Concurrent calls share one flush.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    const to = this.log.logEndOffset;
    if (to <= this.recoveryPoint) return Promise.resolve();
    const run = async (): Promise<void> => {
      const segs = this.segmentsBetween(this.recoveryPoint, to);
      for (const s of segs) {
        s.offsetIndex.flush(false);
        s.timeIndex.flush(false);
      }
      this.log.leaderEpochs.persistIfDirty();
      await this.syncData(this.recoveryPoint, to);
      // Index files are small; fsync them after the data so the recovery point only moves once
      // both are durable.
      await Promise.all(
        segs.flatMap((s) => [s.offsetIndex.flushDurable(), s.timeIndex.flushDurable()]),
      );
      this.recoveryPoint = Math.max(this.recoveryPoint, Math.min(to, this.log.logEndOffset));
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

  /** A flush when `flushMs` has passed since the last one and something is unflushed. */
  maybeFlush(flushMs: number): Promise<void> | undefined {
    if (this.log.logEndOffset <= this.recoveryPoint) return undefined;
    if (this.now() - this.lastFlushMs < flushMs) return undefined;
    return this.flush();
  }

  /** Waits until no flush or group commit sync is running (before closing the files). */
  async idle(): Promise<void> {
    while (this.flushing || this.groupCommit.inFlight) {
      await this.flushing?.catch(() => undefined);
      if (this.groupCommit.inFlight) await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** At close, after the segments were fsynced: the directory and epochs too, then all is on disk. */
  closed(): void {
    this.log.leaderEpochs.syncNow();
    if (this.dirUnsynced) fsyncDir(this.log.dir);
    this.dirUnsynced = false;
    this.recoveryPoint = this.log.logEndOffset;
  }
}
