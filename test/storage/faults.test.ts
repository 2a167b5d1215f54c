import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { logConfig } from '../../src/storage/config.js';
import { CorruptRecordError, StorageError } from '../../src/storage/errors.js';
import { writeFully } from '../../src/storage/fs-util.js';
import { LogManager } from '../../src/storage/log-manager.js';
import type { SegmentIo } from '../../src/storage/segment.js';
import { batch, openLog, readAll, sizedBatch, tempDir } from './helpers.js';

/** Writes like the OS does on a full disk: part of the data, then ENOSPC. */
function fullDisk(): SegmentIo & { full: boolean } {
  const io = {
    full: false,
    write(fd: number, buf: Buffer, position: number): void {
      if (!io.full) {
        writeFully(fd, buf, position);
        return;
      }
      writeSync(fd, buf, 0, Math.floor(buf.length / 2), position);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
        code: 'ENOSPC',
        errno: -28,
      });
    },
  };
  return io;
}

test('disk full: the append fails with a clear StorageError, the log stays readable, appends resume', async (t) => {
  const dir = tempDir(t);
  const io = fullDisk();
  let log = openLog(dir, {}, { io });
  await log.append(batch(3, { prefix: 'before' }));
  io.full = true;
  await assert.rejects(log.append(batch(2, { prefix: 'lost' })), (err: unknown) => {
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, 'ENOSPC');
    assert.match(err.message, /t-0 at offset 3 failed.*no space left/);
    return true;
  });
  assert.equal(log.logEndOffset, 3);
  assert.deepEqual(
    readAll(log).map((r) => r.value),
    ['before-0', 'before-1', 'before-2'],
  );
  io.full = false;
  const r = await log.append(batch(1, { prefix: 'after' }));
  assert.equal(r.baseOffset, 3);
  assert.deepEqual(
    readAll(log).map((r) => r.value),
    ['before-0', 'before-1', 'before-2', 'after-0'],
  );
  // Even without a clean shutdown, the half-written batch never reappears.
  log.closeWithoutFlush();
  log = openLog(dir, {}, { recoveryPoint: 0 });
  assert.deepEqual(
    readAll(log).map((r) => r.value),
    ['before-0', 'before-1', 'before-2', 'after-0'],
  );
  await log.close();
});

test('a corrupt batch in a sealed segment: reads up to it work, reads past it fail with topic/partition/offset, other partitions keep working', async (t) => {
  const dir = tempDir(t);
  let lm = LogManager.open(dir);
  const cfg = logConfig({ 'segment.bytes': 1000, 'index.interval.bytes': 100000 });
  const bad = lm.getOrCreateLog('bad', 0, cfg);
  const good = lm.getOrCreateLog('good', 0, cfg);
  for (let i = 0; i < 40; i++) {
    await bad.append(batch(1, { prefix: `b${i}` }));
    await good.append(batch(1, { prefix: `g${i}` }));
  }
  assert.ok(bad.segments.length >= 3);
  // Damage the header (magic) of offset 7's batch, in the first (sealed) segment.
  const r = bad.read(7, 1);
  const file = r.ranges[0].file;
  const pos = r.ranges[0].position;
  await lm.shutdown();
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, pos + 16);
  writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, pos + 16);
  closeSync(fd);
  // A clean shutdown means no rescan at startup: the damage is found by reads.
  lm = LogManager.open(dir, { topicConfig: () => cfg });
  const bad2 = lm.getLog('bad', 0)!;
  assert.equal(bad2.read(0, 1 << 20).lastOffset, 6, 'serves the good batches before the damage');
  assert.throws(
    () => bad2.read(7, 1 << 20),
    (err: unknown) => {
      assert.ok(err instanceof CorruptRecordError);
      assert.equal(err.topic, 'bad');
      assert.equal(err.partition, 0);
      assert.equal(err.offset, 7);
      assert.match(err.message, /corrupt record batch in bad-0 at offset 7/);
      return true;
    },
  );
  assert.throws(() => bad2.read(20, 100), CorruptRecordError, 'refuses reads past the damage');
  assert.equal(readAll(lm.getLog('good', 0)!).length, 40);
  await lm.getLog('good', 0)!.append(batch(1));
  await lm.shutdown();
});

test('a CRC error in a sealed segment is caught by the scrub, the cleaner and recovery', async (t) => {
  const dir = tempDir(t);
  const cfg = { 'segment.bytes': 1000, 'cleanup.policy': 'compact' };
  let log = openLog(dir, cfg);
  for (let i = 0; i < 30; i++) await log.append(batch([{ key: `k${i % 3}`, value: `v${i}` }]));
  const r = log.read(5, 1);
  await log.close();
  const fd = openSync(r.ranges[0].file, 'r+');
  writeSync(fd, Buffer.from('Z'), 0, 1, r.ranges[0].position + r.ranges[0].length - 3);
  closeSync(fd);
  log = openLog(dir, cfg, { cleanShutdown: true });
  // Reads check headers only, so the scrub is what finds a CRC error in a sealed segment.
  assert.equal(log.read(5, 100).firstOffset, 5);
  const found = await log.verify();
  assert.ok(found instanceof CorruptRecordError);
  assert.equal(found.offset, 5);
  assert.match(found.reason, /CRC mismatch/);
  await log.close();
  log = openLog(dir, cfg, { cleanShutdown: true });
  const { Cleaner } = await import('../../src/storage/cleaner.js');
  await assert.rejects(new Cleaner().clean(log, 0), CorruptRecordError);
  assert.throws(() => log.read(5, 100), CorruptRecordError);
  assert.equal(log.read(0, 1 << 20).firstOffset, 0);
  await log.close();
  // Recovery (unclean start from 0) cuts the log at the damage.
  log = openLog(dir, cfg, { recoveryPoint: 0 });
  assert.equal(log.logEndOffset, 5);
  await log.close();
});

test('a real full disk (a 1 MiB tmpfs): ENOSPC fails the append cleanly, appends resume once space is freed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'brook-enospc-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status === 0;
  t.after(() => {
    if (mounted) spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  // Mounting a tmpfs needs root, which the tests have here and in CI.
  assert.ok(mounted, 'could not mount a 1 MiB tmpfs (this test needs root)');
  const ballast = join(dir, 'ballast');
  writeFileSync(ballast, Buffer.alloc(256 * 1024));
  const log = openLog(join(dir, 't-0'), { 'segment.bytes': 64 * 1024 * 1024 });
  let appended = 0;
  let failure: unknown;
  for (let i = 0; i < 100 && failure === undefined; i++) {
    try {
      await log.append(sizedBatch(50_000));
      appended++;
    } catch (err) {
      failure = err;
    }
  }
  assert.ok(failure instanceof StorageError, `got ${String(failure)}`);
  assert.equal(failure.code, 'ENOSPC');
  assert.ok(appended > 0);
  assert.equal(log.logEndOffset, appended);
  assert.equal(readAll(log).length, appended, 'everything acknowledged is readable');
  rmSync(ballast);
  const r = await log.append(sizedBatch(50_000));
  assert.equal(r.baseOffset, appended);
  assert.equal(readAll(log).length, appended + 1);
  await log.close();
});
