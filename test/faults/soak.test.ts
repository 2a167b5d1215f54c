/**
 * Soak: a mixed workload against one broker process for a long stretch (10 minutes in soak mode,
 * 2 in long mode, 20 seconds in ci mode so that the code is exercised): acks=all producers,
 * a consumer group whose members commit after each batch and one of which is replaced now and
 * then (rebalances), and segments rolling and being deleted by size retention. Every interval
 * it prints throughput and the broker's resident memory; at the end it asserts there is no
 * growth trend: the mean RSS of the last third of the run stays within a bound of the second
 * third's (the first third is warm-up: JIT, V8 heap sizing, caches filling).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import {
  type BrokerProcess,
  GROUP_TEST_ARGS,
  startBroker,
} from '../broker/helpers/broker-process.js';
import { mb, RssSampler } from './bad-input-helpers.js';
import { printFigures } from './helpers/figures.js';
import { faultsMode, scale } from './helpers/mode.js';

const TOPIC = 'soak';
const GROUP = 'soak-group';
const PARTITIONS = 4;
const VALUE = 'v'.repeat(100);

/**
 * The growth allowed from the second third to the last: 10% plus 24 MiB. A leak proportional to
 * work (per request, per connection, per rebalance, per segment) climbs steadily through a run
 * and exceeds it; V8's heap sawtooth (old-space collections every few seconds under this load)
 * and the kernel's accounting of a broker that reads segment files do not, in our runs.
 */
const GROWTH_FACTOR = 1.1;
const GROWTH_SLACK_MB = 24;

let broker: BrokerProcess;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  // A loaded machine can take a while to start a broker from the TypeScript sources.
  broker = await startBroker({
    timeoutMs: 60_000,
    args: [
      ...GROUP_TEST_ARGS,
      // Small segments and size retention: segments roll and are deleted throughout the run,
      // and the disk used stays bounded however long the soak.
      '--set',
      'log.segment.bytes=4194304',
      '--set',
      'log.retention.bytes=16777216',
      '--set',
      'log.retention.check.interval.ms=5000',
      '--set',
      'log.segment.delete.delay.ms=1000',
    ],
  });
  const admin = new Admin({ bootstrapServers: `127.0.0.1:${broker.port}` });
  try {
    await admin.createTopics([{ topic: TOPIC, numPartitions: PARTITIONS }]);
  } finally {
    await admin.close();
  }
});

after(async () => {
  await broker?.cleanup();
});

interface Counters {
  produced: number;
  consumed: number;
  commits: number;
  rebalances: number;
  /** Records read again (at or below the highest offset already read of their partition). */
  reread: number;
  /** The furthest a partition's reading went back, in offsets. */
  maxRewind: number;
  /** partition → the highest offset read. */
  highest: Map<number, number>;
  errors: string[];
}

/** A producer loop: batches of 100-byte records, acks=all, until `running()` turns false. */
async function produceLoop(bootstrap: string, c: Counters, running: () => boolean): Promise<void> {
  const producer = new Producer({ bootstrapServers: bootstrap, acks: 'all' });
  try {
    let n = 0;
    while (running()) {
      const records = Array.from({ length: 200 }, () => ({ key: `k${n++ % 1000}`, value: VALUE }));
      try {
        await producer.send(TOPIC, records);
        c.produced += records.length;
      } catch (err) {
        c.errors.push(`produce: ${(err as Error).message}`);
      }
      // A steady rate rather than a flood: the soak looks for drift, not for the peak.
      await sleep(5);
    }
  } finally {
    await producer.close();
  }
}

