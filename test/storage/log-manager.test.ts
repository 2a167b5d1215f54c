import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { logConfig } from '../../src/storage/config.js';
import { OffsetOutOfRangeError, StorageError } from '../../src/storage/errors.js';
import { CLEAN_SHUTDOWN_FILE, LogManager } from '../../src/storage/log-manager.js';
import { batch, rangeBytes, readAll, sizedBatch, tempDir } from './helpers.js';

test('LogManager creates logs, reopens them after a clean shutdown without recovery', async (t) => {
  const dir = tempDir(t);
  let lm = LogManager.open(dir);
  assert.equal(lm.hadCleanShutdown, false);
  const a = lm.getOrCreateLog('orders', 0);
  const b = lm.getOrCreateLog('orders', 1);
  const c = lm.getOrCreateLog('my-topic.v2', 3);
  assert.equal(lm.getOrCreateLog('orders', 0), a);
  await a.append(batch(3));
  await b.append(batch(1));
  await c.append(batch(2));
  assert.deepEqual(
    lm
      .sizes()
      .map((s) => [s.topic, s.partition, s.logEndOffset])
      .sort(),
    [
      ['my-topic.v2', 3, 2],
      ['orders', 0, 3],
      ['orders', 1, 1],
    ],
  );
  await lm.shutdown();
  assert.ok(existsSync(join(dir, CLEAN_SHUTDOWN_FILE)));
  assert.match(readFileSync(join(dir, 'recovery-point-offset-checkpoint'), 'utf8'), /^0\n3\n/);
  lm = LogManager.open(dir);
  assert.equal(lm.hadCleanShutdown, true);
  assert.ok(!existsSync(join(dir, CLEAN_SHUTDOWN_FILE)), 'marker removed at startup');
  assert.equal(lm.logs().length, 3);
  const c2 = lm.getLog('my-topic.v2', 3)!;
  assert.equal(c2.logEndOffset, 2);
  assert.equal(c2.recovery.segmentsScanned, 0);
  assert.deepEqual(
    readAll(c2).map((r) => r.value),
    ['v-0', 'v-1'],
  );
  await lm.shutdown();
});

test('an unclean shutdown recovers from the checkpointed recovery points', async (t) => {
  const dir = tempDir(t);
  let lm = LogManager.open(dir);
  const log = lm.getOrCreateLog('t', 0, logConfig({ 'segment.bytes': 1000 }));
  for (let i = 0; i < 20; i++) await log.append(batch(2));
  await log.flush();
  lm.checkpoint();
  for (let i = 0; i < 5; i++) await log.append(batch(2));
  const expected = readAll(log);
  log.closeWithoutFlush(); // a crash: no marker, the recovery point lags
  lm = LogManager.open(dir, { topicConfig: () => logConfig({ 'segment.bytes': 1000 }) });
  assert.equal(lm.hadCleanShutdown, false);
  const again = lm.getLog('t', 0)!;
  assert.ok(again.recovery.segmentsScanned >= 1);
  assert.ok(
    again.recovery.segmentsScanned < again.segments.length,
    'only segments after the recovery point',
  );
  assert.deepEqual(readAll(again), expected);
  await lm.shutdown();
});

test('deleteLog renames the directory away and removes it in the background', async (t) => {
  const dir = tempDir(t);
  const lm = LogManager.open(dir);
  const log = lm.getOrCreateLog('gone', 0);
  await log.append(batch(1));
  await lm.deleteLog('gone', 0);
  assert.equal(lm.getLog('gone', 0), undefined);
  assert.ok(!existsSync(join(dir, 'gone-0')));
  await lm.shutdown();
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('gone')),
    [],
  );
  assert.throws(() => lm.getOrCreateLog('x', 0), StorageError);
});

