/**
 * Stream processor throughput, one container against a Brook broker on this machine, with
 * 100-byte messages: a stateless job (consume → map → produce) and a stateful count (persistent
 * LMDB store with the write-back cache and a changelog, emitting every new count), each beside
 * the same job written as a hand-made kafkajs consume/produce loop, in the same run.
 * Anchor: Samza's single-node benchmark, ~1.2 M msg/s stateless and ~1.08 M msg/s with RocksDB
 * + changelog on a 24-core machine. Goal here: >= 500,000 msg/s stateless, >= 250,000 stateful.
 *
 *   npm run bench:streams -- [--messages N] [--partitions P] [--keys K] [--commit-ms MS] [--only CASE,...] [--cpu-prof]
 *
 * `--cpu-prof` profiles this process while each Brook container runs and prints where its time went.
 *
 * The suite (`bench/run.ts`) calls {@link runStreamsBench} instead; running this file prints a table.
 *
 * Time is measured from the first message a task sees to the last one (startup, group join and
 * restore are left out), and includes the commits (task.commit.ms, default 5000 as the runtime's) on the way.
 */
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { Admin, Producer } from '../src/client/index.js';
import {
  type AnyJob,
  bytesSerde,
  Container,
  defineJob,
  type IncomingEnvelope,
  type KeyValueStore,
  longSerde,
  type MessageCollector,
  type StreamTask,
  stringSerde,
  type TaskContext,
  type TaskCoordinator,
  streamsApp,
  tumblingWindows,
  windowedSerde,
} from '../src/streams/index.js';
import { startBroker } from '../test/broker/helpers/broker-process.js';
import { cpuSeconds, machine } from './common.js';
import { profileWhile } from './profile.js';
import { tempFolder } from '../test/streams/runtime-helpers.js';

/** The parameters of one benchmark run. */
interface BenchParams {
  readonly messages: number;
  readonly partitions: number;
  readonly keys: number;
  /** `task.commit.ms` of the Brook jobs. */
  readonly commitMs: number;
  /** Profile this process while each Brook container runs, and print the summary. */
  readonly profile?: boolean;
  /** The broker's process, whose CPU time each case reports. */
  readonly brokerPid?: number;
}

/** The cases this file measures; `*-kafkajs` are the hand-made kafkajs loops beside Brook's. */
export const STREAMS_BENCH_CASES = [
  'stateless',
  'stateless-kafkajs',
  'stateful',
  'stateful-kafkajs',
  'windowed',
  'join',
] as const;

/** One measured case, as the benchmark suite records it. */
export interface StreamsBenchResult {
  readonly case: string;
  readonly messagesPerSec: number;
  readonly params: Record<string, unknown>;
}

/**
 * Fills `topic` with `p.messages` records: key `k<n mod keys>`, 100-byte value; with
 * `timestamps`, record n has timestamp `timestamps + n` (1 ms apart).
 */
async function preload(
  bootstrap: string,
  topic: string,
  p: BenchParams,
  timestamps?: number,
): Promise<void> {
  const producer = new Producer({
    bootstrapServers: bootstrap,
    lingerMs: 5,
    batchSize: 256 * 1024,
  });
  const value = Buffer.alloc(100, 'x');
  const chunk = 5000;
  for (let i = 0; i < p.messages; i += chunk) {
    const records = [];
    for (let j = i; j < Math.min(p.messages, i + chunk); j++)
      records.push({
        key: `k${j % p.keys}`,
        value,
        ...(timestamps === undefined ? {} : { timestamp: timestamps + j }),
      });
    await producer.send(topic, records);
  }
  await producer.close();
}

/** What one Brook job run measured. */
interface BrookRun {
  readonly rate: number;
  /** CPU time (user + system) per message of the container's process and of the broker. */
  readonly jobCpuUs?: number;
  readonly brokerCpuUs?: number;
  readonly seconds: number;
  readonly taskCommits: number;
  readonly meanCommitMs: number;
}

/** A stopwatch the tasks share: first message to the `messages`-th. */
class Clock {
  readonly messages: number;
  constructor(messages: number) {
    this.messages = messages;
  }
  first = 0;
  last = 0;
  count = 0;
  tick(coordinator: { shutdown(): void }): void {
    if (this.count === 0) this.first = performance.now();
    if (++this.count === this.messages) {
      this.last = performance.now();
      coordinator.shutdown();
    }
  }
  get rate(): number {
    return this.messages / ((this.last - this.first) / 1000);
  }
}

