/**
 * Client throughput: Brook's producer and consumer against kafkajs 2.2.4, both talking to the same
 * Brook broker in the same run. Records of 100-byte values, no keys, 6 partitions, acks=1, no
 * compression (Kafka's 2014 benchmark shape). Each round produces N records with each client into
 * its own topic, then consumes them back from the beginning; the median of the rounds is
 * reported with the ratio. Run with `npx tsx bench/client.ts [--records N] [--rounds R]`.
 * node-rdkafka is left out (it builds librdkafka from source for minutes).
 */
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Admin, Consumer, Producer } from '../src/client/index.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RECORDS = arg('--records', 200000);
const ROUNDS = arg('--rounds', 3);
const PARTITIONS = 6;
const VALUE = Buffer.alloc(100, 'x');
const CHUNK = 1000;

function machine(): string {
  const nproc = execSync('nproc').toString().trim();
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
  return `${nproc} cores (nproc), ${cpu}, Node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
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
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('broker did not start'));
    }, 30000);
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

async function brookProduce(bootstrap: string, topic: string): Promise<number> {
  const producer = new Producer({
    bootstrapServers: bootstrap,
    acks: 1,
    idempotent: false,
    lingerMs: 5,
  });
  const chunk = Array.from({ length: CHUNK }, () => ({ value: VALUE }));
  await producer.send(topic, [{ value: VALUE }]);
  const start = process.hrtime.bigint();
  const pending: Promise<unknown>[] = [];
  for (let sent = 0; sent < RECORDS; sent += CHUNK) {
    pending.push(producer.send(topic, chunk));
    if (pending.length >= 64) await pending.shift();
  }
  await Promise.all(pending);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await producer.close();
  return RECORDS / secs;
}

async function brookConsume(bootstrap: string, topic: string, expected: number): Promise<number> {
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
  if (bytes < expected * 100) throw new Error('short values');
  return n / secs;
}

async function kafkajsProduce(bootstrap: string, topic: string): Promise<number> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'bench', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const messages = Array.from({ length: CHUNK }, () => ({ value: VALUE }));
  await producer.send({ topic, messages: [{ value: VALUE }], acks: 1 });
  const start = process.hrtime.bigint();
  const pending: Promise<unknown>[] = [];
  for (let sent = 0; sent < RECORDS; sent += CHUNK) {
    pending.push(producer.send({ topic, messages, acks: 1 }));
    if (pending.length >= 64) await pending.shift();
  }
  await Promise.all(pending);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await producer.disconnect();
  return RECORDS / secs;
}

async function kafkajsConsume(
  bootstrap: string,
  topic: string,
  expected: number,
  round: number,
): Promise<number> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'bench', logLevel: logLevel.NOTHING });
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
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const broker = await startBrook();
  const bootstrap = `127.0.0.1:${broker.port}`;
  const admin = new Admin({ bootstrapServers: bootstrap });
  const results = {
    brookProduce: [] as number[],
    kafkajsProduce: [] as number[],
    brookConsume: [] as number[],
    kafkajsConsume: [] as number[],
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const tb = `bench-brook-${round}`;
      const tk = `bench-kafkajs-${round}`;
      await admin.createTopics([
        { topic: tb, numPartitions: PARTITIONS, replicationFactor: 1 },
        { topic: tk, numPartitions: PARTITIONS, replicationFactor: 1 },
      ]);
      // Alternate who goes first, so that neither always meets a warmer broker.
      if (round % 2 === 0) {
        results.brookProduce.push(await brookProduce(bootstrap, tb));
        results.kafkajsProduce.push(await kafkajsProduce(bootstrap, tk));
      } else {
        results.kafkajsProduce.push(await kafkajsProduce(bootstrap, tk));
        results.brookProduce.push(await brookProduce(bootstrap, tb));
      }
      results.brookConsume.push(await brookConsume(bootstrap, tb, RECORDS + 1));
      results.kafkajsConsume.push(await kafkajsConsume(bootstrap, tk, RECORDS + 1, round));
      await admin.deleteTopics([tb, tk]);
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
  } finally {
    await admin.close();
    await broker.stop();
  }
  const fmt = (x: number): string =>
    `${Math.round(x).toLocaleString('en-US')} rec/s (${((x * 100) / 1e6).toFixed(1)} MB/s)`;
  const bp = median(results.brookProduce);
  const kp = median(results.kafkajsProduce);
  const bc = median(results.brookConsume);
  const kc = median(results.kafkajsConsume);
  console.log(`machine: ${machine()}`);
  console.log(
    `records: ${RECORDS} x 100-byte values, ${PARTITIONS} partitions, acks=1, no compression, ${ROUNDS} rounds (median), one Brook broker on 127.0.0.1 (shared by both clients, busy machine)`,
  );
  console.log(`produce  brook   ${fmt(bp)}   kafkajs ${fmt(kp)}   ratio ${(bp / kp).toFixed(2)}x`);
  console.log(`consume  brook   ${fmt(bc)}   kafkajs ${fmt(kc)}   ratio ${(bc / kc).toFixed(2)}x`);
  console.log(
    `rounds: ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map(Math.round)])))}`,
  );
}

await main();
