/**
 * What the consumer hands out: the records fetched for one partition, kept as the fetched bytes.
 * Records are decoded only when iterated (keys, values and header values are views into the
 * fetch response, not copies).
 */
import { RecordCursor } from '../../protocol/record-batch/cursor.js';
import type { RecordBatch } from '../../protocol/record-batch/batch.js';
import type { RecordHeader } from '../../protocol/record-batch/types.js';

/** One consumed record. `key`, `value` and header values are views into the fetched buffer. */
export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** Leader epoch of the batch the record came in (-1 when unknown). */
  leaderEpoch: number;
}

/** Aborted transaction ranges of a fetch (read_committed). */
export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
}

/**
 * The records of one partition from one fetch. Iterate it (`for (const r of batch)`) or call
 * {@link ConsumerBatch.records}; {@link ConsumerBatch.forEachValue} walks values without a record
 * object each.
 */
export class ConsumerBatch implements Iterable<ConsumerRecord> {
  readonly topic: string;
  readonly partition: number;
  /** The partition's high watermark at fetch time. */
  readonly highWatermark: number;
  /** Offset after the last record of this batch: the position once it is processed. */
  readonly nextOffset: number;
  /** @internal assignment epoch the batch belongs to; a seek or rebalance makes it stale. */
  readonly epoch: number;
  private readonly batches: RecordBatch[];
  private readonly fromOffset: number;
  private readonly aborted: AbortedTxn[] | null;

  constructor(
    topic: string,
    partition: number,
    batches: RecordBatch[],
    fromOffset: number,
    nextOffset: number,
    highWatermark: number,
    epoch: number,
    aborted: AbortedTxn[] | null,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.batches = batches;
    this.fromOffset = fromOffset;
    this.nextOffset = nextOffset;
    this.highWatermark = highWatermark;
    this.epoch = epoch;
    this.aborted =
      aborted && aborted.length > 0
        ? [...aborted].sort((a, b) => a.firstOffset - b.firstOffset)
        : null;
  }

  /** Records the consumer is behind the high watermark after this batch. */
  get lag(): number {
    return Math.max(0, this.highWatermark - this.nextOffset);
  }

  /** True when the batch holds no record to deliver (e.g. only control records). */
  get isEmpty(): boolean {
    let empty = true;
    this.visit(() => {
      empty = false;
      return false;
    });
    return empty;
  }

  /**
   * A predicate over the batches in order: skips batches before the fetch position, control
   * batches and, under read_committed, batches of aborted transactions. Stateful (it tracks
   * which producers are inside an aborted range), so use a fresh one per walk.
   */
  private batchFilter(): (batch: RecordBatch) => boolean {
    const aborted = this.aborted;
    const from = this.fromOffset;
    if (!aborted) return (batch) => batch.lastOffset >= from && !batch.isControl;
    const open = new Set<number>();
    let next = 0;
    return (batch) => {
      while (next < aborted.length && aborted[next].firstOffset <= batch.lastOffset) {
        open.add(aborted[next].producerId);
        next++;
      }
      if (batch.isControl) {
        // The abort (or commit) marker closes the producer's aborted range.
        open.delete(batch.producerId);
        return false;
      }
      if (batch.lastOffset < from) return false;
      return !(batch.isTransactional && open.has(batch.producerId));
    };
  }

  /**
   * A reader over the deliverable records with one reused cursor: `next()` moves it to the next
   * record (or returns undefined after the last one), allocating nothing per record. The cursor
   * is only valid until the following `next()`; the reader can be left and resumed at any time,
   * so a caller may stop mid-batch (to wait for something) and go on later.
   */
  reader(): ConsumerBatchReader {
    return new ConsumerBatchReader(this.batches, this.batchFilter(), this.fromOffset);
  }

  /**
   * Calls `fn` with one reused cursor for each deliverable record, stopping when it returns
   * false. No allocation per record.
   */
  private visit(fn: (cursor: RecordCursor) => boolean | undefined): void {
    const reader = this.reader();
    for (let c = reader.next(); c !== undefined; c = reader.next()) if (fn(c) === false) return;
  }

  *[Symbol.iterator](): Iterator<ConsumerRecord> {
    const reader = this.reader();
    for (let c = reader.next(); c !== undefined; c = reader.next()) {
      yield {
        topic: this.topic,
        partition: this.partition,
        offset: c.offset,
        timestamp: c.timestamp,
        key: c.key(),
        value: c.value(),
        headers: c.headerCount === 0 ? [] : c.headers(),
        leaderEpoch: reader.leaderEpoch,
      };
    }
  }

  /** Every record as an array. */
  records(): ConsumerRecord[] {
    return [...this];
  }

  /** Number of deliverable records (decodes the record framing, not the values). */
  get count(): number {
    let n = 0;
    this.visit(() => {
      n++;
      return true;
    });
    return n;
  }

  /**
   * Calls `fn(buffer, valueOffset, valueLength, offset)` for each record without allocating a
   * record object or a value view (valueLength -1 is a null value). The fastest way to read.
   */
  forEachValue(
    fn: (buffer: Buffer, valueOffset: number, valueLength: number, offset: number) => void,
  ): void {
    this.visit((c) => {
      fn(c.buffer, c.valueOffset, c.valueLength, c.offset);
      return true;
    });
  }
}

/**
 * Walks the deliverable records of a {@link ConsumerBatch} (see {@link ConsumerBatch.reader}):
 * batches before the fetch position, control batches and aborted transactions are skipped, as
 * are records before the fetch position inside the first batch.
 */
export class ConsumerBatchReader {
  /** Leader epoch of the batch the current record came in (-1 when unknown). */
  leaderEpoch = -1;
  readonly #batches: RecordBatch[];
  readonly #keep: (batch: RecordBatch) => boolean;
  readonly #from: number;
  readonly #cursor = new RecordCursor();
  /** Index of the batch after the one the cursor walks. */
  #nextBatch = 0;
  #inBatch = false;

  /** @internal use {@link ConsumerBatch.reader}. */
  constructor(batches: RecordBatch[], keep: (batch: RecordBatch) => boolean, from: number) {
    this.#batches = batches;
    this.#keep = keep;
    this.#from = from;
  }

  /** The cursor on the next deliverable record, or undefined when there is none. */
  next(): RecordCursor | undefined {
    const cursor = this.#cursor;
    for (;;) {
      if (this.#inBatch) {
        while (cursor.next()) if (cursor.offset >= this.#from) return cursor;
        this.#inBatch = false;
      }
      const batches = this.#batches;
      let batch: RecordBatch | undefined;
      while (this.#nextBatch < batches.length) {
        const b = batches[this.#nextBatch++];
        if (this.#keep(b)) {
          batch = b;
          break;
        }
      }
      if (batch === undefined) return undefined;
      batch.cursor(cursor);
      this.leaderEpoch = batch.partitionLeaderEpoch;
      this.#inBatch = true;
    }
  }
}
