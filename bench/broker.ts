/**
 * Broker benchmark: `npm run bench:broker`. Starts a broker in this process on 127.0.0.1 with a
 * temporary data dir and drives it over TCP with a bare protocol client (no client library in the
 * way), side by side with the physical limit of the same loopback:
 *  - loopback: raw TCP echo of 16 KiB frames (the ceiling for any broker here);
 *  - ApiVersions v3 requests, pipelined (framing + dispatch + encode cost per request);
 *  - Produce v9, acks=1, 100-byte records in ~8 KiB batches, one partition, N requests in flight
 *    (Kafka's 2014 benchmark shape: 100-byte records, 8 KB batches, acks=1);
 *  - Fetch v12 of everything produced, 1 MiB per request (batches read from segment files).
 *  - a real client when kcat is installed: `kcat -P` of BENCH_KCAT_RECORDS (default 200,000)
 *    100-byte lines, then `kcat -C` to the end (one run each, process start-up included).
 *  - end-to-end latency at a fixed rate (BENCH_LATENCY_RATE records/s, default 10,000, for
 *    BENCH_LATENCY_SECONDS, default 5) against a broker in its own process: each record's latency
 *    runs from the time the schedule said it should be sent (not when it was), so a stall of the
 *    producer, broker or consumer counts for every record it delayed (no coordinated omission);
 *  - the CPU time a broker process spends per produced record (user and system, from /proc: the
 *    figure to compare before and after a change on a busy machine), and a CPU profile
 *    (`node --cpu-prof`) of a broker process under the produce load, summarised by self time.
 * Parameters: BENCH_PRODUCE_MB (default 64), BENCH_INFLIGHT (default 16), BENCH_ONLY (a comma
 * list of loopback, apiversions, produce, fetch, kcat, groups, latency, cpu, profile). Medians of 3
 * rounds. The machine is shared and noisy: compare figures from one run only.
 */
import { type ChildProcess, exec, execSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Broker } from '../src/broker/broker.js';
import { loadBrokerConfig } from '../src/broker/config.js';
import { groupBenchmark } from './groups.js';
import { readResponse } from '../src/protocol/messages.js';
import {
  encodeRecordBatch,
  iterateRecordBatches,
  type RecordInput,
} from '../src/protocol/record-batch/index.js';
import { cpuSeconds, machine, median, PipeClient } from './common.js';
import { type CpuProfile, monotonicUs, summariseProfile } from './profile.js';

const MB = 1024 * 1024;
const PRODUCE_MB = Number(process.env.BENCH_PRODUCE_MB ?? 64);
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 16);
const ROUNDS = 3;
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 10000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
const ONLY = new Set((process.env.BENCH_ONLY ?? '').split(',').filter((x) => x !== ''));
/** Whether a section runs (all of them unless BENCH_ONLY names some). */
const runs = (section: string): boolean => ONLY.size === 0 || ONLY.has(section);
const ROOT = new URL('../', import.meta.url).pathname;

const sh = promisify(exec);

/** Runs `total` requests with `inflight` outstanding at a time. */
async function pipeline(
  total: number,
  inflight: number,
  next: (i: number) => Promise<unknown>,
): Promise<void> {
  let issued = 0;
  const lanes = Array.from({ length: Math.min(inflight, total) }, async () => {
    while (issued < total) await next(issued++);
  });
  await Promise.all(lanes);
}

async function loopback(bytes: number): Promise<number> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const frame = Buffer.alloc(16 * 1024, 7);
  const s = connect({ port, host: '127.0.0.1' });
  await new Promise((r) => s.once('connect', r));
  const started = performance.now();
  let received = 0;
  const done = new Promise<void>((resolve) =>
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= bytes) resolve();
    }),
  );
  for (let sent = 0; sent < bytes; sent += frame.length) {
    if (!s.write(frame)) await new Promise((r) => s.once('drain', r));
  }
  await done;
  const secs = (performance.now() - started) / 1000;
  s.destroy();
  await new Promise((r) => server.close(r));
  return bytes / MB / secs;
}

function produceBatch(): { buf: Buffer; records: number } {
  const value = Buffer.alloc(100, 'x');
  const records: RecordInput[] = [];
  let size = 61;
  while (size + 110 <= 8 * 1024) {
    records.push({ value });
    size += 108;
  }
  return { buf: encodeRecordBatch({ records, timestamp: Date.now() }), records: records.length };
}

