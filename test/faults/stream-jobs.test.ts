/**
 * Stream jobs killed at random: the word-count example (a stateful two-stage job with persistent
 * stores and changelogs) is run as a container that gets SIGKILL at seeded random moments, some
 * while it processes input and some while it restores its stores (an empty state dir rebuilds
 * them from the changelogs), and is restarted, N cycles. Input keeps arriving between cycles.
 * At the end one container runs to the end of the input and stops cleanly; the last value per
 * word in the output topic and in the changelog, and the store files, must equal the counts
 * computed here from the input (exact: nothing lost, nothing counted twice).
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
  wordCountFixture,
} from '../streams/runtime-helpers.js';
import { printFigures } from './helpers/figures.js';
import { faultsMode, scale } from './helpers/mode.js';
import { scenarioRandom } from './helpers/random.js';

const JOB_ID = 'word-count';
const PARTITIONS = 3;
const STAGES = ['words', 'word-count-words'];

const wc = wordCountFixture(PARTITIONS, {
  'task.commit.ms': '200',
  'session.timeout.ms': '3000',
  'heartbeat.interval.ms': '300',
});

function count(job: JobProcess, event: string): number {
  return job.lines.filter((l) => l.event === event).length;
}

/** The counts in the `counts` store files of every task (the container must be stopped). */
async function storeCounts(stateDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let p = 0; p < PARTITIONS; p++) {
    const dir = storeDirectory(stateDir, JOB_ID, 'counts', taskNameForPartition(p));
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
}

function sorted<V>(map: Map<string, V>): [string, V][] {
  return [...map].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every 2 ms (kills must land inside short phases such as a restore). */
async function pollUntil(pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`condition not reached in ${timeoutMs} ms`);
    await sleep(2);
  }
}

test(`word count stays exact across seeded SIGKILLs during processing and restore (${faultsMode()} mode)`, async (t) => {
  const rng = scenarioRandom('stream-jobs');
  const cycles = scale(2, 12);
  const { lines, counts } = corpus(scale(2000, 20000), rng.int(1, 1_000_000));
  // Input arrives in parts: one before the first start, one per cycle.
  const parts = cycles + 1;
  const per = Math.ceil(lines.length / parts);
  let produced = 0;
  const produceNext = async () => {
    const slice = lines.slice(produced, produced + per);
    if (slice.length === 0) return;
    await produceLines(wc.bootstrap, 'words', slice, produced);
    produced += slice.length;
  };
  await produceNext();

  const state = wc.folder('brook-faults-wc-');
  const kills: { cycle: number; phase: string; atMs: number; stateDir: string; cache: string }[] =
    [];
  for (let cycle = 0; cycle < cycles; cycle++) {
    // Half the cycles kill during restore: they start on an empty state dir, so every store is
    // rebuilt from its changelog, and the kill lands a random moment after the tasks were
    // assigned. The others kill during processing, on the kept state dir, while input arrives.
    // The first cycle processes (there is nothing to restore yet), the second restores; then
    // the seed decides.
    const duringRestore = cycle === 1 || (cycle > 1 && rng.next() < 0.5);
    let dir = state.path;
    if (duringRestore) {
      const fresh = wc.folder('brook-faults-wc-fresh-');
      dir = fresh.path;
    }
    // A tiny cache in some cycles: store writes reach the engine and the changelog between
    // commits, so the kill leaves local state and changelog past the checkpoint.
    const cache = rng.next() < 0.5 ? '4' : '10000';
    const job = wc.run(dir, ['--config', `stores.counts.cache.size=${cache}`]);
    const began = Date.now();
    let phase: string;
    if (duringRestore) {
      // 2 stores × 3 tasks are restored one after another: kill once a seeded number of them
      // (0 to 3) is done, checking the log every few milliseconds.
      const restoredBeforeKill = rng.int(0, 2 * PARTITIONS - 3);
      await pollUntil(
        () =>
          job.proc.exitCode !== null ||
          (job.saw('tasks-assigned') && count(job, 'store-restored') >= restoredBeforeKill),
        60_000,
      );
      phase = count(job, 'task-started') < PARTITIONS ? 'restore' : 'restore-finished-first';
    } else {
      await eventually(
        'a task running',
        () => job.saw('task-running') || job.proc.exitCode !== null,
        60_000,
      );
      const feeding = produceNext();
      await sleep(rng.int(100, 2500));
      phase = 'processing';
      await feeding;
    }
    assert.equal(
      job.proc.exitCode,
      null,
      `cycle ${cycle}: the container died on its own: ${job.stderr()}`,
    );
    assert.equal(await job.kill('SIGKILL'), 'SIGKILL');
    kills.push({
      cycle,
      phase,
      atMs: Date.now() - began,
      stateDir: duringRestore ? 'empty' : 'kept',
      cache,
    });
    t.diagnostic(
      `cycle ${cycle}: killed during ${phase} after ${Date.now() - began} ms (cache ${cache})`,
    );
  }
  while (produced < lines.length) await produceNext();

  // The last container runs to the end and stops cleanly (SIGTERM commits).
  const last = wc.run(state.path);
  try {
    await eventually(
      'caught up',
      () => caughtUp(wc.bootstrap, JOB_ID, STAGES),
      scale(180_000, 600_000),
    );
  } catch (err) {
    const tail = last.lines.slice(-40).map((l) => JSON.stringify(l));
    t.diagnostic(`last container's log:\n${tail.join('\n')}\n${last.stderr()}`);
    throw err;
  }
  assert.equal(await last.kill('SIGTERM'), 0, last.stderr());

  const expected = sorted(counts);
  const outputs = await lastValues(wc.bootstrap, 'word-counts', (b) => Number(b.toString('utf8')));
  const changelog = await lastValues(wc.bootstrap, `${JOB_ID}-counts-changelog`, (b) =>
    longSerde.deserialize(b),
  );
  const store = await storeCounts(state.path);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const wrong = expected.filter(([w, n]) => outputs.get(w) !== n).length;
  printFigures('stream-jobs', {
    seed: rng.seed,
    cycles,
    killsDuringRestore: kills.filter((k) => k.phase === 'restore').length,
    killsDuringProcessing: kills.filter((k) => k.phase === 'processing').length,
    lines: lines.length,
    words: total,
    distinctWords: counts.size,
    wordsWithWrongCount: wrong,
  });
  assert.deepEqual(sorted(outputs), expected, 'last value per word in word-counts');
  assert.deepEqual(sorted(changelog), expected, 'last value per word in the changelog');
  assert.deepEqual(sorted(store), expected, 'the store files of the last container');
  assert.ok(
    kills.some((k) => k.phase === 'processing'),
    'at least one kill landed during processing',
  );
  assert.ok(
    kills.some((k) => k.phase === 'restore'),
    'at least one kill landed during a restore',
  );
});
