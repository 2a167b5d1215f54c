/**
 * The fetch path's last check (src/storage/served-batches.ts): damage that recovery never rescans
 * (flushed data, or anything after a clean shutdown) is cut before it is served, and the log
 * refuses reads from the damaged offset on. In process, on a real log file.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { test } from 'node:test';
import { CorruptRecordError } from '../../src/storage/errors.js';
import { checkServedBatches } from '../../src/storage/served-batches.js';
import { batch, openLog, rangeBytes, tempDir } from '../storage/helpers.js';
import { batchExtents, segmentFiles } from './helpers/damage.js';

function xorByte(file: string, position: number, mask: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, position);
  b[0] ^= mask;
  writeSync(fd, b, 0, 1, position);
  closeSync(fd);
}

async function fourBatches(t: { after(fn: () => void): void }) {
  const dir = tempDir(t);
  const log = openLog(dir);
  for (let i = 0; i < 4; i++) await log.append(batch(5, { prefix: `b${i}` }));
  const [file] = segmentFiles(dir);
  return { log, file, extents: batchExtents(file) };
}

test('valid batches pass whole; the offset after them is returned', async (t) => {
  const { log } = await fourBatches(t);
  const r = log.read(0, 1 << 20);
  const data = rangeBytes(r.ranges);
  const check = checkServedBatches(log, r.ranges[0], data, r.firstOffset);
  assert.equal(check.validLength, data.length);
  assert.equal(check.nextOffset, 20);
  assert.equal(check.corruption, undefined);
  assert.equal(log.corruptionFound, undefined);
  await log.close();
});

test('a flipped record byte: the batches before it are served, the log refuses reads from its offset on', async (t) => {
  const { log, file, extents } = await fourBatches(t);
  xorByte(file, extents[2].position + extents[2].size - 3, 0x40);
  const r = log.read(0, 1 << 20);
  const check = checkServedBatches(log, r.ranges[0], rangeBytes(r.ranges), r.firstOffset);
  assert.equal(check.validLength, extents[2].position);
  assert.equal(check.nextOffset, 10);
  assert.ok(check.corruption);
  assert.equal(check.corruption.offset, 10);
  assert.match(check.corruption.reason, /CRC/);
  assert.equal(check.newlyFound, true);
  assert.throws(() => log.read(10, 1 << 20), CorruptRecordError);
  assert.throws(() => log.read(17, 1 << 20), CorruptRecordError);
  assert.equal(log.read(5, 1 << 20).firstOffset, 5, 'reads before the damage still work');
  // Found again by another read: not news.
  const again = log.read(0, 1 << 20);
  assert.equal(
    checkServedBatches(log, again.ranges[0], rangeBytes(again.ranges), 0).newlyFound,
    false,
  );
  await log.close();
});

test('a damaged base offset (outside the CRC) is never served: the header walk or the offset check stops before it', async (t) => {
  const { log, file, extents } = await fourBatches(t);
  xorByte(file, extents[2].position + 7, 0x01); // base offset 10 becomes 11
  let served = 0;
  try {
    const r = log.read(0, 1 << 20);
    served = checkServedBatches(log, r.ranges[0], rangeBytes(r.ranges), r.firstOffset).validLength;
  } catch (err) {
    assert.ok(err instanceof CorruptRecordError);
  }
  assert.ok(
    served <= extents[2].position,
    `served ${served} bytes, damage at ${extents[2].position}`,
  );
  assert.throws(() => log.read(10, 1 << 20), CorruptRecordError);
  await log.close();
});

test('a short read (the file shrank under the read) ends the prefix without marking damage', async (t) => {
  const { log, extents } = await fourBatches(t);
  const r = log.read(0, 1 << 20);
  const data = rangeBytes(r.ranges).subarray(0, extents[3].position + 20);
  const check = checkServedBatches(log, r.ranges[0], data, r.firstOffset);
  assert.equal(check.validLength, extents[3].position);
  assert.equal(check.corruption, undefined);
  assert.equal(log.corruptionFound, undefined);
  await log.close();
});