/** A real client: kcat (librdkafka) producing and consuming 100-byte records, when installed. */
async function kcatRound(port: number): Promise<void> {
  try {
    execSync('kcat -V', { stdio: 'ignore' });
  } catch {
    console.log('kcat not installed: real-client figures skipped');
    return;
  }
  const n = Number(process.env.BENCH_KCAT_RECORDS ?? 200000);
  const file = join(tmpdir(), `brook-bench-kcat-${process.pid}.txt`);
  writeFileSync(file, `${'x'.repeat(100)}\n`.repeat(n));
  try {
    const b = `-b 127.0.0.1:${port}`;
    let started = performance.now();
    // Asynchronously: the broker runs in this process and must keep serving meanwhile.
    await sh(`kcat ${b} -P -t kcat-bench -X linger.ms=5 -X batch.size=16384 -l ${file}`);
    const produce = n / ((performance.now() - started) / 1000);
    started = performance.now();
    await sh(`kcat ${b} -C -t kcat-bench -o beginning -e -q -f '%o\\n' > /dev/null`);
    const consume = n / ((performance.now() - started) / 1000);
    console.log(
      `kcat -P (librdkafka, linger 5 ms, 16 KiB batches) ${produce.toFixed(0).padStart(8)} records/s  (${n} records, one run, includes start-up)`,
    );
    console.log(
      `kcat -C to the end                       ${consume.toFixed(0).padStart(8)} records/s  (includes start-up)`,
    );
  } finally {
    rmSync(file, { force: true });
  }
}

/** A broker in its own process (`brook start` from the sources), as a user runs it. */
interface ChildBroker {
  proc: ChildProcess;
  port: number;
  dir: string;
}

async function spawnBroker(nodeFlags: string[] = []): Promise<ChildBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'brook-bench-child-'));
  const cli = join(ROOT, 'test/broker/helpers/brook-cli.ts');
  const args = ['start', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0'];
  const proc = spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', cli, ...args, '--metrics-port', '0'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    proc.stdout?.on('data', (d: Buffer) => {
      pending += d.toString();
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.includes('"ready"')) resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    proc.once('exit', (code) => reject(new Error(`the broker exited with ${code}`)));
  });
  return { proc, port, dir };
}

async function stopBroker(b: ChildBroker): Promise<void> {
  const exited = new Promise((r) => b.proc.once('exit', r));
  b.proc.kill('SIGTERM');
  await exited;
  rmSync(b.dir, { recursive: true, force: true });
}

async function createTopic(c: PipeClient, name: string): Promise<void> {
  await c.send(19, 5, {
    topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
}

/** One produce round of `requests` copies of `batch` to partition 0, `INFLIGHT` in flight. */
async function produceRound(c: PipeClient, topic: string, batch: Buffer, requests: number) {
  const started = performance.now();
  await pipeline(requests, INFLIGHT, async () => {
    // The broker stamps offsets into the batch it receives; send a fresh copy each time.
    const res = await c.send(0, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: Buffer.from(batch) }] }],
    });
    const code = readResponse(res, 0, 9).body.responses[0].partitionResponses[0].errorCode;
    if (code !== 0) throw new Error(`produce failed with error code ${code}`);
  });
  return (performance.now() - started) / 1000;
}

/** A fetch v12 request body for one partition. */
function fetchBody(topic: string, offset: bigint, maxWaitMs: number, minBytes: number) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes,
    maxBytes: MB,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: MB }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

/**
 * End-to-end latency at a fixed rate: a producer sends, about every millisecond, the records the
 * schedule says are due (acks=1, pipelined, never waiting for a response), a consumer long-polls
 * Fetch on its own connection. A record's latency runs from its scheduled send time to the
 * moment the consumer holds it, so time lost anywhere (a late timer, a GC pause, a slow append)
 * counts against every record it delayed. The first second is warm-up and not counted.
 */
