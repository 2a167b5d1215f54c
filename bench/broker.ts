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
 * Parameters: BENCH_PRODUCE_MB (default 64), BENCH_INFLIGHT (default 16). Medians of 3 rounds.
 * The machine is shared and noisy: compare figures from one run only.
 */
import { exec, execSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Broker } from '../src/broker/broker.js';
import { loadBrokerConfig } from '../src/broker/config.js';
import { groupBenchmark } from './groups.js';
import { readResponse } from '../src/protocol/messages.js';
import { encodeRecordBatch, type RecordInput } from '../src/protocol/record-batch/index.js';
import { machine, median, PipeClient } from './common.js';

const MB = 1024 * 1024;
const PRODUCE_MB = Number(process.env.BENCH_PRODUCE_MB ?? 64);
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 16);
const ROUNDS = 3;

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
  try {
    const lo = median([
      await loopback(256 * MB),
      await loopback(256 * MB),
      await loopback(256 * MB),
    ]);
    console.log(
      `loopback TCP echo (16 KiB writes)         ${lo.toFixed(0).padStart(8)} MB/s   (physical limit)`,
    );

    const c = await PipeClient.open(port);
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

    await c.send(19, 5, {
      topics: [
        { name: 'bench', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const { buf, records } = produceBatch();
    const perRound = Math.ceil((PRODUCE_MB * MB) / buf.length);
    const produceRates: number[] = [];
    let produced = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const started = performance.now();
      await pipeline(perRound, INFLIGHT, async () => {
        // The broker stamps offsets into the batch it receives; send a fresh copy each time.
        const res = await c.send(0, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 5000,
          topicData: [{ name: 'bench', partitionData: [{ index: 0, records: Buffer.from(buf) }] }],
        });
        const code = readResponse(res, 0, 9).body.responses[0].partitionResponses[0].errorCode;
        if (code !== 0) throw new Error(`produce failed with error code ${code}`);
      });
      const secs = (performance.now() - started) / 1000;
      produced += perRound * records;
      produceRates.push((perRound * records) / secs);
    }
    const p = median(produceRates);
    console.log(
      `Produce v9 acks=1, 100 B records, 8 KiB batches ${p.toFixed(0).padStart(8)} records/s  ${((p * 108) / MB).toFixed(0)} MB/s`,
    );

    const fetchRates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let offset = 0n;
      const started = performance.now();
      while (Number(offset) < produced) {
        const res = readResponse(
          await c.send(1, 12, {
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: MB,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [
              {
                topic: 'bench',
                partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: MB }],
              },
            ],
            forgottenTopicsData: [],
            rackId: '',
          }),
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
    await kcatRound(port);
    await groupBenchmark(port);
    console.log(
      '\n# Anchor (Kafka 2014, one producer, acks=1, 8 KB batches): 821,557 records/s produce, 940,521 consume',
    );
    c.close();
  } finally {
    await broker.stop('benchmark done');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
