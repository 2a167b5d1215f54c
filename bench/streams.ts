/**
 * Stream processor throughput, one container against a Brook broker on this machine, with
 * 100-byte messages: a stateless job (consume → map → produce) and a stateful count (persistent
 * LMDB store with the write-back cache and a changelog, emitting every new count), each beside
 * the same job written as a hand-made kafkajs consume/produce loop, in the same run.
 * Anchor: Samza's single-node benchmark, ~1.2 M msg/s stateless and ~1.08 M msg/s with RocksDB
 * + changelog on a 24-core machine. Goal here: >= 500,000 msg/s stateless, >= 250,000 stateful.
 *
 *   npm run bench:streams -- [--messages N] [--partitions P] [--keys K]
 *
 * Time is measured from the first message a task sees to the last one (startup, group join and
 * restore are left out), and includes the commits (task.commit.ms=5000, the runtime's default) on the way.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { Admin, Producer } from '../src/client/index.js';
import {
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
} from '../src/streams/index.js';
import { startBroker } from '../test/broker/helpers/broker-process.js';
import { tempFolder } from '../test/streams/runtime-helpers.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const MESSAGES = arg('--messages', 200_000);
const PARTITIONS = arg('--partitions', 4);
const KEYS = arg('--keys', 10_000);
/** `--only stateful-brook` (etc.) runs one row, for profiling. */
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

function machine(): string {
  const nproc = execSync('nproc').toString().trim();
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return `${nproc} cores (nproc), ${cpu}, Node ${process.version}, load ${load}`;
}

/** Fills `topic` with MESSAGES records: key `k<n mod KEYS>`, 100-byte value. */
async function preload(bootstrap: string, topic: string): Promise<void> {
  const producer = new Producer({
    bootstrapServers: bootstrap,
    lingerMs: 5,
    batchSize: 256 * 1024,
  });
  const value = Buffer.alloc(100, 'x');
  const chunk = 5000;
  for (let i = 0; i < MESSAGES; i += chunk) {
    const records = [];
    for (let j = i; j < Math.min(MESSAGES, i + chunk); j++)
      records.push({ key: `k${j % KEYS}`, value });
    await producer.send(topic, records);
  }
  await producer.close();
}

/** A stopwatch the tasks share: first message to the MESSAGES-th. */
class Clock {
  first = 0;
  last = 0;
  count = 0;
  tick(coordinator: TaskCoordinator): void {
    if (this.count === 0) this.first = performance.now();
    if (++this.count === MESSAGES) {
      this.last = performance.now();
      coordinator.shutdown();
    }
  }
  get rate(): number {
    return MESSAGES / ((this.last - this.first) / 1000);
  }
}

async function runBrookJob(bootstrap: string, name: string, stateful: boolean): Promise<number> {
  const clock = new Clock();
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
  const state = tempFolder('brook-bench-streams-');
  try {
    const job = stateful
      ? defineJob({ id: name, inputs, outputs, stores, task: () => new Counting() })
      : defineJob({ id: name, inputs, outputs, stores: {}, task: () => new Stateless() });
    const container = new Container(job, {
      bootstrapServers: bootstrap,
      stateDir: state.path,
      config: { 'task.commit.ms': '5000' },
      logger: pino({ level: 'warn' }),
    });
    await container.run();
    const commits = (await container.metrics.commitLatency.get()).values;
    const sum = commits
      .filter((v) => v.metricName?.endsWith('_sum'))
      .reduce((a, v) => a + v.value, 0);
    const count = commits
      .filter((v) => v.metricName?.endsWith('_count'))
      .reduce((a, v) => a + v.value, 0);
    const seconds = (clock.last - clock.first) / 1000;
    console.log(
      `  (${name}: ${seconds.toFixed(2)} s, ${count} task commits, ${((sum / Math.max(1, count)) * 1000).toFixed(0)} ms mean commit)`,
    );
    return clock.rate;
  } finally {
    state.remove();
  }
}

async function runKafkajs(bootstrap: string, name: string, stateful: boolean): Promise<number> {
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
        if (seen >= MESSAGES) resolve(MESSAGES / ((performance.now() - first) / 1000));
      },
    });
  });
  const rate = await done;
  await consumer.disconnect();
  await producer.disconnect();
  return rate;
}

async function main(): Promise<void> {
  const broker = await startBroker({ args: ['--set', 'group.initial.rebalance.delay.ms=0'] });
  const bootstrap = `127.0.0.1:${broker.port}`;
  try {
    const rows: [string, string, number][] = [];
    for (const [shape, stateful] of [
      ['stateless', false],
      ['stateful', true],
    ] as const) {
      for (const runner of ['brook', 'kafkajs'] as const) {
        if (ONLY !== undefined && ONLY !== `${shape}-${runner}`) continue;
        const name = `bench-${shape}-${runner}`;
        const admin = new Admin({ bootstrapServers: bootstrap });
        await admin.createTopics([
          { topic: `${name}-in`, numPartitions: PARTITIONS },
          { topic: `${name}-out`, numPartitions: PARTITIONS },
        ]);
        await admin.close();
        await preload(bootstrap, `${name}-in`);
        const rate =
          runner === 'brook'
            ? await runBrookJob(bootstrap, name, stateful)
            : await runKafkajs(bootstrap, name, stateful);
        rows.push([shape, runner, rate]);
        console.log(
          `${shape.padEnd(9)} ${runner.padEnd(7)} ${Math.round(rate).toLocaleString('en')} msg/s`,
        );
      }
    }
    console.log(
      `\n${MESSAGES} messages of 100 bytes, ${KEYS} keys, ${PARTITIONS} partitions, one container, acks=all, no compression`,
    );
    console.log(`machine: ${machine()} (the broker runs on the same cores)`);
    for (const shape of ['stateless', 'stateful']) {
      const brook = rows.find((r) => r[0] === shape && r[1] === 'brook')?.[2];
      const kafkajs = rows.find((r) => r[0] === shape && r[1] === 'kafkajs')?.[2];
      if (brook === undefined || kafkajs === undefined) continue;
      console.log(`${shape}: brook / kafkajs = ${(brook / kafkajs).toFixed(2)}`);
    }
  } finally {
    await broker.cleanup();
  }
}

await main();