async function runBrookJob(
  bootstrap: string,
  name: string,
  stateful: boolean,
  p: BenchParams,
): Promise<BrookRun> {
  const clock = new Clock(p.messages);
  const inputs = { in: { topic: `${name}-in`, keySerde: bytesSerde, valueSerde: bytesSerde } };
  const outputs = { out: { topic: `${name}-out`, keySerde: bytesSerde, valueSerde: bytesSerde } };
  const stores = {
    counts: { keySerde: stringSerde, valueSerde: longSerde, engine: 'persistent' },
  } as const;
  class Stateless implements StreamTask<typeof inputs, typeof outputs, Record<never, never>> {
    process(
      e: IncomingEnvelope<typeof inputs>,
      collector: MessageCollector<typeof outputs>,
      coordinator: TaskCoordinator,
    ): void {
      collector.send('out', { key: e.key, value: e.value });
      clock.tick(coordinator);
    }
  }
  class Counting implements StreamTask<typeof inputs, typeof outputs, typeof stores> {
    #counts!: KeyValueStore<string, number>;
    init(context: TaskContext<typeof stores>): void {
      this.#counts = context.getStore('counts');
    }
    process(
      e: IncomingEnvelope<typeof inputs>,
      collector: MessageCollector<typeof outputs>,
      coordinator: TaskCoordinator,
    ): void {
      const word = e.key!.toString('latin1');
      const count = (this.#counts.get(word) ?? 0) + 1;
      this.#counts.put(word, count);
      collector.send('out', { key: e.key, value: Buffer.from(String(count)) });
      clock.tick(coordinator);
    }
  }
  const job = stateful
    ? defineJob({ id: name, inputs, outputs, stores, task: () => new Counting() })
    : defineJob({ id: name, inputs, outputs, stores: {}, task: () => new Stateless() });
  return runContainer(bootstrap, job, clock, p);
}

/** Runs `job` in one container until `clock` has seen its messages; what it measured. */
async function runContainer(
  bootstrap: string,
  job: AnyJob,
  clock: Clock,
  p: BenchParams,
  onContainer?: (container: Container) => void,
): Promise<BrookRun> {
  const state = tempFolder('brook-bench-streams-');
  const jobBefore = process.cpuUsage();
  const brokerBefore = p.brokerPid === undefined ? undefined : cpuSeconds(p.brokerPid);
  try {
    const container = new Container(job, {
      bootstrapServers: bootstrap,
      stateDir: state.path,
      config: { 'task.commit.ms': String(p.commitMs) },
      logger: pino({ level: 'warn' }),
    });
    onContainer?.(container);
    if (p.profile === true) {
      const { summary } = await profileWhile(() => container.run());
      console.log(`CPU profile of the container (${job.id}):`);
      for (const line of summary) console.log(line);
    } else {
      await container.run();
    }
    const commits = (await container.metrics.commitLatency.get()).values;
    const sum = commits
      .filter((v) => v.metricName?.endsWith('_sum'))
      .reduce((a, v) => a + v.value, 0);
    const count = commits
      .filter((v) => v.metricName?.endsWith('_count'))
      .reduce((a, v) => a + v.value, 0);
    const seconds = (clock.last - clock.first) / 1000;
    const jobCpu = process.cpuUsage(jobBefore);
    const brokerAfter = p.brokerPid === undefined ? undefined : cpuSeconds(p.brokerPid);
    return {
      rate: clock.rate,
      jobCpuUs: (jobCpu.user + jobCpu.system) / p.messages,
      ...(brokerBefore === undefined || brokerAfter === undefined
        ? {}
        : {
            brokerCpuUs:
              ((brokerAfter.user + brokerAfter.sys - brokerBefore.user - brokerBefore.sys) * 1e6) /
              p.messages,
          }),
      seconds,
      taskCommits: count,
      meanCommitMs: Math.round((sum / Math.max(1, count)) * 1000),
    };
  } finally {
    state.remove();
  }
}

/**
 * The high-level API's cases: `windowed`, a count per key in 1-minute tumbling windows of event
 * time (records 1 ms apart), every update emitted; `join`, the stream enriched with a table of
 * `keys` entries (`app.table`, kept from its own topic) and sent on.
 */
async function runDslJob(
  bootstrap: string,
  name: string,
  kind: 'windowed' | 'join',
  p: BenchParams,
): Promise<BrookRun> {
  const clock = new Clock(p.messages);
  let container: Container | undefined;
  const stop = { shutdown: () => container?.shutdown() };
  const app = streamsApp({ id: name });
  const stream = app
    .stream(`${name}-in`, { key: stringSerde, value: bytesSerde })
    .peek(() => clock.tick(stop));
  if (kind === 'windowed') {
    stream
      .groupByKey()
      .windowedBy(tumblingWindows(60_000))
      .count({ name: 'counts', emit: 'update' })
      .toStream()
      .sendTo(`${name}-out`, { key: windowedSerde(stringSerde), value: longSerde });
  } else {
    const table = app.table(`${name}-table`, { key: stringSerde, value: bytesSerde });
    stream
      .join(table, (value, row): Buffer => Buffer.concat([row.subarray(0, 20), value]))
      .sendTo(`${name}-out`, { key: stringSerde, value: bytesSerde });
  }
  return runContainer(bootstrap, app.toJob(), clock, p, (c) => {
    container = c;
  });
}

/** Fills the join case's table topic: one 50-byte row per key. */
async function preloadTable(bootstrap: string, topic: string, p: BenchParams): Promise<void> {
  const producer = new Producer({ bootstrapServers: bootstrap, lingerMs: 5 });
  const row = Buffer.alloc(50, 'r');
  const records = Array.from({ length: p.keys }, (_, i) => ({ key: `k${i}`, value: row }));
  await producer.send(topic, records);
  await producer.close();
}

async function runKafkajs(
  bootstrap: string,
  name: string,
  stateful: boolean,
  p: BenchParams,
): Promise<number> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: name });
  const consumer = kafka.consumer({ groupId: name, maxBytesPerPartition: 1024 * 1024 });
  const producer = kafka.producer();
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topics: [`${name}-in`], fromBeginning: true });
  const counts = new Map<string, number>();
  let first = 0;
  let seen = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        if (seen === 0) first = performance.now();
        const messages = batch.messages.map((m) => {
          if (!stateful) return { key: m.key, value: m.value };
          const word = m.key!.toString('latin1');
          const count = (counts.get(word) ?? 0) + 1;
          counts.set(word, count);
          return { key: m.key, value: String(count) };
        });
        await producer.send({ topic: `${name}-out`, messages, acks: -1 });
        seen += batch.messages.length;
        if (seen >= p.messages) resolve(p.messages / ((performance.now() - first) / 1000));
      },
    });
  });
  const rate = await done;
  await consumer.disconnect();
  await producer.disconnect();
  return rate;
}

