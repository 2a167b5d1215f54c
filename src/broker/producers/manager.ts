/**
 * Idempotent producers on the broker: InitProducerId's ids and epochs, and per partition the
 * producer state that lets Produce drop retried duplicates and refuse out-of-order or fenced
 * batches. A partition's state is rebuilt from its log the first time it is needed, starting from
 * the newest snapshot (`<offset>.snapshot` in the partition directory, written periodically and
 * at shutdown) so that startup does not rescan whole logs.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32c } from '../../protocol/crc32c.js';
import { ErrorCode } from '../../protocol/errors.js';
import { BATCH_HEADER_SIZE, BatchHeader } from '../../protocol/record-batch/header.js';
import { writeFileAtomic } from '../../storage/fs-util.js';
import { readLogSync } from '../../storage/read-range.js';
import type { AppendOptions, Log } from '../../storage/log.js';
import { PartitionProducerState } from './partition-state.js';
import { ProducerIdManager } from './producer-ids.js';

export const SNAPSHOT_SUFFIX = '.snapshot';
/** How often dirty partitions get a new snapshot. */
export const SNAPSHOT_INTERVAL_MS = 60000;

/** What Produce does with a partition's batch after the idempotence check. */
export interface ProduceCheck {
  /** NONE to go on. */
  errorCode: number;
  message: string | null;
  /** For a retried batch already in the log: its original base offset (else -1). */
  duplicateOffset: number;
  /** Pass to Log.append: records the batch's producer state once its offset is assigned. */
  appendOptions: AppendOptions;
}

const OK: ProduceCheck = {
  errorCode: ErrorCode.NONE,
  message: null,
  duplicateOffset: -1,
  appendOptions: {},
};
const READ_CHUNK = 1024 * 1024;

function snapshotName(offset: number): string {
  return `${String(offset).padStart(20, '0')}${SNAPSHOT_SUFFIX}`;
}

interface Tracked {
  state: PartitionProducerState;
  /** The log end offset the state reflects at the last snapshot. */
  snapshotOffset: number;
  /** The log start offset producers were last checked against (retention moves it rarely). */
  logStartOffset: number;
}

export class ProducerStateManager {
  readonly ids: ProducerIdManager;
  readonly #states = new Map<Log, Tracked>();
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;

  constructor(dataDir: string, log: Logger) {
    this.ids = new ProducerIdManager(dataDir);
    this.#log = log;
  }

