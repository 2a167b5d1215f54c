/**
 * Recovery on a full disk (storage level): a broker killed after its disk filled up must start
 * again and serve what it holds. Recovery rebuilds indexes and used to write them at once, so the
 * whole start-up failed with ENOSPC; now the rebuilt indexes wait in memory for room.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { logConfig } from '../../src/storage/config.js';
import { StorageError } from '../../src/storage/errors.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { readAll, sizedBatch } from '../storage/helpers.js';
import { mountSmallFs } from './helpers/small-fs.js';

/** Fills the rest of the file system with a ballast file, to the last byte. */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of [64 * 1024, 512, 1]) {
      try {
        for (;;) writeSync(fd, Buffer.alloc(chunk));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

test('a log killed on a full disk reopens there: recovery keeps every acknowledged batch and the rebuilt indexes wait for room', async (t) => {
  const fs = mountSmallFs(1024 * 1024);
  t.after(() => fs.cleanup());
  const dir = join(fs.dir, 'data');
  const first = LogManager.open(dir);
  const cfg = logConfig({ 'segment.bytes': 200_000, 'index.interval.bytes': 4096 });
  const logs = [first.getOrCreateLog('t', 0, cfg), first.getOrCreateLog('t', 1, cfg)];
  const acked = [0, 0];
  for (let i = 0; ; i++) {
    try {
      await logs[i % 2].append(sizedBatch(30_000));
      acked[i % 2]++;
    } catch (err) {
      assert.ok(err instanceof StorageError && err.code === 'ENOSPC', String(err));
      break;
    }
  }
  fillUp(join(fs.dir, 'ballast'));
  // A SIGKILL: nothing is closed or flushed; the descriptors die with the process (here: with
  // the unmount, lazily).
  const again = LogManager.open(dir);
  try {
    assert.equal(again.hadCleanShutdown, false);
    for (let p = 0; p < 2; p++) {
      const log = again.getLog('t', p);
      assert.ok(log);
      assert.equal(log.logEndOffset, acked[p]);
      assert.equal(
        readAll(log).length,
        acked[p],
        `partition ${p}: every acknowledged batch is served`,
      );
    }
  } finally {
    for (const l of again.logs()) {
      try {
        l.closeWithoutFlush();
      } catch {
        // Writing indexes on the full disk fails; the descriptors are closed anyway.
      }
    }
  }
});
