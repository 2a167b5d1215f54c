/**
 * Scale: a topic of 1,000 partitions (create, produce keyed records across all of them, read them
 * back), 1,000 concurrent connections (open, one request on each at once, the broker's memory),
 * and a 10-member consumer group forming and rebalancing (bench/groups.ts's coordinator figures).
 */
import { Producer, type ProducerRecord } from '../../../src/client/index.js';
import { PipeClient } from '../../common.js';
import { DEFAULT_FLUSH, rssMb } from '../brook.js';
import { brookConsume } from '../brook-client.js';
import { type BenchCase, type CaseContext, repeat } from '../context.js';
import { CONSUMER_GROUP_PARAMS, consumerGroupRound } from './group-rebalance.js';
import { BATCH_SIZE, freshTopic, LINGER_MS } from './produce.js';

const PARTITIONS = 1000;
const CONNECTIONS = 1000;
const RECORD_SIZE = 100;

async function manyPartitions(ctx: CaseContext): Promise<void> {
  const broker = await ctx.brook();
  const records = ctx.sizes.scaleRecords;
  const create: number[] = [];
  const produce: number[] = [];
  const consume: number[] = [];
  await repeat(ctx, `${PARTITIONS} partitions`, async () => {
    const topic = freshTopic('scale-partitions');
    let started = performance.now();
    await broker.createTopic(topic, PARTITIONS);
    create.push(performance.now() - started);
    const producer = new Producer({
      bootstrapServers: broker.bootstrap,
      acks: 1,
      lingerMs: LINGER_MS,
      batchSize: BATCH_SIZE,
      idempotent: false,
      bufferMemory: 128 * 2 ** 20,
    });
    try {
      const value = Buffer.alloc(RECORD_SIZE, 'x');
      // Keys k0..k999 spread each chunk over the partitions by murmur2.
      const chunk: ProducerRecord[] = Array.from({ length: 1000 }, (_, i) => ({
        key: `k${i}`,
        value,
      }));
      await producer.send(topic, chunk.slice(0, 1));
      const pending: Promise<unknown>[] = [];
      started = performance.now();
      for (let sent = 0; sent < records; sent += chunk.length)
        pending.push(producer.send(topic, chunk));
      await Promise.all(pending);
      produce.push(records / ((performance.now() - started) / 1000));
    } finally {
      await producer.close();
    }
    const total = Math.ceil(records / 1000) * 1000 + 1;
    consume.push(total / (await brookConsume(broker.bootstrap, topic, PARTITIONS, total)));
    await broker.deleteTopics([topic]);
  });
  const params = {
    partitions: PARTITIONS,
    records,
    recordSize: RECORD_SIZE,
    acks: 1,
    compression: 'none',
  };
  ctx.figure({
    name: `create a topic of ${PARTITIONS} partitions (CreateTopics to response)`,
    system: 'brook',
    unit: 'ms',
    runs: create,
    params: { partitions: PARTITIONS, client: "Brook's Admin" },
  });
  ctx.figure({
    name: `Brook's Producer, ${RECORD_SIZE} B keyed records over ${PARTITIONS} partitions`,
    system: 'brook',
    unit: 'records/s',
    runs: produce,
    recordSize: RECORD_SIZE,
    durability: DEFAULT_FLUSH,
    params: {
      ...params,
      keys: 1000,
      lingerMs: LINGER_MS,
      batchSize: BATCH_SIZE,
      idempotent: false,
      clientId: 'brook',
    },
  });
  ctx.figure({
    name: `Brook's Consumer, all ${PARTITIONS} partitions read back`,
    system: 'brook',
    unit: 'records/s',
    runs: consume,
    recordSize: RECORD_SIZE,
    params: { ...params, client: "Brook's Consumer (assign all partitions)", clientId: 'brook' },
  });
}

async function manyConnections(ctx: CaseContext): Promise<void> {
  const broker = await ctx.brook();
  const open: number[] = [];
  const rate: number[] = [];
  const memory: number[] = [];
  await repeat(ctx, `${CONNECTIONS} connections`, async () => {
    const before = rssMb(broker.pid) ?? 0;
    const clients: PipeClient[] = [];
    try {
      let started = performance.now();
      const opening: Promise<PipeClient>[] = [];
      for (let i = 0; i < CONNECTIONS; i++) opening.push(PipeClient.open(broker.port));
      clients.push(...(await Promise.all(opening)));
      open.push(performance.now() - started);
      const rounds = 5;
      started = performance.now();
      for (let r = 0; r < rounds; r++) {
        await Promise.all(
          clients.map((c) =>
            c.send(18, 3, { clientSoftwareName: 'bench', clientSoftwareVersion: '1' }),
          ),
        );
      }
      rate.push((rounds * CONNECTIONS) / ((performance.now() - started) / 1000));
      memory.push((rssMb(broker.pid) ?? 0) - before);
    } finally {
      for (const c of clients) c.close();
    }
  });
  const params = {
    connections: CONNECTIONS,
    host: '127.0.0.1',
    client: 'bare protocol client (bench/common.ts PipeClient)',
  };
  ctx.figure({
    name: `open ${CONNECTIONS} concurrent connections`,
    system: 'brook',
    unit: 'ms',
    runs: open,
    params,
  });
  ctx.figure({
    name: `ApiVersions v3, one request on each of ${CONNECTIONS} connections at once (5 waves)`,
    system: 'brook',
    unit: 'requests/s',
    runs: rate,
    params: { ...params, waves: 5, api: 'ApiVersions v3' },
  });
  ctx.figure({
    name: `broker RSS growth with ${CONNECTIONS} connections open`,
    system: 'brook',
    unit: 'MB',
    runs: memory,
    params: { ...params, measured: 'VmRSS from /proc after the waves minus before opening' },
  });
}