test('retention.bytes and retention.ms delete whole old segments, never the active one', async (t) => {
  let now = 1_000_000;
  const dir = tempDir(t);
  const lm = LogManager.open(dir, { now: () => now });
  const cfg = logConfig({ 'segment.bytes': 1000, 'retention.bytes': 2500, 'retention.ms': 10_000 });
  const log = lm.getOrCreateLog('r', 0, cfg);
  for (let i = 0; i < 20; i++) await log.append(sizedBatch(300, now - 60_000 + i * 1000));
  const segs = log.segments.length;
  assert.ok(segs >= 6);
  // By size first: keep at least 2500 bytes.
  log.config = logConfig({ 'segment.bytes': 1000, 'retention.bytes': 2500 });
  assert.ok(lm.runRetention() > 0);
  assert.ok(log.size >= 2500 && log.size < 2500 + 1000, `${log.size}`);
  assert.equal(log.logStartOffset, log.segments[0].baseOffset);
  assert.throws(() => log.read(0, 100), OffsetOutOfRangeError);
  // By time: everything is older than retention.ms, but the active segment stays.
  log.config = cfg;
  now += 1;
  lm.runRetention();
  assert.equal(log.segments.length, 1);
  assert.equal(log.logEndOffset, 20);
  assert.ok(readAll(log).length >= 1);
  await lm.shutdown();
});

test('DeleteRecords moves the log start offset, persists it, and drops segments below it', async (t) => {
  const dir = tempDir(t);
  let lm = LogManager.open(dir);
  const log = lm.getOrCreateLog('d', 0, logConfig({ 'segment.bytes': 500 }));
  for (let i = 0; i < 30; i++) await log.append(batch(1, { prefix: `r${i}` }));
  const segs = log.segments.length;
  assert.equal(log.deleteRecordsBefore(17), 17);
  assert.equal(log.logStartOffset, 17);
  assert.ok(log.segments.length < segs);
  assert.ok(log.segments[0].baseOffset <= 17);
  assert.deepEqual(readAll(log).map((r) => r.offset)[0], 17);
  assert.throws(() => log.read(16, 100), OffsetOutOfRangeError);
  assert.throws(() => log.deleteRecordsBefore(31), OffsetOutOfRangeError);
  assert.equal(log.deleteRecordsBefore(5), 17, 'never moves back');
  log.closeWithoutFlush();
  lm = LogManager.open(dir, { topicConfig: () => logConfig({ 'segment.bytes': 500 }) });
  assert.equal(lm.getLog('d', 0)!.logStartOffset, 17);
  await lm.shutdown();
});

test('leader epochs: stamped, checkpointed, answer OffsetForLeaderEpoch, truncated with the log', async (t) => {
  const dir = tempDir(t);
  const lm = LogManager.open(dir);
  const log = lm.getOrCreateLog('e', 0, logConfig({ 'segment.bytes': 400 }));
  for (let i = 0; i < 5; i++) await log.append(batch(2), { leaderEpoch: 0 });
  for (let i = 0; i < 5; i++) await log.append(batch(2), { leaderEpoch: 3 });
  for (let i = 0; i < 5; i++) await log.append(batch(2), { leaderEpoch: 4 });
  assert.deepEqual(log.leaderEpochs.all, [
    { epoch: 0, startOffset: 0 },
    { epoch: 3, startOffset: 10 },
    { epoch: 4, startOffset: 20 },
  ]);
  assert.equal(
    readFileSync(join(dir, 'e-0', 'leader-epoch-checkpoint'), 'utf8'),
    '0\n3\n0 0\n3 10\n4 20\n',
  );
  assert.deepEqual(log.leaderEpochs.endOffsetFor(3, log.logEndOffset), { epoch: 3, endOffset: 20 });
  assert.deepEqual(log.leaderEpochs.endOffsetFor(2, log.logEndOffset), { epoch: 0, endOffset: 10 });
  assert.deepEqual(log.leaderEpochs.endOffsetFor(9, log.logEndOffset), { epoch: 4, endOffset: 30 });
  log.truncateTo(15);
  assert.equal(log.logEndOffset, 14, 'the batch holding offset 15 goes whole');
  assert.deepEqual(
    log.leaderEpochs.all.map((e) => e.epoch),
    [0, 3],
  );
  assert.deepEqual(
    readAll(log).map((r) => r.offset),
    Array.from({ length: 14 }, (_, i) => i),
  );
  await log.append(batch(1), { leaderEpoch: 5 });
  assert.deepEqual(log.leaderEpochs.all.at(-1), { epoch: 5, startOffset: 14 });
  log.truncateTo(3);
  assert.equal(log.logEndOffset, 2);
  log.deleteRecordsBefore(1);
  assert.deepEqual(log.leaderEpochs.all, [{ epoch: 0, startOffset: 1 }]);
  log.truncateTo(0);
  assert.equal(log.logEndOffset, 0);
  await log.append(batch(1));
  assert.equal(log.logEndOffset, 1);
  await lm.shutdown();
});

