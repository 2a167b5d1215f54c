/**
 * One partition's idempotent producer state: per producer id, the epoch and the sequence ranges
 * and offsets of its last five batches (Kafka's ProducerStateEntry). Decides whether an incoming
 * batch is the next in sequence, a retried duplicate, out of order, or from a fenced epoch.
 */
import { ErrorCode } from '../../protocol/errors.js';
import { Reader, Writer } from '../../protocol/primitives/index.js';

/** Kafka keeps this many batches per producer for duplicate detection (max.in.flight = 5). */
export const BATCHES_PER_PRODUCER = 5;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

export interface ProducerEntry {
  epoch: number;
  /** Oldest first, at most {@link BATCHES_PER_PRODUCER}. */
  batches: BatchMetadata[];
  lastTimestamp: number;
}

/** The verdict on an incoming batch. */
export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; errorCode: number; message: string };

const INT32_MAX = 0x7fffffff;

/** The sequence after `seq` (sequences wrap at Int32.MAX_VALUE). */
function nextSeq(seq: number, count: number): number {
  const n = seq + count;
  return n > INT32_MAX ? n - INT32_MAX - 1 : n;
}

export class PartitionProducerState {
  readonly producers = new Map<number, ProducerEntry>();

  /** Checks a client batch of `count` records from `producerId` at `epoch` starting at `firstSeq`. */
  check(producerId: number, epoch: number, firstSeq: number, count: number): SequenceCheck {
    const entry = this.producers.get(producerId);
    const lastSeq = nextSeq(firstSeq, count - 1);
    if (!entry) {
      if (firstSeq === 0) return { kind: 'append' };
      return {
        kind: 'error',
        errorCode: ErrorCode.UNKNOWN_PRODUCER_ID,
        message: `No state for producer ${producerId} in this partition; sequence ${firstSeq} is not a first sequence`,
      };
    }
    if (epoch < entry.epoch) {
      return {
        kind: 'error',
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `Producer ${producerId}'s epoch ${epoch} is older than the current epoch ${entry.epoch}`,
      };
    }
    if (epoch > entry.epoch) {
      if (firstSeq === 0) return { kind: 'append' };
      return {
        kind: 'error',
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `Invalid sequence ${firstSeq} for new epoch ${epoch} of producer ${producerId} (expected 0)`,
      };
    }
    for (const b of entry.batches) {
      if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return { kind: 'duplicate', batch: b };
    }
    const last = entry.batches.at(-1);
    const expected = last ? nextSeq(last.lastSeq, 1) : 0;
    if (firstSeq !== expected) {
      return {
        kind: 'error',
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `Out of order sequence for producer ${producerId} at epoch ${epoch}: ${firstSeq} (incoming), ${last ? last.lastSeq : -1} (last appended)`,
      };
    }
    return { kind: 'append' };
  }

  /** Records an appended batch (also used when rebuilding from the log). */
  record(
    producerId: number,
    epoch: number,
    firstSeq: number,
    count: number,
    firstOffset: number,
    lastOffset: number,
    timestamp: number,
  ): void {
    let entry = this.producers.get(producerId);
    if (!entry || epoch > entry.epoch) {
      entry = { epoch, batches: [], lastTimestamp: timestamp };
      this.producers.set(producerId, entry);
    } else if (epoch < entry.epoch) {
      return;
    }
    entry.batches.push({
      firstSeq,
      lastSeq: nextSeq(firstSeq, count - 1),
      firstOffset,
      lastOffset,
    });
    if (entry.batches.length > BATCHES_PER_PRODUCER) entry.batches.shift();
    entry.lastTimestamp = timestamp;
  }

  /**
   * Forgets producers whose every batch is below the log start offset (retention or
   * DeleteRecords removed them), as Kafka does.
   */
  truncateHead(logStartOffset: number): void {
    for (const [pid, e] of this.producers) {
      const last = e.batches.at(-1);
      if (!last || last.lastOffset < logStartOffset) this.producers.delete(pid);
    }
  }

  /** A snapshot: version, producer count, then each producer with its batches. */
  serialize(): Buffer {
    const w = new Writer(64 + this.producers.size * 64).int16(1).int32(this.producers.size);
    for (const [pid, e] of this.producers) {
      w.int64Number(pid).int16(e.epoch).int64Number(e.lastTimestamp).int8(e.batches.length);
      for (const b of e.batches)
        w.int32(b.firstSeq).int32(b.lastSeq).int64Number(b.firstOffset).int64Number(b.lastOffset);
    }
    return w.finish();
  }

  static deserialize(buf: Buffer): PartitionProducerState {
    const r = new Reader(buf);
    const version = r.int16();
    if (version !== 1) throw new Error(`producer snapshot version ${version}`);
    const state = new PartitionProducerState();
    const n = r.int32();
    for (let i = 0; i < n; i++) {
      const pid = r.int64Number();
      const epoch = r.int16();
      const lastTimestamp = r.int64Number();
      const count = r.int8();
      const batches: BatchMetadata[] = [];
      for (let j = 0; j < count; j++)
        batches.push({
          firstSeq: r.int32(),
          lastSeq: r.int32(),
          firstOffset: r.int64Number(),
          lastOffset: r.int64Number(),
        });
      state.producers.set(pid, { epoch, batches, lastTimestamp });
    }
    return state;
  }
}
