/**
 * What the produce-path tests share: numbered values to send, a producer closed whatever the
 * test does, and reading a topic back until the expected number of records has arrived.
 */
import {
  Consumer,
  type ConsumerRecord,
  Producer,
  type ProducerOptions,
} from '../../../src/client/index.js';

/** `count` values `${prefix}${from}`, `${prefix}${from + 1}`, … (what tests send and expect). */
export function numbered(count: number, prefix = '', from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${from + i}`);
}

/** The values of `records` as strings (undefined for a null value). */
export function valuesOf(records: readonly ConsumerRecord[]): (string | undefined)[] {
  return records.map((r) => r.value?.toString());
}

/** Runs `use` with a new producer and closes it afterwards, also when `use` throws. */
export async function withProducer<T>(
  options: ProducerOptions,
  use: (producer: Producer) => Promise<T>,
): Promise<T> {
  const producer = new Producer(options);
  try {
    return await use(producer);
  } finally {
    await producer.close();
  }
}

/**
 * Reads partitions 0..`partitions`-1 of `topic` from the earliest offset until `expected`
 * records have arrived or 15 s have passed; returns what arrived (the caller asserts on it).
 */
export async function consumeAll(
  bootstrap: string,
  topic: string,
  partitions: number,
  expected: number,
  opts: { isolation?: 'read_committed' } = {},
): Promise<ConsumerRecord[]> {
  const c = new Consumer({
    bootstrapServers: bootstrap,
    autoOffsetReset: 'earliest',
    isolationLevel: opts.isolation,
  });
  try {
    c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    const out: ConsumerRecord[] = [];
    const deadline = Date.now() + 15000;
    while (out.length < expected && Date.now() < deadline) {
      const b = await c.poll(500);
      if (!b) continue;
      for (const r of b) out.push(r);
      c.markProcessed(b);
    }
    return out;
  } finally {
    await c.close();
  }
}
