/**
 * The word-count job against a real broker, crashed with kill -9 mid-stream and restarted on the
 * same state dir, then moved to an empty state dir: every word's final count (last value in
 * word-counts, the changelog, and the store's files) is exact, never double-counted or lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { longSerde } from '../../src/streams/serdes/index.js';
import { LmdbEngine } from '../../src/streams/stores/lmdb-engine.js';
import { storeDirectory } from '../../src/streams/stores/state-dir.js';
import { taskNameForPartition } from '../../src/streams/types.js';
import {
  caughtUp,
  corpus,
  eventually,
  type JobProcess,
  lastValues,
  produceLines,
  readTopic,
  wordCountFixture,
} from './runtime-helpers.js';

const PARTITIONS = 3;
const STAGES = ['words', 'word-count-words'];

const wc = wordCountFixture(PARTITIONS, {
  'task.commit.ms': '150',
  'session.timeout.ms': '5000',
  'heartbeat.interval.ms': '500',
});

function run(stateDir: string, ...extra: string[]): JobProcess {
  return wc.run(stateDir, extra);
}

async function outputCount(): Promise<number> {
  return (await readTopic(wc.bootstrap, 'word-counts')).length;
}

function storeContents(stateDir: string): Promise<Map<string, number>> {
  return (async () => {
    const out = new Map<string, number>();
    for (let p = 0; p < PARTITIONS; p++) {
      const dir = storeDirectory(stateDir, 'word-count', 'counts', taskNameForPartition(p));
      const engine = await LmdbEngine.open(dir);
      try {
        for (const { key, value } of engine.all()) {
          const word = key.toString('utf8');
          assert.equal(out.has(word), false, `${word} is counted by two tasks`);
          out.set(word, longSerde.deserialize(value));
        }
      } finally {
        await engine.close();
      }
    }
    return out;
  })();
}

/** Every store's entries of every task, as hex, in key order: the bytes on disk. */
async function rawStores(stateDir: string): Promise<Record<string, [string, string][]>> {
  const out: Record<string, [string, string][]> = {};
  for (const store of ['counts', 'positions']) {
    for (let p = 0; p < PARTITIONS; p++) {
      const task = taskNameForPartition(p);
      const engine = await LmdbEngine.open(storeDirectory(stateDir, 'word-count', store, task));
      try {
        out[`${store}/${task}`] = [...engine.all()].map(({ key, value }) => [
          key.toString('hex'),
          value.toString('hex'),
        ]);
      } finally {
        await engine.close();
      }
    }
  }
  return out;
}

function sorted<V>(map: Map<string, V>): [string, V][] {
  return [...map].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

test('word count stays exact across kill -9 restarts, on the same and on an empty state dir', async (t) => {
  const { lines, counts } = corpus(2400);
  const third = lines.length / 3;
  const state = wc.folder('brook-wc-state-');
  const fresh = wc.folder('brook-wc-fresh-');

  await produceLines(wc.bootstrap, 'words', lines.slice(0, third));
  const first = run(state.path);
  await eventually('first output', async () => (await outputCount()) > 200);
  // Counted before producing: a fast job may be through the new lines before a later count.
  const seen = await outputCount();
  await produceLines(wc.bootstrap, 'words', lines.slice(third, 2 * third), third);
  await eventually('progress on the second third', async () => (await outputCount()) > seen + 100);
  assert.equal(await first.kill('SIGKILL'), 'SIGKILL');

  // Restart on the same state dir; crash again while the last third arrives.
  // A tiny cache: store writes reach the engine (and the changelog) between commits, so this
  // crash leaves local state past its checkpoint, which the next start must discard.
  const second = run(state.path, '--config', 'stores.counts.cache.size=4');
  const before2 = await outputCount();
  await produceLines(wc.bootstrap, 'words', lines.slice(2 * third), 2 * third);
  await eventually('progress after restart', async () => (await outputCount()) > before2 + 100);
  assert.equal(await second.kill('SIGKILL'), 'SIGKILL');

  // Same state dir again, to the end, then a clean stop.
  const third_ = run(state.path);
  await eventually('caught up', () => caughtUp(wc.bootstrap, 'word-count', STAGES), 180_000);
  assert.equal(await third_.kill('SIGTERM'), 0, third_.stderr());
  assert.ok(third_.saw('container-stopped'));

  const expected = sorted(counts);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  // More outputs than words: replays after the crashes re-emitted counts (at-least-once output).
  t.diagnostic(`${total} words, ${await outputCount()} word-counts records`);
  for (const [name, job] of [
    ['second', second],
    ['third', third_],
  ] as const) {
    const plans = job.lines
      .filter((l) => l.event === 'store-restored')
      .map((l) => `${l.store}:${l.plan}:${l.records}`);
    t.diagnostic(`${name} run restores: ${plans.join(' ')}`);
  }
  const outputs = await lastValues(wc.bootstrap, 'word-counts', (b) => Number(b.toString('utf8')));
  assert.deepEqual(sorted(outputs), expected, 'last value per word in word-counts');
  const changelog = await lastValues(wc.bootstrap, 'word-count-counts-changelog', (b) =>
    longSerde.deserialize(b),
  );
  assert.deepEqual(sorted(changelog), expected, 'last value per word in the changelog');
  assert.deepEqual(sorted(await storeContents(state.path)), expected, 'store files');
  const original = await rawStores(state.path);

  // After a clean stop, local state is reused (host affinity): only the tail is replayed.
  const reuse = run(state.path);
  await eventually(
    'tasks started',
    () => reuse.lines.filter((l) => l.event === 'task-started').length === PARTITIONS,
  );
  const plans = reuse.lines.filter((l) => l.event === 'store-restored').map((l) => l.plan);
  assert.deepEqual(new Set(plans), new Set(['replay-tail']));
  assert.equal(await reuse.kill('SIGTERM'), 0, reuse.stderr());

  // An empty state dir: every store is rebuilt from its changelog, to the same counts.
  const rebuilt = run(fresh.path);
  await eventually(
    'tasks started',
    () => rebuilt.lines.filter((l) => l.event === 'task-started').length === PARTITIONS,
  );
  const restored = rebuilt.lines.filter(
    (l) => l.event === 'store-restored' && l.store === 'counts',
  );
  assert.ok(restored.every((l) => l.plan === 'rebuild'));
  assert.equal(await rebuilt.kill('SIGTERM'), 0, rebuilt.stderr());
  assert.deepEqual(
    sorted(await storeContents(fresh.path)),
    expected,
    'store rebuilt from the changelog',
  );
  assert.deepEqual(await rawStores(fresh.path), original, 'rebuilt stores equal byte for byte');
  const outputsAfter = await lastValues(wc.bootstrap, 'word-counts', (b) =>
    Number(b.toString('utf8')),
  );
  assert.deepEqual(sorted(outputsAfter), expected);
});
