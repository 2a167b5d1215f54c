/**
 * Client throughput: Brook's producer and consumer against kafkajs 2.2.4 and node-rdkafka (librdkafka,
 * when the optional native build is installed), all talking to the same Brook broker in the same
 * run. Records of 100-byte values, no keys, 6 partitions, acks=1, no
 * compression (Kafka's 2014 benchmark shape). Each round produces N records with each client into
 * its own topic, then consumes them back from the beginning; the median of the rounds is
 * reported with the ratio. Run with `npx tsx bench/client.ts [--records N] [--rounds R]`, or call
 * {@link runClientBench} from the benchmark suite.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as RdKafka from 'node-rdkafka';
import { Kafka, logLevel } from 'kafkajs';
import { Admin, Consumer, Producer } from '../src/client/index.js';
import { machine, median } from './common.js';

const PARTITIONS = 6;
const VALUE_BYTES = 100;
const VALUE = Buffer.alloc(VALUE_BYTES, 'x');
/** Records per send call, and how many calls each producer keeps outstanding. */
const CHUNK = 1000;
const SENDS_IN_FLIGHT = 64;

/** One figure of the client benchmark: a client's median throughput for one operation. */
export interface ClientBenchRow {
  /** 'brook' | 'kafkajs' (| 'node-rdkafka' when installed). */
  readonly client: string;
  readonly op: 'produce' | 'consume';
  /** Median over the rounds. */
  readonly recordsPerSec: number;
  /** Everything that shaped the figure, with each round's figure. */
  readonly params: Record<string, unknown>;
}

/** Options of {@link runClientBench}. */
export interface ClientBenchOptions {
  /** Records produced (and consumed back) per client and round; 200,000 by default. */
  readonly records?: number;
  /** Rounds whose median is reported; 3 by default. */
  readonly rounds?: number;
  /** Progress lines (one per round); silent by default. */
  readonly log?: (line: string) => void;
}

/** A client under test: produces `records` into a topic, consumes `expected` back. */
interface BenchClient {
  readonly name: string;
  /** How it was configured, for the report. */
  readonly settings: Record<string, unknown>;
  produce(bootstrap: string, topic: string, records: number): Promise<number>;
  consume(bootstrap: string, topic: string, expected: number, round: number): Promise<number>;
}

async function startBrook(): Promise<{ port: number; stop: () => Promise<void> }> {
  const root = new URL('../', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'brook-bench-client-'));
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'test/broker/helpers/brook-cli.ts'),
      'start',
      '--data-dir',
      dir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      // Off: other brokers on this machine may hold the default metrics port.
      '--metrics-port',
      '0',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      reject(new Error('broker did not start'));
    }, 30000);
    proc.once('exit', (code) => {
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`broker exited with code ${code} before it was ready`));
    });
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        try {
          const j = JSON.parse(line) as { event?: string; port?: number };
          if (j.event === 'ready' && j.port) {
            clearTimeout(t);
            resolve(j.port);
          }
        } catch {
          // partial line
        }
      }
    });
  });
  return {
    port,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Keeps SENDS_IN_FLIGHT sends of CHUNK records outstanding; returns records per second. */
async function pipelined(records: number, send: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  const pending: Promise<unknown>[] = [];
  for (let sent = 0; sent < records; sent += CHUNK) {
    pending.push(send());
    if (pending.length >= SENDS_IN_FLIGHT) await pending.shift();
  }
  await Promise.all(pending);
  return records / (Number(process.hrtime.bigint() - start) / 1e9);
}

const brook: BenchClient = {
  name: 'brook',
  settings: { lingerMs: 5, batchSize: 16384, idempotent: false, consumer: 'manual assignment' },
  async produce(bootstrap, topic, records) {
    const producer = new Producer({
      bootstrapServers: bootstrap,
      acks: 1,
      idempotent: false,
      lingerMs: 5,
    });
    const chunk = Array.from({ length: CHUNK }, () => ({ value: VALUE }));
    await producer.send(topic, [{ value: VALUE }]);
    const rate = await pipelined(records, () => producer.send(topic, chunk));
    await producer.close();
    return rate;
  },
  async consume(bootstrap, topic, expected) {
    const consumer = new Consumer({ bootstrapServers: bootstrap, autoOffsetReset: 'earliest' });
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
    let n = 0;
    let bytes = 0;
    const start = process.hrtime.bigint();
    while (n < expected) {
      const b = await consumer.poll(5000);
      if (!b) throw new Error(`brook consumer stalled at ${n}`);
      b.forEachValue((_buf, _off, len) => {
        n++;
        bytes += len;
      });
      consumer.markProcessed(b);
    }
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    await consumer.close();
    if (bytes < expected * VALUE_BYTES) throw new Error('short values');
    return n / secs;
  },
};

const kafkajs: BenchClient = {
  name: 'kafkajs',
  settings: { version: '2.2.4', maxBytesPerPartition: 1048576, consumer: 'group, eachBatch' },
  async produce(bootstrap, topic, records) {
    const kafka = new Kafka({
      brokers: [bootstrap],
      clientId: 'bench',
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const messages = Array.from({ length: CHUNK }, () => ({ value: VALUE }));
    await producer.send({ topic, messages: [{ value: VALUE }], acks: 1 });
    const rate = await pipelined(records, () => producer.send({ topic, messages, acks: 1 }));
    await producer.disconnect();
    return rate;
  },
  async consume(bootstrap, topic, expected, round) {
    const kafka = new Kafka({
      brokers: [bootstrap],
      clientId: 'bench',
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({
      groupId: `bench-kafkajs-${round}-${Date.now()}`,
      maxBytesPerPartition: 1048576,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let n = 0;
    // kafkajs has no manual assignment: its clock starts when it has joined its group (fetching
    // starts then), as Brook's starts at assign().
    let start = process.hrtime.bigint();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      start = process.hrtime.bigint();
    });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          n += batch.messages.length;
          if (n >= expected) resolve();
        },
      });
    });
    await done;
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    await consumer.disconnect();
    return n / secs;
  },
};

