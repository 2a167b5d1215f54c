import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ChangelogInconsistentError, InvalidNameError } from '../../src/streams/errors.js';
import { CachedStore } from '../../src/streams/stores/cached-store.js';
import { InMemoryEngine } from '../../src/streams/stores/in-memory-engine.js';
import type { BytesStore } from '../../src/streams/stores/key-value-store.js';
import { LmdbEngine } from '../../src/streams/stores/lmdb-engine.js';
import { LoggedStore } from '../../src/streams/stores/logged-store.js';
import { OFFSET_FILE } from '../../src/streams/stores/offset-file.js';
import {
  planRestore,
  type RestoreProgress,
  replayChangelog,
  restoreStore,
} from '../../src/streams/stores/restore.js';
import { storeDirectory, taskFolderName } from '../../src/streams/stores/state-dir.js';
import { dump, MemoryChangelog, tempDir } from './helpers.js';

const CHANGELOG = { topic: 'wordcount-counts-changelog', partition: 0 };
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A task's store stack over LMDB in `dir`, as the runtime will build it after a restore. */
async function openTaskStore(dir: string, changelog: MemoryChangelog, checkpoint: number) {
  const restored = await restoreStore({
    store: 'counts',
    storeDir: dir,
    changelog: CHANGELOG,
    openEngine: (d) => LmdbEngine.open(d!),
    checkpoint,
    reader: changelog,
    writer: changelog,
  });
  const logged = new LoggedStore(restored.engine, changelog, {
    initialOffset: restored.changelogOffset,
    offsetFile: restored.offsetFile,
  });
  return { restored, logged, store: new CachedStore(logged, { cacheSize: 8 }) };
}

async function rebuildInMemory(changelog: MemoryChangelog, checkpoint: number) {
  return restoreStore({
    store: 'counts',
    changelog: CHANGELOG,
    openEngine: async () => new InMemoryEngine(),
    checkpoint,
    reader: changelog,
  });
}

const writes = fc.array(
  fc.record({
    key: fc.uint8Array({ maxLength: 3 }).map((k) => Buffer.from(k)),
    value: fc.option(
      fc.uint8Array({ maxLength: 6 }).map((v) => Buffer.from(v)),
      { freq: 4 },
    ),
  }),
  { maxLength: 80 },
);

function applyAll(store: BytesStore, ops: { key: Buffer; value: Buffer | null }[]): void {
  for (const { key, value } of ops) {
    if (value === null) store.delete(key);
    else store.put(key, value);
  }
}

describe('planRestore', () => {
  test('chooses between the local state and a rebuild', () => {
    assert.deepEqual(planRestore({ usable: true, offset: 4 }, 9), {
      kind: 'replay-tail',
      from: 5,
      to: 9,
    });
    assert.deepEqual(planRestore({ usable: true, offset: 9 }, 9), {
      kind: 'replay-tail',
      from: 10,
      to: 9,
    });
    assert.equal(planRestore({ usable: true, offset: 10 }, 9).kind, 'rebuild');
    assert.equal(planRestore({ usable: true, offset: 0 }, -1).kind, 'rebuild');
    assert.equal(planRestore({ usable: false, reason: 'none' }, 9).kind, 'rebuild');
  });
});

