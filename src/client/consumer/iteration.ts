/**
 * The consumer's async iterators over its poll loop: `batches()` (a batch counts as processed
 * when the loop asks for the next) and `messages()` (the position follows each record handed
 * out). A `close()` from elsewhere ends either iteration instead of failing it.
 */
import type { ConsumerBatch, ConsumerRecord } from './consumer-batch.js';
import type { PartitionState } from './fetcher.js';

/** What the iterators need of the consumer. */
export interface PollLoop {
  poll(timeoutMs: number): Promise<ConsumerBatch | undefined>;
  markProcessed(batch: ConsumerBatch): void;
  isClosed(): boolean;
  /** The partition's current state (undefined once it is no longer assigned). */
  stateOf(topic: string, partition: number): PartitionState | undefined;
}

/** Options of both iterators. */
export interface IterationOptions {
  /** Ends the iteration after this long without records. */
  idleTimeoutMs?: number;
}

/** Polls once; undefined on timeout or when the consumer was closed during the poll. */
async function next(loop: PollLoop): Promise<ConsumerBatch | undefined | 'closed'> {
  try {
    return await loop.poll(1000);
  } catch (err) {
    if (loop.isClosed()) return 'closed';
    throw err;
  }
}

/** Batches as they arrive; each is marked processed when the loop asks for the next. */
export async function* iterateBatches(
  loop: PollLoop,
  options: IterationOptions,
): AsyncGenerator<ConsumerBatch> {
  let prev: ConsumerBatch | undefined;
  let idleSince = Date.now();
  try {
    while (!loop.isClosed()) {
      if (prev) {
        loop.markProcessed(prev);
        prev = undefined;
      }
      const b = await next(loop);
      if (b === 'closed') return;
      if (!b) {
        if (options.idleTimeoutMs !== undefined && Date.now() - idleSince >= options.idleTimeoutMs)
          return;
        continue;
      }
      idleSince = Date.now();
      prev = b;
      yield b;
    }
  } finally {
    if (prev) loop.markProcessed(prev);
  }
}

/** Records one by one; the partition's position moves past each record as it is handed out. */
export async function* iterateMessages(
  loop: PollLoop,
  options: IterationOptions,
): AsyncGenerator<ConsumerRecord> {
  let idleSince = Date.now();
  while (!loop.isClosed()) {
    const b = await next(loop);
    if (b === 'closed') return;
    if (!b) {
      if (options.idleTimeoutMs !== undefined && Date.now() - idleSince >= options.idleTimeoutMs)
        return;
      continue;
    }
    idleSince = Date.now();
    const s = loop.stateOf(b.topic, b.partition);
    let stale = false;
    for (const r of b) {
      // A seek, pause or rebalance during the loop makes the rest of the batch stale.
      if (!s || s.epoch !== b.epoch || loop.stateOf(b.topic, b.partition) !== s) {
        stale = true;
        break;
      }
      s.position = r.offset + 1;
      yield r;
    }
    if (!stale) loop.markProcessed(b);
  }
}