/**
 * Runs the stream processor benchmark against a fresh Brook broker on this machine and returns
 * one row per case (all of {@link STREAMS_BENCH_CASES} unless `cases` names some). Each case gets
 * its own input and output topics, preloaded before the clock starts.
 */
export async function runStreamsBench(
  opts: {
    cases?: string[];
    messages?: number;
    partitions?: number;
    keys?: number;
    commitMs?: number;
    profile?: boolean;
  } = {},
): Promise<StreamsBenchResult[]> {
  const p: BenchParams = {
    messages: opts.messages ?? 1_000_000,
    partitions: opts.partitions ?? 4,
    keys: opts.keys ?? 10_000,
    commitMs: opts.commitMs ?? 5000,
    profile: opts.profile,
  };
  const cases = opts.cases ?? [...STREAMS_BENCH_CASES];
  for (const c of cases)
    if (!(STREAMS_BENCH_CASES as readonly string[]).includes(c))
      throw new Error(
        `unknown streams bench case '${c}' (known: ${STREAMS_BENCH_CASES.join(', ')})`,
      );
  const broker = await startBroker({ args: ['--set', 'group.initial.rebalance.delay.ms=0'] });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const withPid: BenchParams = { ...p, brokerPid: broker.proc.pid };
  const results: StreamsBenchResult[] = [];
  try {
    for (const c of STREAMS_BENCH_CASES) {
      if (!cases.includes(c)) continue;
      const name = `bench-${c}`;
      const admin = new Admin({ bootstrapServers: bootstrap });
      await admin.createTopics([
        { topic: `${name}-in`, numPartitions: p.partitions },
        { topic: `${name}-out`, numPartitions: p.partitions },
        ...(c === 'join'
          ? [
              {
                topic: `${name}-table`,
                numPartitions: p.partitions,
                configs: { 'cleanup.policy': 'compact' },
              },
            ]
          : []),
      ]);
      await admin.close();
      await preload(bootstrap, `${name}-in`, p, c === 'windowed' ? Date.now() : undefined);
      if (c === 'join') await preloadTable(bootstrap, `${name}-table`, p);
      const runner = c.endsWith('-kafkajs') ? 'kafkajs' : 'brook';
      const stateful = c.startsWith('stateful');
      const run =
        c === 'windowed' || c === 'join'
          ? await runDslJob(bootstrap, name, c, withPid)
          : runner === 'brook'
            ? await runBrookJob(bootstrap, name, stateful, withPid)
            : { rate: await runKafkajs(bootstrap, name, stateful, p) };
      results.push({
        case: c,
        messagesPerSec: run.rate,
        params: {
          runner,
          messages: p.messages,
          messageBytes: 100,
          keys: p.keys,
          partitions: p.partitions,
          containers: 1,
          acks: 'all',
          compression: 'none',
          ...(runner === 'brook'
            ? {
                'task.commit.ms': p.commitMs,
                store: STORE_OF[c] ?? 'none',
                ...('taskCommits' in run
                  ? {
                      taskCommits: run.taskCommits,
                      meanCommitMs: run.meanCommitMs,
                      jobCpuUsPerMessage: round2(run.jobCpuUs),
                      brokerCpuUsPerMessage: round2(run.brokerCpuUs),
                    }
                  : {}),
              }
            : { store: stateful ? 'in-process Map' : 'none' }),
          machine: machine('broker on the same cores'),
        },
      });
    }
  } finally {
    await broker.cleanup();
  }
  return results;
}

