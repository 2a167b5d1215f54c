/**
 * Storage benchmark: `npm run bench:storage`. In one run, side by side on the same disk:
 *  - append throughput of 16 KiB batches of 100-byte records, flush.policy=interval, beside a
 *    raw fs.writeSync loop of the same bytes (the physical limit here);
 *  - flush.policy=always with group commit (concurrent appenders), beside a raw
 *    write+fdatasync loop and a raw loop syncing as often as group commit did;
 *  - sequential read throughput (Log.read file ranges, then the bytes read into memory);
 *  - recovery time of an unflushed active segment (1 GiB by default);
 *  - startup time of a LogManager with 1,000 partitions (clean and unclean).
 * Sizes: BENCH_APPEND_MB (default 512), BENCH_RECOVERY_MB (default 1024), BENCH_PARTITIONS
 * (default 1000), BENCH_ALWAYS_MB (default 128), BENCH_DIR (default the OS temp dir).
 * Append figures are medians of 3 rounds on whatever else the machine is doing.
 */
import { execSync } from 'node:child_process';
import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecordBatch, type RecordInput } from '../src/protocol/record-batch/index.js';
import { logConfig } from '../src/storage/config.js';
import { Log } from '../src/storage/log.js';
import { LogManager } from '../src/storage/log-manager.js';
import { machine, median } from './common.js';

const MB = 1024 * 1024;
const APPEND_MB = Number(process.env.BENCH_APPEND_MB ?? 512);
const ALWAYS_MB = Number(process.env.BENCH_ALWAYS_MB ?? 128);
const RECOVERY_MB = Number(process.env.BENCH_RECOVERY_MB ?? 1024);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 1000);
const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'brook-bench-storage-'));

/** The machine, with the file system the data dir is on. */
function machineWithDisk(): string {
  const fs = execSync(`df -T ${root} | tail -1`)
    .toString()
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(' ');
  return machine(`disk ${fs}`);
}

/** A ~16 KiB batch of 100-byte records (no key), as a producer would send it. */
function makeBatch(): { buf: Buffer; records: number } {
  const records: RecordInput[] = [];
  const value = Buffer.alloc(100, 'x');
  let size = 61;
  while (size + 110 <= 16 * 1024) {
    records.push({ value });
    size += 108;
  }
  return { buf: encodeRecordBatch({ records, timestamp: Date.now() }), records: records.length };
}

const mbps = (bytes: number, ms: number): number => bytes / MB / (ms / 1000);
const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function rawWriteLoop(buf: Buffer, count: number, syncEvery = 0): number {
  const file = join(root, `raw-${Math.random()}.bin`);
  const fd = openSync(file, 'w');
  const t0 = performance.now();
  let pos = 0;
  for (let i = 0; i < count; i++) {
    writeSync(fd, buf, 0, buf.length, pos);
    pos += buf.length;
    if (syncEvery > 0 && (i + 1) % syncEvery === 0) fdatasyncSync(fd);
  }
  if (syncEvery > 0) fdatasyncSync(fd);
  const ms = performance.now() - t0;
  closeSync(fd);
  rmSync(file);
  return ms;
}

async function appendAlways(
  buf: Buffer,
  count: number,
  appenders: number,
): Promise<{ ms: number; syncs: number }> {
  const dir = join(root, `always-${Math.random()}`);
  const log = Log.open({
    dir,
    topic: 'bench',
    partition: 0,
    config: logConfig({ 'flush.policy': 'always' }),
  });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      // Each appender owns a copy: append patches the header in place.
      const own = Buffer.from(buf);
      while (next < count) {
        next++;
        await log.append(own);
      }
    }),
  );
  const ms = performance.now() - t0;
  const syncs = log.stats.syncs;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return { ms, syncs };
}

