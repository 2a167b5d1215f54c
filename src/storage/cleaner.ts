/**
 * The log cleaner (compaction) for `cleanup.policy=compact`: keeps the last record of every key
 * in the sealed segments, preserving offsets (gaps are normal), and removes tombstones once their
 * delete horizon has passed.
 *
 * One pass, as in Kafka: (1) build a key → last offset map over the dirty section (from the
 * cleaner checkpoint to the end of the cleanable segments); (2) recopy every sealed segment
 * from the log start, in groups that fit one segment, keeping each record that is the latest for
 * its key; (3) swap each group in through a committed manifest, so a crash leaves either the old
 * or the new segments (see log-dir.ts).
 *
 * Tombstones follow KIP-534: the first clean that keeps a tombstone stamps its batch with a
 * delete horizon (now + delete.retention.ms, in the batch header); a later clean after that
 * horizon drops it. Transactions: control batches are always kept; records of a transaction only
 * shadow older records once its commit marker is seen, so aborted or open transactions never
 * hide committed data, and records of aborted transactions are removed; a batch of an idempotent producer that becomes empty is kept empty when it
 * is that producer's last batch in the cleaned range (producer state needs it).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  BatchHeader,
  ControlRecordType,
  decodeRecordBatch,
  encodeRecordBatch,
  parseControlRecord,
  type RecordBatch,
  type RecordInput,
} from '../protocol/record-batch/index.js';
import { ChunkedBatchReader } from './batch-scan.js';
import { CorruptRecordError, storageError } from './errors.js';
import { fsyncDir } from './fs-util.js';
import type { Log } from './log.js';
import { commitSwap } from './log-dir.js';
import { CLEANED_SUFFIX, CLEANER_SWAP_MANIFEST } from './naming.js';
import { LogSegment } from './segment.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export interface CleanerStats {
  topic: string;
  partition: number;
  /** The next pass's first dirty offset (the cleaner checkpoint). */
  cleanedUpTo: number;
  segmentsBefore: number;
  segmentsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
}

export interface CleanableSection {
  /** First dirty offset (clamped to the log). */
  firstDirty: number;
  /** End (exclusive) of what may be cleaned: the active segment or min.compaction.lag.ms. */
  end: number;
  cleanBytes: number;
  dirtyBytes: number;
  ratio: number;
}

const INT32_MAX = 0x7fffffff;

/** What the first pass of a clean learns from the dirty section. */
interface OffsetMap {
  /** key (latin1 of its bytes) → offset of its last committed record. */
  latest: Map<string, number>;
  /** producerId → base offset of its last batch in the cleaned range. */
  lastBatchOfProducer: Map<number, number>;
  /** Base offsets of transactional batches whose transaction was aborted. */
  abortedBatches: Set<number>;
  /** End (exclusive) of the section this pass covers. */
  end: number;
}

export class Cleaner {
  private readonly now: () => number;

  /** Most keys the offset map may hold before a pass stops early (memory bound). */
  private readonly maxMapKeys: number;