/** A group member: polls, commits after each batch, until `running()` or its `until` ends. */
async function memberLoop(
  bootstrap: string,
  c: Counters,
  running: () => boolean,
  untilMs: number,
): Promise<void> {
  const consumer = new Consumer({
    bootstrapServers: bootstrap,
    groupId: GROUP,
    autoOffsetReset: 'earliest',
    enableAutoCommit: false,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
  });
  try {
    consumer.subscribe([TOPIC]);
    while (running() && Date.now() < untilMs) {
      try {
        const batch = await consumer.poll(200);
        if (batch === undefined) continue;
        let n = 0;
        for (const r of batch) {
          n++;
          const high = c.highest.get(r.partition) ?? -1;
          if (r.offset <= high) {
            c.reread++;
            c.maxRewind = Math.max(c.maxRewind, high - r.offset);
          } else c.highest.set(r.partition, r.offset);
        }
        c.consumed += n;
        consumer.markProcessed(batch);
        await consumer.commitSync();
        c.commits++;
      } catch (err) {
        // A commit refused during a rebalance is expected; the member rejoins and goes on.
        const message = (err as Error).message;
        if (!/REBALANCE_IN_PROGRESS|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID/.test(message)) {
          c.errors.push(`consume: ${message}`);
        }
      }
    }
  } finally {
    await consumer.close();
  }
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

test(`soak: mixed produce, consume and group workload, no memory growth trend (${faultsMode()} mode)`, async (t) => {
  const bootstrap = `127.0.0.1:${broker.port}`;
  const durationMs = scale(20_000, 120_000, 600_000);
  const reportMs = scale(5_000, 15_000, 30_000);
  const churnMs = scale(7_000, 30_000, 60_000);
  const counters: Counters = {
    produced: 0,
    consumed: 0,
    commits: 0,
    rebalances: 0,
    reread: 0,
    maxRewind: 0,
    highest: new Map(),
    errors: [],
  };
  const rss = new RssSampler(broker.proc.pid as number, 1000);
  const began = Date.now();
  const end = began + durationMs;
  const running = () => Date.now() < end && broker.proc.exitCode === null;

  const loops: Promise<void>[] = [
    produceLoop(bootstrap, counters, running),
    produceLoop(bootstrap, counters, running),
    memberLoop(bootstrap, counters, running, end),
  ];
  // The second member is replaced every churnMs: each replacement is a leave and a join, two
  // rebalances of the group.
  loops.push(
    (async () => {
      while (running()) {
        await memberLoop(bootstrap, counters, running, Date.now() + churnMs);
        counters.rebalances++;
      }
    })(),
  );

  const report: { t: number; producedPerS: number; consumedPerS: number; rssMb: number }[] = [];
  let last = { at: began, produced: 0, consumed: 0 };
  while (running()) {
    await sleep(Math.min(reportMs, Math.max(0, end - Date.now())));
    const now = Date.now();
    const secs = (now - last.at) / 1000;
    const line = {
      t: Math.round((now - began) / 1000),
      producedPerS: Math.round((counters.produced - last.produced) / secs),
      consumedPerS: Math.round((counters.consumed - last.consumed) / secs),
      rssMb: mb(rss.sample() ?? 0),
    };
    report.push(line);
    console.log(
      `[faults] soak t=${line.t}s produced=${line.producedPerS}/s consumed=${line.consumedPerS}/s broker RSS=${line.rssMb} MiB commits=${counters.commits} member replacements=${counters.rebalances}`,
    );
    last = { at: now, produced: counters.produced, consumed: counters.consumed };
  }
  await Promise.all(loops);
  rss.stop();

  assert.equal(broker.proc.exitCode, null, `the broker exited: ${broker.stderr()}`);
  const samples = rss.samples.map((s) => s.rssKb / 1024);
  const third = Math.floor(samples.length / 3);
  const second = mean(samples.slice(third, 2 * third));
  const lastThird = mean(samples.slice(2 * third));
  const bound = second * GROWTH_FACTOR + GROWTH_SLACK_MB;
  printFigures('soak', {
    seconds: Math.round((Date.now() - began) / 1000),
    produced: counters.produced,
    consumed: counters.consumed,
    commits: counters.commits,
    memberReplacements: counters.rebalances,
    rereadAfterRebalances: counters.reread,
    maxRewindOffsets: counters.maxRewind,
    errors: counters.errors.length,
    rssFirstMb: Math.round(samples[0] ?? 0),
    rssSecondThirdMeanMb: Math.round(second),
    rssLastThirdMeanMb: Math.round(lastThird),
    rssBoundMb: Math.round(bound),
    peakRssMb: rss.peakMb,
  });
  for (const e of counters.errors.slice(0, 5)) t.diagnostic(e);
  assert.deepEqual(counters.errors, [], 'no client errors');
  assert.ok(counters.produced > 0 && counters.consumed > 0, 'records flowed');
  assert.ok(
    lastThird <= bound,
    `broker RSS grew: last third ${lastThird.toFixed(1)} MiB vs second third ${second.toFixed(1)} MiB (bound ${bound.toFixed(1)})`,
  );
});
