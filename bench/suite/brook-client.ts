/**
 * Brook's own client as a load generator: a Producer fed with chunks of records (up to 64 send
 * calls outstanding, so the accumulator always has work) and a Consumer assigned every partition,
 * reading values without decoding records into objects.
 */
import { Consumer, Producer, type ProducerRecord } from '../../src/client/index.js';

/** Producer settings, the Java client's names. */
export interface BrookProduceOptions {
  readonly acks: 1 | 'all';
  readonly compression: 'none' | 'lz4';
  readonly lingerMs: number;
  readonly batchSize: number;
}

const CHUNK = 1000;
const OUTSTANDING = 64;

/** The parameters of a Brook-client figure, as the results record them. */
export function brookParams(o: BrookProduceOptions): Record<string, unknown> {
  return {
    client: "Brook's Producer",
    acks: o.acks,
    compression: o.compression,
    lingerMs: o.lingerMs,
    batchSize: o.batchSize,
    idempotent: false,
    recordsPerSendCall: CHUNK,
    sendCallsOutstanding: OUTSTANDING,
    partitioner: 'sticky (KIP-480) for keyless records',
  };
}

/** Seconds to send `records` keyless records of `recordSize` bytes and have them acknowledged. */
export async function brookProduce(
  bootstrap: string,
  topic: string,
  records: number,
  recordSize: number,
  o: BrookProduceOptions,
): Promise<number> {
  const producer = new Producer({
    bootstrapServers: bootstrap,
    acks: o.acks === 'all' ? 'all' : 1,
    compression: o.compression,
    lingerMs: o.lingerMs,
    batchSize: o.batchSize,
    idempotent: false,
    bufferMemory: 64 * 2 ** 20,
  });
  try {
    const value = Buffer.alloc(recordSize, 'x');
    // Metadata and connection set-up before the clock starts, as kcat's start-up is not: noted.
    await producer.send(topic, [{ value }]);
    const chunk: ProducerRecord[] = Array.from({ length: CHUNK }, () => ({ value }));
    const pending: Promise<unknown>[] = [];
    const started = performance.now();
    for (let sent = 0; sent < records; sent += CHUNK) {
      pending.push(
        producer.send(topic, sent + CHUNK <= records ? chunk : chunk.slice(0, records - sent)),
      );
      if (pending.length >= OUTSTANDING) await pending.shift();
    }
    await Promise.all(pending);
    return (performance.now() - started) / 1000;
  } finally {
    await producer.close();
  }
}

/** Seconds for a Consumer assigned all `partitions` to read `expected` records from the start. */
export async function brookConsume(
  bootstrap: string,
  topic: string,
  partitions: number,
  expected: number,
): Promise<number> {
  const consumer = new Consumer({
    bootstrapServers: bootstrap,
    autoOffsetReset: 'earliest',
    maxPartitionFetchBytes: 2 ** 20,
  });
  try {
    const started = performance.now();
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    let n = 0;
    while (n < expected) {
      const batch = await consumer.poll(10000);
      if (!batch) throw new Error(`Brook consumer stalled at ${n} of ${expected} records`);
      batch.forEachValue(() => {
        n++;
      });
      consumer.markProcessed(batch);
    }
    return (performance.now() - started) / 1000;
  } finally {
    await consumer.close();
  }
}

/** The parameters of a Brook consumer figure. */
export const BROOK_CONSUMER_PARAMS: Readonly<Record<string, unknown>> = {
  client: "Brook's Consumer (assign, forEachValue)",
  maxPartitionFetchBytes: 2 ** 20,
  fetch: 'defaults (fetchMaxBytes, prefetchBatches 2)',
};