  /** Starts periodic snapshots. */
  start(intervalMs = SNAPSHOT_INTERVAL_MS): void {
    this.#timer = setInterval(() => this.snapshotAll(), intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and snapshots every partition (call before the logs close). */
  shutdown(): void {
    clearInterval(this.#timer);
    this.snapshotAll();
  }

  /**
   * The idempotence check for one Produce partition (one batch, already validated). Plain
   * batches pass; transactional ones are refused until transactions exist.
   */
  checkAppend(log: Log, records: Buffer, transactionalId: string | null): ProduceCheck {
    const producerId = BatchHeader.producerId(records);
    if (transactionalId !== null || BatchHeader.isTransactional(records)) {
      return {
        ...OK,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        message: 'Transactions are not supported by this broker yet',
      };
    }
    if (producerId < 0) return OK;
    const epoch = BatchHeader.producerEpoch(records);
    const firstSeq = BatchHeader.baseSequence(records);
    const count = BatchHeader.lastOffsetDelta(records) + 1;
    if (producerId >= this.ids.reservedEnd) {
      return {
        ...OK,
        errorCode: ErrorCode.UNKNOWN_PRODUCER_ID,
        message: `Producer id ${producerId} was never issued by this broker`,
      };
    }
    const state = this.stateFor(log);
    const verdict = state.check(producerId, epoch, firstSeq, count);
    if (verdict.kind === 'error')
      return { ...OK, errorCode: verdict.errorCode, message: verdict.message };
    if (verdict.kind === 'duplicate') return { ...OK, duplicateOffset: verdict.batch.firstOffset };
    return {
      ...OK,
      appendOptions: {
        onBatch: (buf, at) => {
          const base = BatchHeader.baseOffset(buf, at);
          state.record(
            producerId,
            epoch,
            firstSeq,
            count,
            base,
            base + count - 1,
            BatchHeader.maxTimestamp(buf, at),
          );
        },
      },
    };
  }

  /** The partition's state, rebuilt from snapshot + log on first use. */
  stateFor(log: Log): PartitionProducerState {
    let t = this.#states.get(log);
    if (!t || log.isClosed) {
      t = this.#load(log);
      this.#states.set(log, t);
    }
    if (log.logStartOffset !== t.logStartOffset) {
      t.logStartOffset = log.logStartOffset;
      t.state.truncateHead(t.logStartOffset);
    }
    return t.state;
  }

  #load(log: Log): Tracked {
    const started = performance.now();
    let state = new PartitionProducerState();
    let from = log.logStartOffset;
    for (const { offset, path } of this.#snapshots(log).reverse()) {
      if (offset > log.logEndOffset || offset < log.logStartOffset) continue;
      try {
        const buf = readFileSync(path);
        if (buf.length < 4 || buf.readUInt32BE(0) !== crc32c(buf.subarray(4)))
          throw new Error('checksum mismatch');
        state = PartitionProducerState.deserialize(buf.subarray(4));
        from = offset;
        break;
      } catch (err) {
        this.#log.warn(
          { path, err: (err as Error).message },
          'ignored an unreadable producer snapshot',
        );
      }
    }
    const scanned = this.#scan(log, from, state);
    this.#log.debug(
      {
        topic: log.topic,
        partition: log.partition,
        from,
        batches: scanned,
        ms: Math.round(performance.now() - started),
      },
      'producer state loaded',
    );
    state.truncateHead(log.logStartOffset);
    return { state, snapshotOffset: from, logStartOffset: log.logStartOffset };
  }

  /** Replays batch headers from `from` to the log end into `state`; returns batches read. */
  #scan(log: Log, from: number, state: PartitionProducerState): number {
    let batches = 0;
    readLogSync(log, from, Buffer.allocUnsafe(READ_CHUNK), READ_CHUNK, (buf, length) => {
      let pos = 0;
      while (pos + BATCH_HEADER_SIZE <= length) {
        const size = BatchHeader.totalSize(buf, pos);
        if (size < BATCH_HEADER_SIZE || pos + size > length) break; // not a whole batch
        const pid = BatchHeader.producerId(buf, pos);
        if (pid >= 0 && !BatchHeader.isControl(buf, pos)) {
          const base = BatchHeader.baseOffset(buf, pos);
          const count = BatchHeader.lastOffsetDelta(buf, pos) + 1;
          state.record(
            pid,
            BatchHeader.producerEpoch(buf, pos),
            BatchHeader.baseSequence(buf, pos),
            count,
            base,
            base + count - 1,
            BatchHeader.maxTimestamp(buf, pos),
          );
        }
        batches++;
        pos += size;
      }
    });
    return batches;
  }

  #snapshots(log: Log): { offset: number; path: string }[] {
    let names: string[];
    try {
      names = readdirSync(log.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith(SNAPSHOT_SUFFIX) && /^\d{20}\.snapshot$/.test(n))
      .map((n) => ({ offset: Number(n.slice(0, 20)), path: join(log.dir, n) }))
      .sort((a, b) => a.offset - b.offset);
  }

  /** Writes a snapshot of every partition whose log moved since its last one; keeps two per partition. */
  snapshotAll(): void {
    for (const [log, t] of this.#states) {
      if (log.isClosed) {
        this.#states.delete(log);
        continue;
      }
      const end = log.logEndOffset;
      if (end === t.snapshotOffset) continue;
      try {
        this.#writeSnapshot(log, t.state, end);
        t.snapshotOffset = end;
      } catch (err) {
        this.#log.warn(
          { topic: log.topic, partition: log.partition, err: (err as Error).message },
          'producer snapshot failed',
        );
      }
    }
  }

  #writeSnapshot(log: Log, state: PartitionProducerState, offset: number): void {
    const body = state.serialize();
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(crc32c(body), 0);
    const path = join(log.dir, snapshotName(offset));
    writeFileAtomic(path, [head, body]);
    const all = this.#snapshots(log);
    for (const old of all.slice(0, -2)) rmSync(old.path, { force: true });
  }

  /** InitProducerId for an idempotent producer (no transactional id). */
  initProducerId(
    producerId: number,
    producerEpoch: number,
  ): { errorCode: number; producerId: number; producerEpoch: number } {
    if (producerId < 0) return { errorCode: ErrorCode.NONE, ...this.ids.allocate() };
    const bumped = this.ids.bumpEpoch(producerId, producerEpoch);
    if (bumped === 'fenced')
      return { errorCode: ErrorCode.PRODUCER_FENCED, producerId: -1, producerEpoch: -1 };
    if (bumped === 'unknown')
      return {
        errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING,
        producerId: -1,
        producerEpoch: -1,
      };
    return { errorCode: ErrorCode.NONE, ...bumped };
  }
}
