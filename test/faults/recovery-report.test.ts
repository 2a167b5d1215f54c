/**
 * The recovery report the broker logs at start-up (`event: "log-recovered"`), at the storage
 * level: a partition cut by recovery is listed with what was cut and why; an intact one is not.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogManager } from '../../src/storage/log-manager.js';
import { batch, tempDir } from '../storage/helpers.js';
import { batchExtents, segmentFiles } from './helpers/damage.js';

test('LogManager.recovered lists the partitions whose recovery cut data, with bytes, log end and reason', async (t) => {
  const dir = tempDir(t);
  let lm = LogManager.open(dir);
  const damaged = lm.getOrCreateLog('t', 0);
  const intact = lm.getOrCreateLog('t', 1);
  for (let i = 0; i < 5; i++) {
    await damaged.append(batch(3, { prefix: `d${i}` }));
    await intact.append(batch(3, { prefix: `i${i}` }));
  }
  // A crash (no clean-shutdown marker, nothing flushed), then a torn last batch.
  for (const l of lm.logs()) l.closeWithoutFlush();
  const [file] = segmentFiles(join(dir, 't-0'));
  const last = batchExtents(file).at(-1);
  assert.ok(last);
  truncateSync(file, last.position + 10);
  lm = LogManager.open(dir);
  try {
    assert.equal(lm.hadCleanShutdown, false);
    assert.equal(lm.recovered.length, 1);
    const [r] = lm.recovered;
    assert.equal(r.topic, 't');
    assert.equal(r.partition, 0);
    assert.equal(r.truncatedBytes, 10);
    assert.equal(r.logEndOffset, 12);
    assert.match(r.problem ?? '', /00000000000000000000\.log/);
    assert.ok(lm.segmentsScanned >= 2);
    assert.equal(lm.getLog('t', 1)?.logEndOffset, 15);
  } finally {
    await lm.shutdown();
  }
});

test('crash recovery cuts a batch whose base offset was damaged (outside the CRC) in a log that is not compacted', async (t) => {
  const dir = tempDir(t);
  let lm = LogManager.open(dir);
  const log = lm.getOrCreateLog('t', 0);
  for (let i = 0; i < 4; i++) await log.append(batch(5, { prefix: `b${i}` }));
  log.closeWithoutFlush();
  const [file] = segmentFiles(join(dir, 't-0'));
  const third = batchExtents(file)[2];
  // Base offset 10 becomes 11: the CRC still passes, the offsets no longer follow on.
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([11]), 0, 1, third.position + 7);
  closeSync(fd);
  lm = LogManager.open(dir);
  try {
    assert.equal(lm.getLog('t', 0)?.logEndOffset, 10);
    assert.equal(lm.recovered.length, 1);
    assert.match(lm.recovered[0].problem ?? '', /starts at offset 11, expected 10/);
    assert.equal(lm.recovered[0].truncatedBytes, third.size * 2);
  } finally {
    await lm.shutdown();
  }
});