/** `x` to two decimals (undefined stays undefined). */
function round2(x: number | undefined): number | undefined {
  return x === undefined ? undefined : Math.round(x * 100) / 100;
}

/** What each Brook case keeps in state, for the result's parameters. */
const STORE_OF: Record<string, string> = {
  stateful: 'lmdb+cache+changelog',
  windowed: 'DSL: tumbling 60 s windows (records 1 ms apart), emit on update, lmdb+cache+changelog',
  join: 'DSL: stream-table join, table of `keys` 50-byte rows kept from its own topic (lmdb+cache)',
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): number | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  // `--only stateful` (etc.) runs one case, for profiling; `stateful-brook` is the old spelling.
  const only = args.includes('--only')
    ? args[args.indexOf('--only') + 1]?.replace(/-brook$/, '')
    : undefined;
  const messages = arg('--messages') ?? 1_000_000;
  const partitions = arg('--partitions') ?? 4;
  const keys = arg('--keys') ?? 10_000;
  const commitMs = arg('--commit-ms') ?? 5000;
  const rows = await runStreamsBench({
    commitMs,
    ...(only === undefined ? {} : { cases: only.split(',') }),
    messages,
    partitions,
    keys,
    profile: args.includes('--cpu-prof'),
  });
  for (const r of rows) {
    const commits =
      r.params.taskCommits === undefined
        ? ''
        : `  (${r.params.taskCommits} task commits, ${r.params.meanCommitMs} ms mean commit; CPU per message: job ${r.params.jobCpuUsPerMessage} µs, broker ${r.params.brokerCpuUsPerMessage} µs)`;
    console.log(
      `${r.case.padEnd(18)} ${Math.round(r.messagesPerSec).toLocaleString('en')} msg/s${commits}`,
    );
  }
  console.log(
    `\n${messages} messages of 100 bytes, ${keys} keys, ${partitions} partitions, one container, acks=all, no compression, task.commit.ms=${commitMs}`,
  );
  console.log(`machine: ${machine()} (the broker runs on the same cores)`);
  for (const shape of ['stateless', 'stateful']) {
    const brook = rows.find((r) => r.case === shape)?.messagesPerSec;
    const kafkajs = rows.find((r) => r.case === `${shape}-kafkajs`)?.messagesPerSec;
    if (brook === undefined || kafkajs === undefined) continue;
    console.log(`${shape}: brook / kafkajs = ${(brook / kafkajs).toFixed(2)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await main();