describe('restore', () => {
  test('restore from the changelog only reproduces the store byte for byte', async () => {
    const dir = tempDir();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(writes, fc.boolean(), async (ops, compact) => {
          const changelog = new MemoryChangelog();
          const original = await openTaskStore(join(dir.path, `a${run}`), changelog, -1);
          applyAll(original.store, ops);
          await original.store.flush();
          const checkpoint = original.logged.changelogOffset;
          const expected = dump(original.store);
          await original.store.close();
          if (compact) changelog.compact();
          // Another machine: no local state at all.
          const elsewhere = await openTaskStore(join(dir.path, `b${run++}`), changelog, checkpoint);
          assert.equal(elsewhere.restored.plan.kind, 'rebuild');
          assert.deepEqual(dump(elsewhere.restored.engine), expected);
          await elsewhere.store.close();
          const memory = await rebuildInMemory(changelog, checkpoint);
          assert.deepEqual(dump(memory.engine), expected);
        }),
        { numRuns: 40 },
      );
    } finally {
      dir.remove();
    }
  });

  test('a restore goes exactly to the checkpoint: later changes are discarded and trimmed', async () => {
    const dir = tempDir();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(writes, writes, async (before, after) => {
          const path = join(dir.path, `${run++}`);
          const changelog = new MemoryChangelog();
          const task = await openTaskStore(path, changelog, -1);
          applyAll(task.store, before);
          await task.store.flush(); // commit: the checkpoint records this offset
          const checkpoint = task.logged.changelogOffset;
          const atCheckpoint = dump(task.store);
          applyAll(task.store, after);
          await task.store.flush(); // changes reach the changelog (and the OFFSET file)...
          await task.store.close(); // ...but the checkpoint write never happens: a crash
          const local = task.logged.changelogOffset;

          const restarted = await openTaskStore(path, changelog, checkpoint);
          assert.equal(
            restarted.restored.plan.kind,
            local > checkpoint ? 'rebuild' : 'replay-tail',
          );
          assert.deepEqual(dump(restarted.restored.engine), atCheckpoint);
          await restarted.store.close();
          // The changelog was trimmed: replayed in full, it now also gives the checkpoint's state.
          const end = (await changelog.endOffset()) - 1;
          assert.deepEqual(dump((await rebuildInMemory(changelog, end)).engine), atCheckpoint);
          assert.equal(restarted.restored.changelogOffset, end);
        }),
        { numRuns: 40 },
      );
    } finally {
      dir.remove();
    }
  });

  test('after a crash (no OFFSET file) the local state is rebuilt, not trusted', async () => {
    const dir = tempDir();
    try {
      const changelog = new MemoryChangelog();
      const task = await openTaskStore(dir.path, changelog, -1);
      task.store.put(b('a'), b('1'));
      await task.store.flush();
      const checkpoint = task.logged.changelogOffset;
      assert.ok(existsSync(join(dir.path, OFFSET_FILE)));
      // The next interval: more keys than the cache holds, so evictions write to the engine...
      for (let i = 0; i < 20; i++) task.store.put(b(`k${i}`), b('x'));
      assert.ok(task.restored.engine.approximateCount() > 1);
      assert.equal(existsSync(join(dir.path, OFFSET_FILE)), false);
      // ...then the process dies: unsent changelog records are lost, the engine files stay.
      changelog.dropPending();
      await task.restored.engine.close();

      const restarted = await openTaskStore(dir.path, changelog, checkpoint);
      assert.equal(restarted.restored.plan.kind, 'rebuild');
      assert.deepEqual(dump(restarted.restored.engine), [['a', b('1').toString('hex')]]);
      await restarted.store.close();
    } finally {
      dir.remove();
    }
  });

  test('an OFFSET file without the engine files beside it is not trusted', async () => {
    const dir = tempDir();
    try {
      const changelog = new MemoryChangelog();
      const first = await openTaskStore(dir.path, changelog, -1);
      first.store.put(b('a'), b('1'));
      await first.store.close();
      const checkpoint = first.logged.changelogOffset;
      for (const name of readdirSync(dir.path)) {
        if (name !== OFFSET_FILE) rmSync(join(dir.path, name), { force: true });
      }
      const again = await openTaskStore(dir.path, changelog, checkpoint);
      assert.equal(again.restored.plan.kind, 'rebuild');
      assert.deepEqual(dump(again.restored.engine), [['a', b('1').toString('hex')]]);
      await again.store.close();
    } finally {
      dir.remove();
    }
  });

  test('with local state behind the checkpoint only the changelog tail is replayed', async () => {
    const dir = tempDir();
    try {
      const changelog = new MemoryChangelog();
      const here = join(dir.path, 'here');
      const first = await openTaskStore(here, changelog, -1);
      for (let i = 0; i < 50; i++) first.store.put(b(`k${i}`), b(`${i}`));
      await first.store.close();
      const local = first.logged.changelogOffset;

      // The task ran elsewhere for a while and checkpointed further.
      const away = await openTaskStore(join(dir.path, 'away'), changelog, local);
      for (let i = 0; i < 10; i++) away.store.put(b(`k${i}`), b(`again ${i}`));
      away.store.delete(b('k49'));
      await away.store.flush();
      const checkpoint = away.logged.changelogOffset;
      const expected = dump(away.store);
      await away.store.close();

      const progress: RestoreProgress[] = [];
      const restored = await restoreStore({
        store: 'counts',
        storeDir: here,
        changelog: CHANGELOG,
        openEngine: (d) => LmdbEngine.open(d!),
        checkpoint,
        reader: changelog,
        writer: changelog,
        onProgress: (p) => progress.push(p),
      });
      assert.deepEqual(restored.plan, { kind: 'replay-tail', from: local + 1, to: checkpoint });
      assert.equal(restored.records, checkpoint - local);
      assert.equal(restored.records, 11);
      assert.deepEqual(dump(restored.engine), expected);
      const last = progress.at(-1)!;
      assert.equal(last.done, true);
      assert.equal(last.records, 11);
      assert.equal(last.totalRecords, 11);
      assert.equal(last.offset, checkpoint);
      assert.equal(last.etaSeconds, 0);
      await restored.engine.close();
    } finally {
      dir.remove();
    }
  });

  test('progress is reported while a long changelog replays', async () => {
    const changelog = new MemoryChangelog();
    for (let i = 0; i < 20_000; i++) changelog.append(b(`k${i % 5000}`), b(`${i}`));
    await changelog.flush();
    const progress: RestoreProgress[] = [];
    const engine = new InMemoryEngine();
    const result = await replayChangelog(engine, changelog, {
      store: 'counts',
      from: 0,
      to: 14_999,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0,
      batchSize: 1000,
    });
    assert.equal(result.records, 15_000);
    assert.equal(result.tailKeys.length, 5000);
    assert.ok(progress.length >= 15);
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i]!.records >= progress[i - 1]!.records);
    }
    const middle = progress[5]!;
    assert.equal(middle.totalRecords, 15_000);
    assert.equal(middle.done, false);
    assert.ok(middle.recordsPerSecond > 0);
    assert.ok(middle.etaSeconds !== null && middle.etaSeconds >= 0);
    assert.equal(engine.get(b('k0'))?.toString(), '10000');
  });

  test('a checkpoint beyond the end of the changelog is an error', async () => {
    const changelog = new MemoryChangelog();
    changelog.append(b('a'), b('1'));
    await changelog.flush();
    await assert.rejects(rebuildInMemory(changelog, 5), ChangelogInconsistentError);
  });

  test('no checkpoint means empty state, whatever the changelog holds', async () => {
    const changelog = new MemoryChangelog();
    changelog.append(b('a'), b('1'));
    await changelog.flush();
    const restored = await restoreStore({
      store: 'counts',
      changelog: CHANGELOG,
      openEngine: async () => new InMemoryEngine(),
      checkpoint: -1,
      reader: changelog,
      writer: changelog,
    });
    assert.deepEqual(dump(restored.engine), []);
    assert.equal(restored.trimmedKeys, 1);
    assert.deepEqual(changelog.records.at(-1), { offset: 1, key: b('a'), value: null });
  });
});

describe('state folder layout', () => {
  test('<state-dir>/<job-id>/<store>/<task-name>/', () => {
    assert.equal(
      storeDirectory('./brook-state', 'wordcount', 'counts', 'Partition 0'),
      'brook-state/wordcount/counts/Partition%200',
    );
    assert.equal(taskFolderName('a/b'), 'a%2Fb');
    assert.notEqual(taskFolderName('Partition 0'), taskFolderName('Partition_0'));
    assert.throws(() => storeDirectory('s', '../etc', 'counts', 'Partition 0'), InvalidNameError);
    assert.throws(() => storeDirectory('s', 'job', 'a b', 'Partition 0'), InvalidNameError);
    assert.throws(() => storeDirectory('s', 'job', 'counts', '..'), InvalidNameError);
    assert.throws(() => storeDirectory('s', 'job', 'x'.repeat(300), 'P'), InvalidNameError);
  });
});