/**
 * librdkafka through node-rdkafka, with librdkafka's own defaults for batching (linger 5 ms, up
 * to 10,000 records or 1 MB a batch) and fetching. The producer hands records over one by one (its
 * only API) and counts delivery reports; the consumer is manually assigned and reads in batches of
 * 1000 (`consume(n)`, its fastest mode), clock from `assign` as Brook's.
 */
function rdkafka(lib: typeof RdKafka, version: string): BenchClient {
  const QUEUE_FULL = lib.CODES.ERRORS.ERR__QUEUE_FULL;
  return {
    name: 'node-rdkafka',
    settings: {
      version: `node-rdkafka ${version} (librdkafka ${lib.librdkafkaVersion})`,
      producer: "librdkafka defaults, dr_cb, 'request.required.acks': 1",
      consumer: 'manual assignment, consume(1000)',
    },
    async produce(bootstrap, topic, records) {
      const producer = new lib.Producer(
        {
          'metadata.broker.list': bootstrap,
          'client.id': 'bench',
          dr_cb: true,
        },
        { 'request.required.acks': 1 },
      );
      await new Promise<void>((resolve, reject) =>
        producer.connect({}, (err) => (err ? reject(err) : resolve())),
      );
      producer.setPollInterval(1);
      let delivered = 0;
      let failed: RdKafka.LibrdKafkaError | undefined;
      let wake: (() => void) | undefined;
      producer.on('delivery-report', (err) => {
        if (err) failed ??= err;
        delivered++;
        wake?.();
      });
      const waitFor = (n: number): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (failed) reject(new Error(`node-rdkafka delivery failed: ${failed.message}`));
            else if (delivered >= n) {
              wake = undefined;
              resolve();
            } else wake = check;
          };
          check();
        });
      producer.produce(topic, null, VALUE, null);
      await waitFor(1);
      const start = process.hrtime.bigint();
      let sent = 0;
      while (sent < records) {
        try {
          producer.produce(topic, null, VALUE, null);
          sent++;
          // Yield now and then, so that delivery reports are handed to JavaScript.
          if (sent % CHUNK === 0) await new Promise((r) => setImmediate(r));
        } catch (e) {
          if ((e as { code?: number }).code !== QUEUE_FULL) throw e;
          await waitFor(delivered + 1);
        }
      }
      await waitFor(records + 1);
      const rate = records / (Number(process.hrtime.bigint() - start) / 1e9);
      await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
      return rate;
    },
    async consume(bootstrap, topic, expected, round) {
      const consumer = new lib.KafkaConsumer(
        {
          'metadata.broker.list': bootstrap,
          'group.id': `bench-rdkafka-${round}-${Date.now()}`,
          'enable.auto.commit': false,
        },
        { 'auto.offset.reset': 'earliest' },
      );
      await new Promise<void>((resolve, reject) =>
        consumer.connect({}, (err) => (err ? reject(err) : resolve())),
      );
      const start = process.hrtime.bigint();
      consumer.assign(
        Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })),
      );
      let n = 0;
      let bytes = 0;
      while (n < expected) {
        const messages = await new Promise<RdKafka.Message[]>((resolve, reject) =>
          consumer.consume(CHUNK, (err, ms) => (err ? reject(err) : resolve(ms))),
        );
        for (const m of messages) {
          n++;
          bytes += m.value?.length ?? 0;
        }
      }
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
      if (bytes < expected * VALUE_BYTES) throw new Error('short values');
      return n / secs;
    },
  };
}

