import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BatchHeader, decodeRecordBatch } from '../../src/protocol/record-batch/index.js';
import { OffsetOutOfRangeError } from '../../src/storage/errors.js';
import { batch, openLog, rangeBytes, readAll, sizedBatch, tempDir } from './helpers.js';

test('append assigns offsets, stamps the leader epoch, and reads back in Kafka layout', async (t) => {
  const dir = tempDir(t);
  const log = openLog(dir);
  const r1 = await log.append(batch(3), { leaderEpoch: 5 });
  assert.deepEqual(
    [r1.baseOffset, r1.lastOffset, r1.logAppendTime, r1.logStartOffset],
    [0, 2, -1, 0],
  );
  const r2 = await log.append(
    Buffer.concat([batch(2, { prefix: 'b' }), batch(1, { prefix: 'c' })]),
  );
  assert.deepEqual([r2.baseOffset, r2.lastOffset, r2.batchCount], [3, 5, 2]);
  assert.equal(log.logEndOffset, 6);
  const recs = readAll(log);
  assert.deepEqual(
    recs.map((r) => r.offset),
    [0, 1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    recs.map((r) => r.value),
    ['v-0', 'v-1', 'v-2', 'b-0', 'b-1', 'c-0'],
  );
  const bytes = rangeBytes(log.read(0, 1 << 20).ranges);
  assert.equal(BatchHeader.partitionLeaderEpoch(bytes, 0), 5);
  assert.deepEqual(log.leaderEpochs.all, [{ epoch: 5, startOffset: 0 }]);
  await log.close();
  assert.deepEqual(readdirSync(dir).sort(), [
    '00000000000000000000.index',
    '00000000000000000000.log',
    '00000000000000000000.timeindex',
    'leader-epoch-checkpoint',
  ]);
});

test('read returns whole batches within maxBytes, at least one, bounded by maxOffset', async (t) => {
  const log = openLog(tempDir(t), { 'index.interval.bytes': 100 });
  for (let i = 0; i < 20; i++) await log.append(sizedBatch(200));
  const size = sizedBatch(200).length;
  // Inside a batch: the whole batch holding the offset comes back.
  const one = log.read(3, 10);
  assert.equal(one.firstOffset, 3);
  assert.equal(one.size, size);
  const five = log.read(5, size * 5 + 10);
  assert.deepEqual([five.firstOffset, five.lastOffset, five.size], [5, 9, size * 5]);
  const capped = log.read(5, 1 << 20, { maxOffset: 8 });
  assert.deepEqual([capped.firstOffset, capped.lastOffset], [5, 7]);
  assert.equal(log.read(5, 10, { minOneBatch: false }).ranges.length, 0);
  const atEnd = log.read(20, 100);
  assert.equal(atEnd.ranges.length, 0);
  assert.equal(atEnd.logEndOffset, 20);
  assert.throws(() => log.read(21, 100), OffsetOutOfRangeError);
  await log.close();
});

test('segments roll on segment.bytes and reads cross them; indexes are sparse', async (t) => {
  const dir = tempDir(t);
  const log = openLog(dir, { 'segment.bytes': 1500, 'index.interval.bytes': 500 });
  const payloads: number[] = [];
  for (let i = 0; i < 60; i++) {
    const n = 1 + (i % 4);
    await log.append(batch(n, { prefix: `p${i}` }));
    payloads.push(n);
  }
  assert.ok(log.segments.length > 3, `${log.segments.length} segments`);
  for (const s of log.segments.slice(0, -1)) assert.ok(s.size <= 1500);
  const recs = readAll(log, 0, 700);
  assert.equal(
    recs.length,
    payloads.reduce((a, b) => a + b),
  );
  assert.deepEqual(
    recs.map((r) => r.offset),
    recs.map((_, i) => i),
  );
  // Random reads land on the batch that holds the offset.
  for (let off = 0; off < log.logEndOffset; off += 7) {
    const r = log.read(off, 1);
    assert.ok(r.firstOffset <= off && r.lastOffset >= off, `offset ${off}`);
  }
  const seg = log.segments[0];
  assert.ok(seg.offsetIndex.entries >= 1 && seg.offsetIndex.entries < 5);
  await log.close();
  const names = readdirSync(dir).filter((n) => n.endsWith('.log'));
  assert.equal(names.length, log.segments.length);
});

test('segment.ms rolls when the batch timestamps move past it', async (t) => {
  const log = openLog(tempDir(t), { 'segment.ms': 1000 });
  await log.append(batch(1, { timestamp: 10_000 }));
  await log.append(batch(1, { timestamp: 10_500 }));
  assert.equal(log.segments.length, 1);
  await log.append(batch(1, { timestamp: 11_001 }));
  assert.equal(log.segments.length, 2);
  assert.equal(log.segments[1].baseOffset, 2);
  await log.close();
});

test('offset look-ups: earliest, latest, by timestamp, max timestamp', async (t) => {
  const log = openLog(tempDir(t), { 'segment.bytes': 500, 'index.interval.bytes': 1 });
  const ts = [100, 300, 200, 500, 400, 900, 700];
  for (const x of ts) await log.append(batch(2, { timestamp: x }));
  assert.ok(log.segments.length > 1);
  assert.equal(log.earliestOffset(), 0);
  assert.equal(log.latestOffset(), 14);
  assert.deepEqual(log.offsetForTimestamp(0), { offset: 0, timestamp: 100, batchLastOffset: 1 });
  assert.deepEqual(log.offsetForTimestamp(250), { offset: 2, timestamp: 300, batchLastOffset: 3 });
  assert.deepEqual(log.offsetForTimestamp(450), { offset: 6, timestamp: 500, batchLastOffset: 7 });
  assert.deepEqual(log.offsetForTimestamp(800), {
    offset: 10,
    timestamp: 900,
    batchLastOffset: 11,
  });
  assert.equal(log.offsetForTimestamp(901), undefined);
  assert.deepEqual(log.maxTimestamp(), { timestamp: 900, offset: 11 });
  await log.close();
});

test('LogAppendTime topics get the broker time and a valid CRC', async (t) => {
  let now = 42_000;
  const log = openLog(
    tempDir(t),
    { 'message.timestamp.type': 'LogAppendTime' },
    { now: () => now },
  );
  const r = await log.append(batch(2, { timestamp: 5 }));
  assert.equal(r.logAppendTime, 42_000);
  now = 43_000;
  await log.append(batch(1, { timestamp: 6 }));
  const bytes = rangeBytes(log.read(0, 1 << 20).ranges);
  const b = decodeRecordBatch(bytes, 0); // verifies the CRC
  assert.equal(b.maxTimestamp, 42_000);
  assert.deepEqual(
    b.toArray().map((x) => x.timestamp),
    [42_000, 42_000],
  );
  assert.deepEqual(
    readAll(log).map((x) => x.timestamp),
    [42_000, 42_000, 43_000],
  );
  await log.close();
});

test('a clean reopen skips recovery; an unclean one rebuilds and cuts a torn tail', async (t) => {
  const dir = tempDir(t);
  let log = openLog(dir, { 'segment.bytes': 2000 });
  for (let i = 0; i < 30; i++) await log.append(batch(3, { prefix: `x${i}` }));
  const before = readAll(log);
  await log.close();
  log = openLog(dir, { 'segment.bytes': 2000 }, { cleanShutdown: true, recoveryPoint: 90 });
  assert.equal(log.recovery.segmentsScanned, 0);
  assert.equal(log.logEndOffset, 90);
  assert.deepEqual(readAll(log), before);
  await log.append(batch(1));
  assert.equal(log.logEndOffset, 91);
  log.closeWithoutFlush();
  // Tear the last batch in half, as a crash mid-write would.
  const active = join(dir, '00000000000000000000.log');
  const logs = readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort();
  const last = join(dir, logs.at(-1)!);
  truncateSync(last, statSync(last).size - 10);
  assert.ok(existsSync(active));
  log = openLog(dir, { 'segment.bytes': 2000 }, { recoveryPoint: 0 });
  assert.equal(log.recovery.segmentsScanned, logs.length);
  assert.equal(log.logEndOffset, 90);
  assert.deepEqual(readAll(log), before);
  await log.append(batch(2));
  assert.equal(log.logEndOffset, 92);
  await log.close();
});

test('flush.policy=always: concurrent appends share fdatasyncs (group commit)', async (t) => {
  const log = openLog(tempDir(t), { 'flush.policy': 'always' });
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => log.append(batch(1, { prefix: `g${i}` }))),
  );
  assert.deepEqual(
    results.map((r) => r.baseOffset),
    results.map((_, i) => i),
  );
  assert.ok(
    log.stats.syncs >= 1 && log.stats.syncs <= 3,
    `${log.stats.syncs} syncs for 50 appends`,
  );
  assert.equal(log.durableOffset, 50);
  await log.close();
});

test('flush moves the recovery point; flush.messages triggers flushes', async (t) => {
  const log = openLog(tempDir(t), { 'flush.messages': 5 });
  await log.append(batch(2));
  assert.equal(log.recoveryPoint, 0);
  await log.flush();
  assert.equal(log.recoveryPoint, 2);
  await log.append(batch(5));
  const deadline = Date.now() + 5000;
  while (log.recoveryPoint < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(log.recoveryPoint, 7);
  await log.close();
});

test('sealed segments keep one descriptor (the log), not three', async (t) => {
  const openFds = () => readdirSync('/proc/self/fd').length;
  const before = openFds();
  const log = openLog(tempDir(t), { 'segment.bytes': 300 });
  for (let i = 0; i < 60; i++) await log.append(batch(1));
  await log.flush();
  const segments = log.segments.length;
  assert.ok(segments > 10);
  const used = openFds() - before;
  assert.ok(used <= segments + 3, `${used} descriptors for ${segments} segments`);
  await log.close();
  assert.equal(openFds(), before);
});