function interleaved(
  buf: Buffer,
  count: number,
): { rawMs: number; appendMs: number; close: () => Promise<void> } {
  const dir = join(root, `append-${Math.random()}`);
  const log = Log.open({
    dir,
    topic: 'bench',
    partition: 0,
    config: logConfig({ 'flush.ms': 1000 }),
  });
  const file = join(root, `raw-${Math.random()}.bin`);
  const fd = openSync(file, 'w');
  const slice = Math.max(1, Math.floor((4 * MB) / buf.length));
  let rawMs = 0;
  let appendMs = 0;
  let pos = 0;
  for (let done = 0; done < count; done += slice) {
    const n = Math.min(slice, count - done);
    const rawSlice = (): void => {
      const t = performance.now();
      for (let i = 0; i < n; i++) {
        writeSync(fd, buf, 0, buf.length, pos);
        pos += buf.length;
      }
      rawMs += performance.now() - t;
    };
    const appendSlice = (): void => {
      const t = performance.now();
      for (let i = 0; i < n; i++) log.appendToOs(buf);
      appendMs += performance.now() - t;
    };
    // Alternate which goes first, so that neither always runs behind the other's writeback.
    if ((done / slice) % 2 === 0) {
      rawSlice();
      appendSlice();
    } else {
      appendSlice();
      rawSlice();
    }
  }
  return {
    rawMs,
    appendMs,
    close: async () => {
      closeSync(fd);
      rmSync(file);
      log.closeWithoutFlush();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  console.log(
    `# Brook storage benchmark\n\nMachine: ${machineWithDisk()}\nData dir: ${root} (busy shared machine: compare figures within this run only)\n`,
  );
  const { buf, records } = makeBatch();
  const count = Math.floor((APPEND_MB * MB) / buf.length);
  console.log(
    `Batches: ${buf.length} bytes, ${records} records of 100 bytes each; ${count} batches (${fmt((count * buf.length) / MB)} MiB) per round\n`,
  );

  // 1. Appends without fsync vs the raw write loop, interleaved in 4 MiB slices into two files
  //    on the same disk, so that both see the same machine noise and the same writeback.
  const raw: number[] = [];
  const app: number[] = [];
  // Warm-up (JIT, page allocator), not measured.
  await interleaved(buf, Math.min(count, 1024)).close();
  for (let round = 0; round < 3; round++) {
    const r = interleaved(buf, count);
    raw.push(r.rawMs);
    app.push(r.appendMs);
    await r.close();
  }
  const rawMs = median(raw);
  const appMs = median(app);
  const bytes = count * buf.length;
  console.log('| case | MB/s | records/s | vs raw |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(
    `| raw fs.writeSync loop (16 KiB, interleaved with the appends) | ${fmt(mbps(bytes, rawMs))} | ${fmt((count * records) / (rawMs / 1000))} | 100% |`,
  );
  console.log(
    `| Log.append, flush.policy=interval | ${fmt(mbps(bytes, appMs))} | ${fmt((count * records) / (appMs / 1000))} | ${fmt((100 * rawMs) / appMs)}% |`,
  );

  // 2. flush.policy=always with group commit vs raw synced loops.
  const alwaysCount = Math.floor((ALWAYS_MB * MB) / buf.length);
  const ab = alwaysCount * buf.length;
  let perSync = 1;
  for (const appenders of [16, 64]) {
    const always = await appendAlways(buf, alwaysCount, appenders);
    perSync = alwaysCount / always.syncs;
    console.log(
      `| Log.append, flush.policy=always, ${appenders} concurrent appenders (group commit: ${fmt(perSync, 1)} appends per fdatasync) | ${fmt(mbps(ab, always.ms))} | ${fmt((alwaysCount * records) / (always.ms / 1000))} | |`,
    );
  }
  const rawSyncEach = rawWriteLoop(buf, Math.min(alwaysCount, 1000), 1);
  const rawSyncGroup = rawWriteLoop(buf, alwaysCount, Math.max(1, Math.round(perSync)));
  console.log(
    `| raw write + fdatasync every 16 KiB | ${fmt(mbps(Math.min(alwaysCount, 1000) * buf.length, rawSyncEach))} | | |`,
  );
  console.log(
    `| raw write + fdatasync every ${fmt(perSync, 0)} writes (the batching of 64 appenders) | ${fmt(mbps(ab, rawSyncGroup))} | | |`,
  );

  // 3. Sequential reads.
  const rdir = join(root, 'read');
  const rlog = Log.open({
    dir: rdir,
    topic: 'bench',
    partition: 0,
    config: logConfig({ 'segment.bytes': 256 * MB }),
  });
  for (let i = 0; i < count; i++) rlog.appendToOs(buf);
  const into = Buffer.allocUnsafe(MB + buf.length);
  const t0 = performance.now();
  let offset = 0;
  let readBytes = 0;
  while (offset < rlog.logEndOffset) {
    const r = rlog.read(offset, MB);
    for (const range of r.ranges) {
      let got = 0;
      while (got < range.length)
        got += readSync(range.fd, into, got, range.length - got, range.position + got);
      readBytes += range.length;
    }
    offset = r.lastOffset + 1;
  }
  const readMs = performance.now() - t0;
  console.log(
    `| sequential read (Log.read 1 MiB ranges + readSync into memory) | ${fmt(mbps(readBytes, readMs))} | ${fmt((count * records) / (readMs / 1000))} | |`,
  );
  await rlog.close();
  rmSync(rdir, { recursive: true, force: true });

  // 4. Recovery of an unflushed active segment.
  const cdir = join(root, 'recover');
  const clog = Log.open({
    dir: cdir,
    topic: 'bench',
    partition: 0,
    config: logConfig({ 'segment.bytes': 2047 * MB }),
  });
  const rcount = Math.floor((RECOVERY_MB * MB) / buf.length);
  for (let i = 0; i < rcount; i++) clog.appendToOs(buf);
  clog.closeWithoutFlush();
  const t1 = performance.now();
  const reopened = Log.open({
    dir: cdir,
    topic: 'bench',
    partition: 0,
    config: logConfig({ 'segment.bytes': 2047 * MB }),
    recoveryPoint: 0,
  });
  const recoverMs = performance.now() - t1;
  console.log(
    `\nRecovery of an unflushed ${fmt((rcount * buf.length) / MB)} MiB active segment (CRC of every batch, indexes rebuilt): ${fmt(recoverMs)} ms (${fmt(mbps(rcount * buf.length, recoverMs))} MB/s), ${reopened.logEndOffset === rcount * records ? 'all' : 'NOT all'} ${fmt(rcount)} batches kept`,
  );
  await reopened.close();
  rmSync(cdir, { recursive: true, force: true });

  // 5. Startup with many partitions.
  const mdir = join(root, 'manager');
  const small = encodeRecordBatch({
    records: [{ value: Buffer.alloc(100) }],
    timestamp: Date.now(),
  });
  let lm = LogManager.open(mdir);
  for (let p = 0; p < PARTITIONS; p++)
    await lm.getOrCreateLog('startup', p).append(Buffer.from(small));
  await lm.shutdown();
  lm = LogManager.open(mdir);
  const cleanMs = lm.startupMs;
  for (const l of lm.logs()) l.closeWithoutFlush();
  lm = LogManager.open(mdir); // no clean-shutdown marker now: every log recovers its active segment
  const uncleanMs = lm.startupMs;
  await lm.shutdown();
  console.log(
    `Startup with ${PARTITIONS} partitions: ${fmt(cleanMs)} ms after a clean shutdown, ${fmt(uncleanMs)} ms after a crash`,
  );
  rmSync(root, { recursive: true, force: true });
}

main().catch((err) => {
  rmSync(root, { recursive: true, force: true });
  console.error(err);
  process.exit(1);
});
