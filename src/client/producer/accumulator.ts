/**
 * The record accumulator: a queue of batches per partition, the open batch at its tail taking
 * appends, and the buffer-memory bound that makes `send` wait when the producer is too far ahead
 * of the brokers (each batch counts the bytes it has allocated: it starts small and grows up to
 * `batchSize`, or to its one large record's size).
 */
import { TimeoutError } from '../errors.js';
import { BatchBuilder, type Bytes, type ProducerHeader } from './batch-builder.js';
import type { Partitioner } from './partitioner.js';
import { CallWaiter, type SendCall } from './send-call.js';

/** One partition's batches in send order, and its sequence and in-flight counts. */
export interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  batches: BatchBuilder[];
  /** Produce requests carrying a batch of this partition, unanswered. */
  inFlight: number;
  /** Sequence of the next batch built (idempotence). */
  nextSequence: number;
  /** Bytes written into the partition's latest batch: what its next batch is sized for. */
  lastSize: number;
}

/** Accumulator settings. */
export interface AccumulatorOptions {
  readonly batchSize: number;
  readonly bufferMemory: number;
  readonly maxBlockMs: number;
  readonly partitioner: Partitioner;
}

export class RecordAccumulator {
  /** Queues by topic, then partition. */
  readonly queues = new Map<string, Map<number, PartitionQueue>>();
  /** Bytes reserved by batches not yet acknowledged. */
  bufferedBytes = 0;
  /** Batches not yet acknowledged (or failed). */
  pendingBatches = 0;
  private readonly memoryWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: AccumulatorOptions) {}

  /** True when `send` must wait for buffer space. */
  get isFull(): boolean {
    return this.bufferedBytes >= this.options.bufferMemory;
  }

  private queue(topic: string, partition: number): PartitionQueue {
    let t = this.queues.get(topic);
    if (!t) {
      t = new Map();
      this.queues.set(topic, t);
    }
    let q = t.get(partition);
    if (!q) {
      q = { topic, partition, batches: [], inFlight: 0, nextSequence: 0, lastSize: 0 };
      t.set(partition, q);
    }
    return q;
  }

  /**
   * Writes record `index` of `call` into its partition's open batch (opening a new one when it
   * is full or closed) and notes the call as waiting on that batch, as a run with its neighbours.
   */
  append(
    call: SendCall,
    index: number,
    partition: number,
    numPartitions: number,
    key: Bytes,
    value: Bytes,
    headers: ProducerHeader[] | undefined,
    timestamp: number,
  ): void {
    const topic = call.topic;
    const batchSize = this.options.batchSize;
    const q = this.queue(topic, partition);
    let batch = q.batches.length > 0 ? q.batches[q.batches.length - 1] : undefined;
    if (!batch || batch.isClosed || !batch.tryAppend(key, value, headers, timestamp)) {
      if (batch && !batch.isClosed) {
        batch.close();
        this.options.partitioner.onNewBatch?.(topic, partition, numPartitions);
      }
      // Sized for what the partition's last batch took (and a quarter more), so a steady stream
      // does not grow every batch from the minimum again: each doubling copies what was written.
      batch = new BatchBuilder(topic, partition, batchSize, call.now, q.lastSize * 1.25);
      batch.tryAppend(key, value, headers, timestamp);
      q.batches.push(batch);
      this.pendingBatches++;
      if (batch.sizeInBytes >= batchSize) batch.close();
    } else if (batch.sizeInBytes >= batchSize) {
      batch.close();
    }
    // A batch grows as it fills: count what it has allocated so far.
    if (batch.capacity !== batch.reserved) {
      this.bufferedBytes += batch.capacity - batch.reserved;
      batch.reserved = batch.capacity;
    }
    q.lastSize = batch.sizeInBytes;
    const waiters = batch.waiters;
    const last = waiters.length > 0 ? waiters[waiters.length - 1] : undefined;
    // A run is consecutive records of one call; a call that wants no metadata needs only the
    // count, so all its records in this batch are one run even when keys spread them.
    if (
      last &&
      (last as CallWaiter).call === call &&
      (call.results === undefined || last.callIndex + last.count === index)
    ) {
      last.count++;
    } else {
      waiters.push(new CallWaiter(call, batch.count - 1, index));
    }
  }

  /** Resolves when buffer space is free; fails with a TimeoutError after maxBlockMs. */
  waitForMemory(): Promise<void> {
    const { bufferMemory, maxBlockMs } = this.options;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.memoryWaiters.indexOf(wake);
        if (i >= 0) this.memoryWaiters.splice(i, 1);
        reject(
          new TimeoutError(
            `the producer's buffer (${bufferMemory} bytes) stayed full for ${maxBlockMs} ms: the broker is not keeping up or unreachable; raise bufferMemory or maxBlockMs, or send less`,
          ),
        );
      }, maxBlockMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.memoryWaiters.push(wake);
    });
  }

  /** Returns a finished (acknowledged or failed) batch's reservation and wakes waiters. */
  release(batch: BatchBuilder): void {
    this.bufferedBytes -= batch.reserved;
    this.pendingBatches--;
    while (this.memoryWaiters.length > 0 && !this.isFull) this.memoryWaiters.shift()?.();
    if (this.pendingBatches === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when every batch is acknowledged or failed. */
  whenEmpty(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.pendingBatches === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
  }

  /** Closes every open batch, so that all are ready to send (flush). */
  closeAll(): void {
    for (const t of this.queues.values())
      for (const q of t.values()) for (const b of q.batches) b.close();
  }

  /** Sequences from zero and unsent batches to be rebuilt (after a producer epoch bump). */
  restartSequences(): void {
    for (const t of this.queues.values()) {
      for (const q of t.values()) {
        q.nextSequence = 0;
        for (const b of q.batches) b.unbuild();
      }
    }
  }

  /** Lets every waiting `send` go on (to find the producer closed). */
  wakeAll(): void {
    for (const w of this.memoryWaiters.splice(0)) w();
  }
}
