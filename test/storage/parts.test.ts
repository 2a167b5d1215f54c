import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readOffsetCheckpoint, writeOffsetCheckpoint } from '../../src/storage/checkpoint-file.js';
import { DEFAULT_LOG_CONFIG, InvalidConfigError, logConfig } from '../../src/storage/config.js';
import { readFileRange } from '../../src/storage/index.js';
import { LeaderEpochCache } from '../../src/storage/leader-epoch-cache.js';
import { parsePartitionDirName, offsetFileStem } from '../../src/storage/naming.js';
import { OffsetIndex } from '../../src/storage/offset-index.js';
import { deletableSegmentCount } from '../../src/storage/retention.js';
import { TimeIndex } from '../../src/storage/time-index.js';
import { batch, openLog, rangeBytes, tempDir } from './helpers.js';

test('config: Kafka names and defaults, validation of values', () => {
  assert.equal(DEFAULT_LOG_CONFIG['segment.bytes'], 1073741824);
  assert.equal(DEFAULT_LOG_CONFIG['index.interval.bytes'], 4096);
  assert.equal(DEFAULT_LOG_CONFIG['cleanup.policy'], 'delete');
  const c = logConfig({
    'cleanup.policy': 'delete,compact',
    'segment.ms': '60000',
    'min.cleanable.dirty.ratio': 0.1,
  });
  assert.equal(c['cleanup.policy'], 'compact,delete');
  assert.equal(c['segment.ms'], 60000);
  assert.throws(() => logConfig({ 'segment.bytes': 3 }), InvalidConfigError);
  assert.throws(() => logConfig({ 'flush.policy': 'sometimes' }), InvalidConfigError);
  assert.throws(() => logConfig({ 'min.cleanable.dirty.ratio': 2 }), InvalidConfigError);
  assert.throws(() => logConfig({ 'no.such.key': 1 } as never), /unknown topic config/);
});

test('names: partition directories and 20-digit segment stems', () => {
  assert.deepEqual(parsePartitionDirName('my-topic-12'), { topic: 'my-topic', partition: 12 });
  assert.equal(parsePartitionDirName('t-0.abcdef-delete'), undefined);
  assert.equal(parsePartitionDirName('lost+found'), undefined);
  assert.equal(offsetFileStem(42), '00000000000000000042');
});

test('offset index: binary search for the scan start; survives reload; malformed files are detected', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'x.index');
  const idx = new OffsetIndex(path, 100, 1024, true);
  idx.reset();
  idx.append(109, 0); // batch 100..109 at 0
  idx.append(129, 500); // batch 120..129 at 500
  idx.append(150, 900);
  assert.equal(idx.lookup(100), 0);
  assert.equal(idx.lookup(110), 0, 'entries hold last offsets: 110 lies after the first batch');
  assert.equal(idx.lookup(130), 500);
  assert.equal(idx.lookup(1000), 900);
  assert.deepEqual(idx.floorByPosition(700, 0), { position: 500, lastOffset: 129 });
  assert.equal(idx.floorByPosition(700, 500), undefined);
  idx.close();
  const again = new OffsetIndex(path, 100, 1024, false);
  assert.equal(again.ensureLoaded(), true);
  assert.equal(again.entries, 3);
  again.truncateToPosition(500);
  assert.equal(again.entries, 1);
  again.close();
  writeFileSync(path, Buffer.alloc(12, 1));
  assert.equal(new OffsetIndex(path, 100, 1024, false).ensureLoaded(), false);
  // Full at segment.index.bytes.
  const small = new OffsetIndex(join(dir, 'y.index'), 0, 16, true);
  small.append(1, 0);
  assert.equal(small.isFull, false);
  small.append(2, 10);
  assert.equal(small.isFull, true);
});

test('time index: only increasing timestamps, look-up of the last entry at or below', (t) => {
  const dir = tempDir(t);
  const idx = new TimeIndex(join(dir, 'x.timeindex'), 0, 1200, true);
  idx.reset();
  idx.maybeAppend(100, 5);
  idx.maybeAppend(100, 9); // not above the last: ignored
  idx.maybeAppend(300, 20);
  assert.equal(idx.entries, 2);
  assert.equal(idx.lookup(50), undefined);
  assert.equal(idx.lookup(100), 5);
  assert.equal(idx.lookup(299), 5);
  assert.equal(idx.lookup(1e12), 20);
  idx.close();
  assert.deepEqual(new TimeIndex(join(dir, 'x.timeindex'), 0, 1200, false).peekLastEntry(), {
    timestamp: 300,
    offset: 20,
  });
});

test('checkpoint files use Kafka text format and round-trip', (t) => {
  const path = join(tempDir(t), 'recovery-point-offset-checkpoint');
  writeOffsetCheckpoint(path, [
    { topic: 'a', partition: 0, offset: 10 },
    { topic: 'b-c', partition: 7, offset: 99 },
  ]);
  assert.equal(readFileSync(path, 'utf8'), '0\n2\na 0 10\nb-c 7 99\n');
  assert.deepEqual(
    [...readOffsetCheckpoint(path)],
    [
      ['a-0', 10],
      ['b-c-7', 99],
    ],
  );
});

test('leader epoch cache: a damaged checkpoint starts empty instead of failing the log', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'leader-epoch-checkpoint'), '0\n5\n1 0\n');
  const cache = new LeaderEpochCache(dir);
  assert.deepEqual(cache.all, []);
  cache.assign(2, 0);
  cache.assign(1, 5); // older epoch: ignored
  assert.deepEqual(cache.all, [{ epoch: 2, startOffset: 0 }]);
});

test('retention picks a prefix of sealed segments', () => {
  const segs = [
    { baseOffset: 0, size: 100, largestTimestamp: 10 },
    { baseOffset: 10, size: 100, largestTimestamp: 20 },
    { baseOffset: 20, size: 100, largestTimestamp: 5 },
    { baseOffset: 30, size: 100, largestTimestamp: 1 },
  ];
  const base = {
    now: 100,
    retentionMs: -1,
    retentionBytes: -1,
    logStartOffset: 0,
    deleteByTimeAndSize: true,
  };
  assert.equal(deletableSegmentCount(segs, base), 0);
  assert.equal(
    deletableSegmentCount(segs, { ...base, retentionMs: 85 }),
    1,
    'stops at the first young segment',
  );
  assert.equal(deletableSegmentCount(segs, { ...base, retentionMs: 0 }), 3, 'never the active one');
  assert.equal(deletableSegmentCount(segs, { ...base, retentionBytes: 250 }), 1);
  assert.equal(deletableSegmentCount(segs, { ...base, logStartOffset: 20 }), 2);
  assert.equal(
    deletableSegmentCount(segs, {
      ...base,
      logStartOffset: 20,
      deleteByTimeAndSize: false,
      retentionMs: 0,
    }),
    2,
  );
});

test('readFileRange reads what read() points at', async (t) => {
  const log = openLog(tempDir(t));
  await log.append(batch(5));
  const r = log.read(0, 1 << 20);
  assert.deepEqual(await readFileRange(r.ranges[0]), rangeBytes(r.ranges));
  await log.close();
});