  constructor(opts: { now?: () => number; maxMapKeys?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.maxMapKeys = opts.maxMapKeys ?? 2_000_000;
  }

  /** The clean/dirty split of a log and its dirty ratio. */
  section(log: Log, firstDirty: number): CleanableSection {
    const segs = log.segments;
    const lagMs = log.config['min.compaction.lag.ms'];
    const now = this.now();
    let endIdx = segs.length - 1; // the active segment is never cleaned
    for (let i = 0; i < endIdx; i++) {
      if (lagMs > 0 && now - segs[i].peekLargestTimestamp() < lagMs) {
        endIdx = i;
        break;
      }
    }
    const end = segs[endIdx].baseOffset;
    const from = Math.min(Math.max(firstDirty, log.logStartOffset), end);
    let cleanBytes = 0;
    let dirtyBytes = 0;
    for (let i = 0; i < endIdx; i++) {
      const nextBase = segs[i + 1].baseOffset;
      if (nextBase <= from) cleanBytes += segs[i].size;
      else dirtyBytes += segs[i].size;
    }
    const total = cleanBytes + dirtyBytes;
    return {
      firstDirty: from,
      end,
      cleanBytes,
      dirtyBytes,
      ratio: total === 0 ? 0 : dirtyBytes / total,
    };
  }

  /** Cleans when the dirty ratio reaches min.cleanable.dirty.ratio. */
  async maybeClean(log: Log, firstDirty: number): Promise<CleanerStats | undefined> {
    const s = this.section(log, firstDirty);
    if (s.dirtyBytes === 0 || s.ratio < log.config['min.cleanable.dirty.ratio']) return undefined;
    return this.clean(log, firstDirty);
  }

  /** One full cleaning pass over the log's sealed segments. */
  async clean(log: Log, firstDirty: number): Promise<CleanerStats> {
    const section = this.section(log, firstDirty);
    const now = this.now();
    const stats: CleanerStats = {
      topic: log.topic,
      partition: log.partition,
      cleanedUpTo: section.end,
      segmentsBefore: log.segments.length,
      segmentsAfter: log.segments.length,
      bytesBefore: log.size,
      bytesAfter: log.size,
      recordsRemoved: 0,
      tombstonesRemoved: 0,
    };
    let cleanable = log.segments.filter(
      (s, i, all) => i < all.length - 1 && s.baseOffset < section.end,
    );
    if (cleanable.length === 0) return stats;
    const offsetMap = await this.buildOffsetMap(log, cleanable, section.firstDirty, section.end);
    // A full map ends this pass early; the next pass continues from `end`.
    const end = offsetMap.end;
    cleanable = cleanable.filter((s) => s.baseOffset < end);
    stats.cleanedUpTo = end;
    await yieldToEventLoop();
    const deleteRetentionMs = log.config['delete.retention.ms'];
    for (const group of this.groups(log, cleanable)) {
      // Retention, truncation or DeleteRecords may have changed the log while we yielded.
      if (!this.stillInLog(log, group)) continue;
      await this.cleanGroup(log, group, offsetMap, now, deleteRetentionMs, stats);
      await yieldToEventLoop();
    }
    stats.segmentsAfter = log.segments.length;
    stats.bytesAfter = log.size;
    return stats;
  }

  private bytesSinceYield = 0;

  /**
   * Yields to the event loop every few MiB, so that a long clean does not stall the broker's
   * appends and fetches (the cleaner runs on the main thread).
   */
  private async pace(bytes: number): Promise<void> {
    this.bytesSinceYield += bytes;
    if (this.bytesSinceYield < 4 * 1024 * 1024) return;
    this.bytesSinceYield = 0;
    await yieldToEventLoop();
  }

  /** The group is still a run of sealed segments of the log (nothing deleted or truncated). */
  private stillInLog(log: Log, group: readonly LogSegment[]): boolean {
    const current = log.segments;
    const at = current.indexOf(group[0]);
    return (
      at >= 0 &&
      group.every((g, i) => current[at + i] === g) &&
      at + group.length < current.length &&
      !log.isClosed
    );
  }

  /** Walks the batches of a segment, validating CRCs; damage marks the log corrupt and aborts. */
  private *batches(log: Log, seg: LogSegment): Generator<RecordBatch> {
    const reader = new ChunkedBatchReader(seg.fd, 0, seg.size, 1 << 20);
    let min = seg.baseOffset;
    for (;;) {
      const b = reader.next(min, true);
      if (b === undefined) return;
      if (typeof b === 'string') {
        const err = new CorruptRecordError(
          log.topic,
          log.partition,
          min,
          seg.logPath,
          reader.position,
          b,
        );
        log.markCorrupt(err);
        throw err;
      }
      const batch = decodeRecordBatch(b.buf, b.at, { verifyCrc: false });
      min = batch.lastOffset + 1;
      yield batch;
    }
  }

  /** key → offset of its last committed record in the dirty section. */
  private async buildOffsetMap(
    log: Log,
    cleanable: readonly LogSegment[],
    firstDirty: number,
    sectionEnd: number,
  ): Promise<OffsetMap> {
    const map = new Map<string, number>();
    const lastBatchOfProducer = new Map<number, number>();
    // Records of open transactions, applied to the map when their commit marker is seen.
    const pending = new Map<number, [string, number][]>();
    // Base offsets of each producer's open transactional batches, and those found aborted.
    const pendingBatches = new Map<number, number[]>();
    const abortedBatches = new Set<number>();
    let end = sectionEnd;
    for (let i = 0; i < cleanable.length; i++) {
      const seg = cleanable[i];
      // Bound memory as Kafka's dedupe buffer does: stop at a segment boundary once the map is
      // full (after at least one dirty segment, so every pass makes progress).
      const next = cleanable[i + 1];
      if (map.size >= this.maxMapKeys && next && seg.baseOffset > firstDirty) {
        end = seg.baseOffset;
        break;
      }
      for (const batch of this.batches(log, seg)) {
        await this.pace(batch.sizeInBytes);
        const pid = batch.producerId;
        if (pid >= 0) lastBatchOfProducer.set(pid, batch.baseOffset);
        if (batch.lastOffset < firstDirty) continue;
        if (batch.isControl) {
          const txn = pending.get(pid);
          const txnBatches = pendingBatches.get(pid);
          pending.delete(pid);
          pendingBatches.delete(pid);
          for (const rec of batch) {
            const marker = parseControlRecord(rec.key, rec.value);
            if (marker.type === ControlRecordType.Commit && txn)
              for (const [k, o] of txn) map.set(k, o);
            if (marker.type === ControlRecordType.Abort && txnBatches)
              for (const b of txnBatches) abortedBatches.add(b);
          }
          continue;
        }
        let txn: [string, number][] | undefined;
        if (batch.isTransactional) {
          txn = pending.get(pid);
          if (!txn) pending.set(pid, (txn = []));
          let bases = pendingBatches.get(pid);
          if (!bases) pendingBatches.set(pid, (bases = []));
          bases.push(batch.baseOffset);
        }
        for (const rec of batch) {
          if (rec.key === null || rec.offset < firstDirty) continue;
          const k = rec.key.toString('latin1');
          if (txn) txn.push([k, rec.offset]);
          else map.set(k, rec.offset);
        }
      }
    }
    return { latest: map, lastBatchOfProducer, abortedBatches, end };
  }

  /** Consecutive segments whose data fits one segment (size and 32-bit relative offsets). */
  private groups(log: Log, cleanable: readonly LogSegment[]): LogSegment[][] {
    const maxBytes = log.config['segment.bytes'];
    const maxIndexEntries = Math.floor(log.config['segment.index.bytes'] / 12);
    const interval = Math.max(log.config['index.interval.bytes'], 1);
    const all = log.segments;
    const out: LogSegment[][] = [];
    let current: LogSegment[] = [];
    let bytes = 0;
    for (const seg of cleanable) {
      const next = all[all.indexOf(seg) + 1];
      const endOffset = next ? next.baseOffset - 1 : seg.baseOffset;
      const fits =
        current.length > 0 &&
        bytes + seg.size <= maxBytes &&
        endOffset - current[0].baseOffset <= INT32_MAX &&
        (bytes + seg.size) / interval < maxIndexEntries;
      if (!fits && current.length > 0) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(seg);
      bytes += seg.size;
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  private async cleanGroup(
    log: Log,
    group: readonly LogSegment[],
    offsetMap: OffsetMap,
    now: number,
    deleteRetentionMs: number,
    stats: CleanerStats,
  ): Promise<void> {
    const base = group[0].baseOffset;
    const settings = group[0].settings;
    let cleaned: LogSegment | undefined;
    try {
      cleaned = LogSegment.create(log.dir, base, settings, undefined, CLEANED_SUFFIX);
      const positions = new Float64Array(4);
      const write = (buf: Buffer): void => {
        positions[0] = 0;
        positions[1] = buf.length;
        positions[2] = BatchHeader.lastOffset(buf, 0);
        positions[3] = BatchHeader.maxTimestamp(buf, 0);
        cleaned!.append(buf, positions, 1);
      };
      for (const seg of group) {
        for (const batch of this.batches(log, seg)) {
          await this.pace(batch.sizeInBytes);
          const out = this.filterBatch(batch, offsetMap, now, deleteRetentionMs, stats);
          if (out) write(out);
        }
      }
      cleaned.seal();
      cleaned.flushSync();
      if (!this.stillInLog(log, group)) {
        // Retention or truncation changed these segments while we yielded: drop this copy.
        cleaned.close();
        cleaned.deleteFiles();
        return;
      }
      // The commit point: from here a crash completes the swap on the next open.
      commitSwap(log.dir, { base, replaced: group.map((g) => g.baseOffset) });
      for (const old of group) log.scheduleDelete(old);
      cleaned.dropSuffix();
      fsyncDir(log.dir);
      rmSync(join(log.dir, CLEANER_SWAP_MANIFEST), { force: true });
      log.replaceSegments(group, cleaned);
    } catch (err) {
      if (cleaned && !log.segments.includes(cleaned)) {
        cleaned.close();
        cleaned.deleteFiles();
      }
      throw err instanceof CorruptRecordError
        ? err
        : storageError(`cleaning ${log.topic}-${log.partition} failed`, err);
    }
  }

  /**
   * The batch as it should be after cleaning: the same buffer when nothing changes, a rebuilt
   * batch (same base offset and last offset delta) when records go, undefined when it empties.
   */
  private filterBatch(
    batch: RecordBatch,
    offsetMap: OffsetMap,
    now: number,
    deleteRetentionMs: number,
    stats: CleanerStats,
  ): Buffer | undefined {
    if (batch.isControl) return batch.buffer;
    const map = offsetMap.latest;
    // Records of an aborted transaction are never read by read_committed consumers: drop them
    // (the abort marker stays, so read_uncommitted consumers see a consistent log).
    const aborted = batch.isTransactional && offsetMap.abortedBatches.has(batch.baseOffset);
    const horizonPassed = batch.hasDeleteHorizon && now >= batch.deleteHorizonMs;
    const kept: RecordInput[] = [];
    let removed = 0;
    let hasTombstone = false;
    for (const rec of batch) {
      let keep = !aborted;
      if (keep && rec.key !== null) {
        const latest = map.get(rec.key.toString('latin1'));
        if (latest !== undefined && rec.offset < latest) keep = false;
        else if (rec.value === null) {
          if (horizonPassed) {
            keep = false;
            stats.tombstonesRemoved++;
          } else hasTombstone = true;
        }
      }
      if (keep)
        kept.push({
          key: rec.key,
          value: rec.value,
          headers: rec.headers,
          timestamp: rec.timestamp,
          offsetDelta: rec.offsetDelta,
        });
      else removed++;
    }
    stats.recordsRemoved += removed;
    const needsHorizon = hasTombstone && !batch.hasDeleteHorizon;
    if (removed === 0 && !needsHorizon) return batch.buffer;
    const keepEmpty =
      batch.producerId >= 0 &&
      offsetMap.lastBatchOfProducer.get(batch.producerId) === batch.baseOffset;
    if (kept.length === 0 && !keepEmpty) return undefined;
    const horizon = batch.hasDeleteHorizon
      ? batch.deleteHorizonMs
      : needsHorizon
        ? now + deleteRetentionMs
        : undefined;
    return encodeRecordBatch({
      records: kept,
      baseOffset: batch.baseOffset,
      lastOffsetDelta: batch.lastOffsetDelta,
      partitionLeaderEpoch: batch.partitionLeaderEpoch,
      producerId: batch.producerId,
      producerEpoch: batch.producerEpoch,
      baseSequence: batch.baseSequence,
      compression: batch.compression,
      timestampType: batch.timestampType,
      transactional: batch.isTransactional,
      deleteHorizonMs: horizon,
      timestamp: batch.maxTimestamp,
      maxTimestamp: kept.length === 0 || batch.timestampType === 1 ? batch.maxTimestamp : undefined,
    });
  }
}