async function e2eLatency(port: number, rate: number, seconds: number): Promise<Float64Array> {
  const producer = await PipeClient.open(port);
  const consumer = await PipeClient.open(port);
  await createTopic(producer, 'latency');
  const total = rate * (seconds + 1);
  const interval = 1000 / rate;
  const latencies = new Float64Array(total);
  const value = Buffer.alloc(100, 'x');
  const start = performance.now() + 20;
  let received = 0;
  const consume = (async () => {
    let offset = 0n;
    while (received < total) {
      const res = await consumer.request(1, 12, fetchBody('latency', offset, 500, 1));
      const records = res.responses[0].partitions[0].records;
      if (!records) continue;
      const now = performance.now();
      for (const batch of iterateRecordBatches(records as Buffer)) {
        for (const r of batch) {
          const i = (r.value as Buffer).readUInt32BE(0);
          latencies[i] = now - (start + i * interval);
          received++;
        }
        offset = BigInt(batch.baseOffset + batch.lastOffsetDelta + 1);
      }
    }
  })();
  let next = 0;
  const sent: Promise<Buffer>[] = [];
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      if (due > next) {
        const records: RecordInput[] = [];
        for (; next < due; next++) {
          const v = Buffer.from(value);
          v.writeUInt32BE(next, 0);
          records.push({ value: v });
        }
        sent.push(
          producer.send(0, 9, {
            transactionalId: null,
            acks: 1,
            timeoutMs: 5000,
            topicData: [
              {
                name: 'latency',
                partitionData: [{ index: 0, records: encodeRecordBatch({ records }) }],
              },
            ],
          }),
        );
      }
      if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
      else resolve();
    };
    setTimeout(tick, 20);
  });
  await Promise.all(sent);
  await consume;
  producer.close();
  consumer.close();
  return latencies.subarray(rate).sort();
}

function formatLatency(sorted: Float64Array): string {
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  return `p50 ${ms(at(0.5))}  p99 ${ms(at(0.99))}  p99.9 ${ms(at(0.999))}  max ${ms(sorted[sorted.length - 1])}`;
}

/**
 * The broker's own CPU time per produced record (user and system, from /proc), medians of
 * ROUNDS rounds against a broker process. Unlike records/s this hardly depends on how busy the
 * rest of the machine is, so it is the figure to compare before and after a change.
 */
async function produceCpu(batch: Buffer, records: number): Promise<void> {
  const b = await spawnBroker();
  const c = await PipeClient.open(b.port);
  try {
    await createTopic(c, 'bench');
    const requests = Math.ceil((PRODUCE_MB * MB) / batch.length);
    await produceRound(c, 'bench', batch, requests >> 2); // warm-up
    const user: number[] = [];
    const sys: number[] = [];
    const rates: number[] = [];
    const pid = b.proc.pid as number;
    for (let r = 0; r < ROUNDS; r++) {
      const before = cpuSeconds(pid);
      const secs = await produceRound(c, 'bench', batch, requests);
      const after = cpuSeconds(pid);
      user.push(((after.user - before.user) * 1e9) / (requests * records));
      sys.push(((after.sys - before.sys) * 1e9) / (requests * records));
      rates.push((requests * records) / secs);
    }
    // The fastest of many short rounds: on a busy machine, the one least disturbed by others.
    let best = 0;
    for (let r = 0; r < 30; r++) {
      const secs = await produceRound(c, 'bench', batch, 256);
      best = Math.max(best, (256 * records) / secs);
    }
    console.log(
      `\nBroker process CPU per produced record (Produce v9, 8 KiB batches, ${INFLIGHT} in flight): user ${median(user).toFixed(0)} ns + system ${median(sys).toFixed(0)} ns  (${median(rates).toFixed(0)} records/s meanwhile); fastest of 30 rounds of 256 requests ${best.toFixed(0)} records/s`,
    );
  } finally {
    c.close();
    await stopBroker(b);
  }
}

