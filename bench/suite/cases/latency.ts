/**
 * End-to-end latency through Brook at fixed rates (1k, 10k, 100k records/s): a producer and a
 * consumer in this process, 100-byte records on one partition. Coordinated-omission safe: each
 * record carries the time the schedule says it should have been sent (t0 + i/rate), and its
 * latency is measured from that time, so a stalled sender (or a slow broker holding it up) shows
 * in the figures instead of silently sending later records later.
 */
import { loadavg } from 'node:os';
import { Consumer, Producer, type ProducerRecord } from '../../../src/client/index.js';
import { DEFAULT_FLUSH } from '../brook.js';
import { type BenchCase, type CaseContext, repeat } from '../context.js';
import { quantile } from '../stats.js';
import { freshTopic } from './produce.js';

const RECORD_SIZE = 100;

interface LatencyRun {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly achievedRate: number;
  /** The 1-minute load average when the schedule started (tails track it on a shared machine). */
  readonly loadAverage: number;
}

/** One run: `seconds` of records at `rate` per second; latencies in ms. */
async function latencyRun(
  bootstrap: string,
  topic: string,
  rate: number,
  seconds: number,
): Promise<LatencyRun> {
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  const producer = new Producer({
    bootstrapServers: bootstrap,
    acks: 1,
    lingerMs: 0,
    idempotent: false,
  });
  const consumer = new Consumer({
    bootstrapServers: bootstrap,
    autoOffsetReset: 'earliest',
    fetchMaxWaitMs: 100,
  });
  consumer.assign([{ topic, partition: 0 }]);
  let received = 0;
  let stop = false;
  let warmed: () => void = () => undefined;
  const warmedUp = new Promise<void>((r) => {
    warmed = r;
  });
  const warm = Buffer.alloc(RECORD_SIZE);
  warm.writeInt32BE(-1, 8);
  const reader = (async () => {
    while (!stop && received < total) {
      const batch = await consumer.poll(500);
      if (!batch) continue;
      const now = process.hrtime.bigint();
      batch.forEachValue((buf, at) => {
        const index = buf.readInt32BE(at + 8);
        if (index < 0) return warmed(); // the warm-up record
        latencies[index] = Number(now - buf.readBigInt64BE(at)) / 1e6;
        received++;
      });
      consumer.markProcessed(batch);
    }
  })();
  try {
    // Connections, metadata and the consumer's position are set up before the schedule starts:
    // one record makes the whole trip first.
    await producer.send(topic, [{ value: warm }]);
    await Promise.race([
      warmedUp,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('warm-up record not consumed in 30 s')), 30000),
      ),
    ]);
    const loadAverage = loadavg()[0] as number;
    const t0 = process.hrtime.bigint() + 1_000_000n;
    const intervalNs = 1e9 / rate;
    let sent = 0;
    const sends: Promise<unknown>[] = [];
    await new Promise<void>((resolve, reject) => {
      const tick = () => {
        const elapsed = Number(process.hrtime.bigint() - t0);
        const due = Math.min(total, elapsed < 0 ? 0 : Math.floor(elapsed / intervalNs) + 1);
        if (due > sent) {
          const records: ProducerRecord[] = [];
          for (; sent < due; sent++) {
            const value = Buffer.allocUnsafe(RECORD_SIZE).fill(0);
            // The scheduled send time, not the time of this call: coordinated-omission safe.
            value.writeBigInt64BE(t0 + BigInt(Math.round(sent * intervalNs)), 0);
            value.writeInt32BE(sent, 8);
            records.push({ value });
          }
          sends.push(producer.send(topic, records).catch(reject));
        }
        if (sent < total) setTimeout(tick, 0);
        else resolve();
      };
      tick();
    });
    const sendSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    await Promise.all(sends);
    const deadline = Date.now() + 30000;
    while (received < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (received < total) throw new Error(`latency run received ${received} of ${total} records`);
    latencies.sort();
    return {
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      p999: quantile(latencies, 0.999),
      max: latencies[latencies.length - 1] as number,
      achievedRate: total / sendSecs,
      loadAverage,
    };
  } finally {
    stop = true;
    await reader.catch(() => undefined);
    await producer.close();
    await consumer.close();
  }
}

async function run(ctx: CaseContext): Promise<void> {
  const broker = await ctx.brook();
  for (const rate of ctx.sizes.latencyRates) {
    const runs = await repeat(
      ctx,
      `latency at ${rate.toLocaleString('en-US')} records/s`,
      async () => {
        const topic = freshTopic('latency');
        await broker.createTopic(topic, 1);
        try {
          return await latencyRun(broker.bootstrap, topic, rate, ctx.sizes.latencySeconds);
        } finally {
          await broker.deleteTopics([topic]);
        }
      },
    );
    const params = {
      rate,
      seconds: ctx.sizes.latencySeconds,
      records: Math.round(rate * ctx.sizes.latencySeconds),
      recordSize: RECORD_SIZE,
      partitions: 1,
      acks: 1,
      compression: 'none',
      producer: "Brook's Producer, lingerMs 0, batchSize 16384, idempotent false",
      consumer: "Brook's Consumer (assign, fetchMaxWaitMs 100), same process as the producer",
      measuredFrom: 'scheduled send time t0 + i/rate (coordinated-omission safe)',
      measuredTo: 'the consumer receiving the fetched batch',
      sender: 'wakes at least every ~1 ms and sends every record due (the wait counts)',
      achievedRate: Math.round(Math.min(...runs.map((r) => r.achievedRate))),
      loadAverageAtEachRun: runs.map((r) => Math.round(r.loadAverage * 100) / 100),
    };
    for (const [key, label] of [
      ['p50', 'p50'],
      ['p99', 'p99'],
      ['p999', 'p99.9'],
      ['max', 'max'],
    ] as const) {
      ctx.figure({
        name: `end-to-end latency ${label} at ${rate.toLocaleString('en-US')} records/s`,
        system: 'brook',
        unit: 'ms',
        runs: runs.map((r) => r[key]),
        durability: DEFAULT_FLUSH,
        params: { ...params, percentile: label },
      });
    }
  }
}

export const latencyCase: BenchCase = {
  name: 'latency',
  title: 'End-to-end latency (Brook)',
  summary: 'p50/p99/p99.9/max at 1k, 10k, 100k records/s, measured from the schedule',
  run,
};