/** Runs bench/groups.ts's coordinator benchmark and turns its printed lines into figures. */
async function groupRebalance(ctx: CaseContext): Promise<void> {
  const broker = await ctx.brook();
  // bench/groups.ts reads BENCH_COMMIT_MS when it loads: a short OffsetCommit phase in --quick.
  if (ctx.quick && process.env.BENCH_COMMIT_MS === undefined) process.env.BENCH_COMMIT_MS = '250';
  const { groupBenchmark } = await import('../../groups.js');
  const lines: string[] = [];
  let failure: Error | undefined;
  // One retry: under heavy load a member can miss its rebalance (bench/groups.ts then throws).
  const attempts = ctx.quick ? 1 : 2;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    ctx.progress(
      `10-member group: formation, rebalance, OffsetCommit (bench/groups.ts, try ${attempt})`,
    );
    lines.length = 0;
    try {
      await groupBenchmark(broker.port, (line) => lines.push(line));
      failure = undefined;
      break;
    } catch (e) {
      failure = e as Error;
    }
  }
  if (failure) {
    ctx.skip(
      '10-member group rebalance',
      `bench/groups.ts failed (${attempts} tries): ${failure.message}`,
    );
    return;
  }
  const params = {
    members: 10,
    client: 'bare protocol client, one connection per member (bench/groups.ts)',
    'group.initial.rebalance.delay.ms': 0,
    rounds: 5,
  };
  const note = 'median of 5 rounds as bench/groups.ts reports it (it does not expose each round)';
  const num = (re: RegExp): number | undefined => {
    for (const l of lines) {
      const m = re.exec(l);
      if (m) return Number(m[1]);
    }
    return undefined;
  };
  const formation = num(/formation .* median ([\d.]+) ms/);
  const rebalance = num(/rebalance .* median ([\d.]+) ms/);
  const commits = num(/OffsetCommit v8, 1 partition\(s\)\/request, .*?: (\d+) requests\/s/);
  if (formation === undefined || rebalance === undefined) {
    ctx.skip(
      '10-member group rebalance',
      `bench/groups.ts printed no figures: ${lines.join(' | ')}`,
    );
    return;
  }
  ctx.figure({
    name: '10-member group formation (JoinGroup + SyncGroup, generation 1)',
    system: 'brook',
    unit: 'ms',
    runs: [formation],
    params,
    note,
  });
  ctx.figure({
    name: '10-member group rebalance (all rejoin + sync)',
    system: 'brook',
    unit: 'ms',
    runs: [rebalance],
    params,
    note,
  });
  if (commits !== undefined) {
    ctx.figure({
      name: 'OffsetCommit v8, 1 partition per request, pipelined',
      system: 'brook',
      unit: 'requests/s',
      runs: [commits],
      params: {
        ...params,
        inflight: Number(process.env.BENCH_INFLIGHT ?? 32),
        seconds: Number(process.env.BENCH_COMMIT_MS ?? 2000) / 1000,
      },
      note,
    });
  }
}

/** The same group shape timed through Brook's Consumer, which rejoins by itself. */
async function consumerRebalance(ctx: CaseContext): Promise<void> {
  const broker = await ctx.brook();
  let rounds: Array<{ formation: number; leave: number; join: number }>;
  try {
    rounds = await repeat(ctx, '10 Brook Consumers: form, one leaves, one joins', () =>
      consumerGroupRound(broker),
    );
  } catch (e) {
    ctx.skip("10-member group through Brook's Consumer", `failed: ${(e as Error).message}`);
    return;
  }
  for (const [key, label] of [
    ['formation', 'forms (10 members subscribe to settled assignment)'],
    ['leave', 'rebalances after one member leaves (LeaveGroup to settled)'],
    ['join', 'rebalances after one member joins (subscribe to settled)'],
  ] as const) {
    ctx.figure({
      name: `10 Brook Consumers: group ${label}`,
      system: 'brook',
      unit: 'ms',
      runs: rounds.map((r) => r[key]),
      params: CONSUMER_GROUP_PARAMS,
    });
  }
}

async function run(ctx: CaseContext): Promise<void> {
  await manyPartitions(ctx);
  await manyConnections(ctx);
  await consumerRebalance(ctx);
  await groupRebalance(ctx);
}

export const scaleCase: BenchCase = {
  name: 'scale',
  title: 'Scale (Brook)',
  summary: '1,000 partitions; 1,000 concurrent connections; a 10-member consumer group rebalance',
  run,
};