/** The produce case against a broker process run with `--cpu-prof`; prints the summary. */
async function profileProduce(batch: Buffer, records: number): Promise<void> {
  const profDir = mkdtempSync(join(tmpdir(), 'brook-bench-prof-'));
  try {
    const b = await spawnBroker(['--cpu-prof', '--cpu-prof-dir', profDir]);
    const c = await PipeClient.open(b.port);
    await createTopic(c, 'bench');
    const requests = Math.ceil((PRODUCE_MB * MB) / batch.length);
    await produceRound(c, 'bench', batch, requests >> 2); // warm-up, not profiled
    const from = monotonicUs();
    const secs = await produceRound(c, 'bench', batch, requests);
    const to = monotonicUs();
    c.close();
    await stopBroker(b);
    const rate = (requests * records) / secs;
    console.log(
      `\nCPU profile of a broker process (--cpu-prof) under Produce v9 (${PRODUCE_MB} MiB after a warm-up, ${INFLIGHT} in flight, ${rate.toFixed(0)} records/s while profiled):`,
    );
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the broker wrote no CPU profile');
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
    for (const line of summariseProfile(profile, from, to)) console.log(line);
  } finally {
    rmSync(profDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'brook-bench-broker-'));
  const config = loadBrokerConfig({
    flags: { dataDir: dir, host: '127.0.0.1', port: 0, metricsPort: 0 },
    sets: ['group.initial.rebalance.delay.ms=0'],
  });
  const broker = await Broker.start(config, pino({ level: 'warn' }));
  const port = broker.addresses.listeners[0].port;
  console.log(`# Brook broker benchmark — ${machine()}`);
  console.log(
    `# produce ${PRODUCE_MB} MiB per round, ${INFLIGHT} requests in flight, medians of ${ROUNDS} rounds\n`,
  );
  const c = await PipeClient.open(port);
  const { buf, records } = produceBatch();
  try {
    if (runs('loopback')) {
      const lo = median([
        await loopback(256 * MB),
        await loopback(256 * MB),
        await loopback(256 * MB),
      ]);
      console.log(
        `loopback TCP echo (16 KiB writes)         ${lo.toFixed(0).padStart(8)} MB/s   (physical limit)`,
      );
    }

    if (runs('apiversions')) {
      const av: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const n = 50000;
        const started = performance.now();
        await pipeline(n, 64, () =>
          c.send(18, 3, { clientSoftwareName: 'bench', clientSoftwareVersion: '1' }),
        );
        av.push(n / ((performance.now() - started) / 1000));
      }
      console.log(
        `ApiVersions v3, 64 in flight              ${median(av).toFixed(0).padStart(8)} req/s`,
      );
    }

    let produced = 0;
    if (runs('produce') || runs('fetch')) {
      await createTopic(c, 'bench');
      const perRound = Math.ceil((PRODUCE_MB * MB) / buf.length);
      const produceRates: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const secs = await produceRound(c, 'bench', buf, perRound);
        produced += perRound * records;
        produceRates.push((perRound * records) / secs);
      }
      const p = median(produceRates);
      console.log(
        `Produce v9 acks=1, 100 B records, 8 KiB batches ${p.toFixed(0).padStart(8)} records/s  ${((p * 108) / MB).toFixed(0)} MB/s`,
      );
    }

    if (runs('fetch')) {
      const fetchRates: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        let offset = 0n;
        const started = performance.now();
        while (Number(offset) < produced) {
          const res = readResponse(
            await c.send(1, 12, fetchBody('bench', offset, 0, 0)),
            1,
            12,
          ).body;
          const recs = res.responses[0].partitions[0].records as Buffer;
          // Next offset: after the last whole batch (base offset + lastOffsetDelta + 1).
          let at = 0;
          let last = offset;
          while (at + 61 <= recs.length) {
            last = recs.readBigInt64BE(at) + BigInt(recs.readInt32BE(at + 23)) + 1n;
            at += 12 + recs.readInt32BE(at + 8);
          }
          offset = last;
        }
        const secs = (performance.now() - started) / 1000;
        fetchRates.push(produced / secs);
      }
      const f = median(fetchRates);
      console.log(
        `Fetch v12, 1 MiB per request            ${f.toFixed(0).padStart(8)} records/s  ${((f * 108) / MB).toFixed(0)} MB/s`,
      );
    }
    if (runs('kcat')) await kcatRound(port);
    if (runs('groups')) await groupBenchmark(port);
  } finally {
    c.close();
    await broker.stop('benchmark done');
    rmSync(dir, { recursive: true, force: true });
  }

  if (runs('latency')) {
    const b = await spawnBroker();
    try {
      const lat = await e2eLatency(b.port, LATENCY_RATE, LATENCY_SECONDS);
      console.log(
        `\nEnd-to-end latency, ${LATENCY_RATE} records/s for ${LATENCY_SECONDS} s (100 B, acks=1, broker in its own process, from the scheduled send time): ${formatLatency(lat)}`,
      );
    } finally {
      await stopBroker(b);
    }
  }
  if (runs('cpu')) await produceCpu(buf, records);
  if (runs('profile')) await profileProduce(buf, records);
  console.log(
    '\n# Anchor (Kafka 2014, one producer, acks=1, 8 KB batches): 821,557 records/s produce, 940,521 consume; end-to-end 2 ms median, 3 ms p99, 14 ms p99.9',
  );
}

await main();