/** The clients that can run here: Brook and kafkajs always, node-rdkafka when it is installed. */
async function clients(log: (line: string) => void): Promise<BenchClient[]> {
  const list = [brook, kafkajs];
  try {
    const mod = (await import('node-rdkafka')) as typeof RdKafka & { default?: typeof RdKafka };
    const { version } = createRequire(import.meta.url)('node-rdkafka/package.json') as {
      version: string;
    };
    list.push(rdkafka(mod.default ?? mod, version));
  } catch (e) {
    log(`node-rdkafka left out: ${(e as Error).message}`);
  }
  return list;
}

/**
 * Starts a Brook broker on 127.0.0.1, runs `rounds` rounds in which every client produces
 * `records` 100-byte records into its own 6-partition topic and consumes them back from the
 * beginning, stops the broker, and returns each client's median records/s per operation.
 */
export async function runClientBench(opts: ClientBenchOptions = {}): Promise<ClientBenchRow[]> {
  const records = opts.records ?? 200000;
  const rounds = opts.rounds ?? 3;
  const log = opts.log ?? (() => {});
  const list = await clients(log);
  const rates = new Map<string, { produce: number[]; consume: number[] }>(
    list.map((c) => [c.name, { produce: [], consume: [] }]),
  );
  const broker = await startBrook();
  const bootstrap = `127.0.0.1:${broker.port}`;
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    for (let round = 0; round < rounds; round++) {
      const topics = list.map((c) => `bench-${c.name}-${round}`);
      await admin.createTopics(
        topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
      );
      // Rotate who goes first, so that none always meets a warmer (or busier) broker.
      const order = list.map((_, i) => (i + round) % list.length);
      for (const i of order) {
        const c = list[i] as BenchClient;
        rates.get(c.name)?.produce.push(await c.produce(bootstrap, topics[i] as string, records));
      }
      for (const i of order) {
        const c = list[i] as BenchClient;
        rates
          .get(c.name)
          ?.consume.push(await c.consume(bootstrap, topics[i] as string, records + 1, round));
      }
      await admin.deleteTopics(topics);
      log(`round ${round + 1}/${rounds} done`);
    }
  } finally {
    await admin.close();
    await broker.stop();
  }
  const common = {
    records,
    valueBytes: VALUE_BYTES,
    keys: false,
    partitions: PARTITIONS,
    acks: 1,
    compression: 'none',
    rounds,
    recordsPerSend: CHUNK,
    sendsInFlight: SENDS_IN_FLIGHT,
    broker: 'one Brook broker on 127.0.0.1, shared by all clients in the same run',
    machine: machine(),
  };
  const rows: ClientBenchRow[] = [];
  for (const op of ['produce', 'consume'] as const) {
    for (const c of list) {
      const xs = rates.get(c.name)?.[op] ?? [];
      rows.push({
        client: c.name,
        op,
        recordsPerSec: median(xs),
        params: { ...common, ...c.settings, roundsRecordsPerSec: xs.map(Math.round) },
      });
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, dflt: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const records = arg('--records', 200000);
  const rounds = arg('--rounds', 3);
  const rows = await runClientBench({
    records,
    rounds,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const fmt = (x: number): string =>
    `${Math.round(x).toLocaleString('en-US')} rec/s (${((x * VALUE_BYTES) / 1e6).toFixed(1)} MB/s)`;
  console.log(`machine: ${machine()}`);
  console.log(
    `records: ${records} x ${VALUE_BYTES}-byte values, ${PARTITIONS} partitions, acks=1, no compression, ${rounds} rounds (median), one Brook broker on 127.0.0.1 (shared by all clients, busy machine)`,
  );
  for (const op of ['produce', 'consume'] as const) {
    const mine = rows.find((r) => r.client === 'brook' && r.op === op)?.recordsPerSec ?? 0;
    const others = rows
      .filter((r) => r.client !== 'brook' && r.op === op)
      .map(
        (r) =>
          `${r.client} ${fmt(r.recordsPerSec)} (brook ${(mine / r.recordsPerSec).toFixed(2)}x)`,
      );
    console.log(`${op.padEnd(8)} brook ${fmt(mine)}   ${others.join('   ')}`);
  }
  const perRound = Object.fromEntries(
    rows.map((r) => [`${r.client} ${r.op}`, r.params.roundsRecordsPerSec]),
  );
  console.log(`rounds: ${JSON.stringify(perRound)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
