/**
 * Kafka's leader epoch cache: for each leader epoch, the first offset written in it, persisted in
 * the partition's `leader-epoch-checkpoint`. Replication uses it to answer OffsetForLeaderEpoch
 * (the end offset of an epoch is the start offset of the next one, or the log end offset).
 */
import { join } from 'node:path';
import {
  CheckpointFormatError,
  readEpochCheckpoint,
  writeEpochCheckpoint,
} from './checkpoint-file.js';
import { fsyncFile, fsyncFileAsync } from './fs-util.js';
import { LEADER_EPOCH_CHECKPOINT } from './naming.js';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  private entries: EpochEntry[];
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, LEADER_EPOCH_CHECKPOINT);
    try {
      this.entries = readEpochCheckpoint(this.path);
    } catch (err) {
      // A damaged checkpoint loses only epoch history, which replication can rebuild; start empty.
      if (!(err instanceof CheckpointFormatError)) throw err;
      this.entries = [];
    }
  }

  /** All entries, oldest first. */
  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  get latestEpoch(): number | undefined {
    return this.entries.at(-1)?.epoch;
  }

  /** Records that `epoch` starts at `startOffset` (a no-op unless the epoch is new). */
  assign(epoch: number, startOffset: number): void {
    const last = this.entries.at(-1);
    if (last && (epoch <= last.epoch || startOffset < last.startOffset)) return;
    this.entries.push({ epoch, startOffset });
    this.persist();
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch <= `epoch` and the end offset of that epoch (the
   * start of the next epoch, or `logEndOffset` for the latest). Undefined epoch (-1) when unknown.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    let found = -1;
    for (let i = 0; i < this.entries.length; i++) if (this.entries[i].epoch <= epoch) found = i;
    if (found < 0) return { epoch: -1, endOffset: -1 };
    const next = this.entries[found + 1];
    return { epoch: this.entries[found].epoch, endOffset: next ? next.startOffset : logEndOffset };
  }

  /** After the log is truncated to `offset`: forget epochs that start at or after it. */
  truncateFromEnd(offset: number): void {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < offset);
    if (this.entries.length !== before) this.persist();
  }

  /** After the log start offset moves to `offset`: the epoch that covers it now starts there. */
  truncateFromStart(offset: number): void {
    let i = 0;
    while (i + 1 < this.entries.length && this.entries[i + 1].startOffset <= offset) i++;
    const head = this.entries[i];
    if (!head || head.startOffset >= offset) return;
    this.entries = [{ epoch: head.epoch, startOffset: offset }, ...this.entries.slice(i + 1)];
    this.persist();
  }

  /** The file lags the entries (a write failed); retried by persistIfDirty(). */
  private dirty = false;
  /** The file was rewritten but is not fsynced yet; the log's next sync does it. */
  private unsynced = false;
  /** The fsync in flight: a sync that starts meanwhile waits for it too. */
  private syncing: Promise<void> | undefined;

  /**
   * Writes the checkpoint into the page cache (it survives a process crash at once). It is
   * fsynced by the log's next flush or group commit sync, on the thread pool: fsynced here, on
   * the first append of every partition and every new epoch, it stalled the event loop for two
   * disk cache flushes (3-27 ms measured). A power loss before that sync may lose the new entry,
   * but not the batches' own epochs: recovery reassigns epochs from the batches it rescans.
   * A failure (disk full) must not fail the append that found a new epoch, whose data is already
   * written: the entries stay in memory, the file is marked dirty and rewritten by the next flush.
   */
  private persist(): void {
    try {
      writeEpochCheckpoint(this.path, this.entries);
      this.dirty = false;
      this.unsynced = true;
    } catch {
      this.dirty = true;
    }
  }

  /** Rewrites the checkpoint if an earlier write failed; throws if it fails again. */
  persistIfDirty(): void {
    if (!this.dirty) return;
    writeEpochCheckpoint(this.path, this.entries);
    this.dirty = false;
    this.unsynced = true;
  }

  /** Makes the last write durable (file and directory) on the thread pool; resolves at once if it is. */
  sync(): Promise<void> | undefined {
    if (this.unsynced) {
      this.unsynced = false;
      const p: Promise<void> = fsyncFileAsync(this.path)
        .catch((err: unknown) => {
          this.unsynced = true;
          throw err;
        })
        .finally(() => {
          if (this.syncing === p) this.syncing = undefined;
        });
      this.syncing = p;
    }
    return this.syncing;
  }

  /** The same, synchronously (when the log closes). */
  syncNow(): void {
    if (!this.unsynced) return;
    fsyncFile(this.path);
    this.unsynced = false;
  }
}