test('the scheduler flushes on flush.ms and checkpoints', async (t) => {
  const dir = tempDir(t);
  const lm = LogManager.open(dir, { flushCheckIntervalMs: 5, checkpointIntervalMs: 10 });
  const log = lm.getOrCreateLog('s', 0, logConfig({ 'flush.ms': 10 }));
  lm.startScheduler();
  await log.append(batch(4));
  const deadline = Date.now() + 5000;
  while (log.recoveryPoint < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(log.recoveryPoint, 4);
  while (
    !readFileSync(join(dir, 'recovery-point-offset-checkpoint'), { flag: 'a+' })
      .toString()
      .includes('s 0 4') &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 5));
  assert.match(readFileSync(join(dir, 'recovery-point-offset-checkpoint'), 'utf8'), /s 0 4/);
  await lm.stopScheduler();
  await lm.shutdown();
});

test('file ranges stay readable after the partition is deleted or its segments removed', async (t) => {
  const dir = tempDir(t);
  const lm = LogManager.open(dir);
  const log = lm.getOrCreateLog('held', 0, logConfig({ 'segment.bytes': 300 }));
  for (let i = 0; i < 10; i++) await log.append(batch(2, { prefix: `h${i}` }));
  const early = log.read(0, 1 << 20);
  const late = log.read(16, 1 << 20);
  const earlyBytes = rangeBytes(early.ranges);
  const lateBytes = rangeBytes(late.ranges);
  log.deleteRecordsBefore(7); // removes the first segment
  // Removes the last segments whole (truncating inside a segment cuts its file in place).
  const holder = [...log.segments].reverse().find((s) => s.baseOffset <= 16)!;
  assert.ok(holder.baseOffset > 7, `${holder.baseOffset}`);
  log.truncateTo(holder.baseOffset);
  assert.deepEqual(rangeBytes(early.ranges), earlyBytes);
  assert.deepEqual(rangeBytes(late.ranges), lateBytes);
  await lm.deleteLog('held', 0);
  assert.deepEqual(rangeBytes(early.ranges), earlyBytes);
  await lm.shutdown();
});

test('the scheduler runs retention and the cleaner on their own', async (t) => {
  const dir = tempDir(t);
  const lm = LogManager.open(dir, {
    flushCheckIntervalMs: 5,
    retentionCheckIntervalMs: 10,
    cleanerBackoffMs: 10,
  });
  const retained = lm.getOrCreateLog(
    'ret',
    0,
    logConfig({ 'segment.bytes': 400, 'retention.bytes': 800 }),
  );
  const compacted = lm.getOrCreateLog(
    'cmp',
    0,
    logConfig({ 'segment.bytes': 400, 'cleanup.policy': 'compact' }),
  );
  for (let i = 0; i < 40; i++) {
    await retained.append(batch(1, { prefix: `r${i}` }));
    await compacted.append(batch([{ key: `k${i % 3}`, value: `v${i}` }]));
  }
  const before = compacted.size;
  lm.startScheduler();
  const deadline = Date.now() + 10_000;
  while ((retained.logStartOffset === 0 || compacted.size >= before) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  assert.ok(retained.logStartOffset > 0, 'retention ran');
  assert.ok(retained.size <= 800 + 400);
  assert.ok(compacted.size < before, 'the cleaner ran');
  assert.equal(compacted.endOffsetForEpoch(0).endOffset, 40);
  await lm.shutdown();
});
