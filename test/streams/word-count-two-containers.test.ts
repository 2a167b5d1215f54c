/**
 * Two containers of the word-count job share its tasks; killing one (kill -9) moves its tasks to
 * the other, which restores their stores from the changelog and continues with exact counts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { longSerde } from '../../src/streams/serdes/index.js';
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

const PARTITIONS = 4;

const wc = wordCountFixture(PARTITIONS, {
  'task.commit.ms': '150',
  'session.timeout.ms': '5000',
  'heartbeat.interval.ms': '500',
});

function run(): JobProcess {
  return wc.run(wc.folder('brook-wc2-').path);
}

/** The tasks a container runs now, from its latest assignment log line. */
function tasksOf(job: JobProcess): number[] {
  const last = job.lines.filter((l) => Array.isArray(l.tasks)).at(-1);
  return (last?.tasks as number[] | undefined) ?? [];
}

function sorted<V>(map: Map<string, V>): [string, V][] {
  return [...map].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

test('two containers share the tasks; the survivor of a kill -9 takes over with exact counts', async () => {
  const { lines, counts } = corpus(2000, 11);
  const half = lines.length / 2;
  await produceLines(wc.bootstrap, 'words', lines.slice(0, half));

  const a = run();
  await eventually('a runs every task', () => tasksOf(a).length === PARTITIONS);
  const b = run();
  await eventually(
    'tasks shared two and two',
    () => tasksOf(a).length === 2 && tasksOf(b).length === 2,
  );
  assert.deepEqual([...tasksOf(a), ...tasksOf(b)].sort(), [0, 1, 2, 3]);
  const moved = tasksOf(b);

  const seen = (await readTopic(wc.bootstrap, 'word-counts')).length;
  await produceLines(wc.bootstrap, 'words', lines.slice(half), half);
  await eventually(
    'progress on the second half',
    async () => (await readTopic(wc.bootstrap, 'word-counts')).length > seen + 100,
  );
  assert.equal(await b.kill('SIGKILL'), 'SIGKILL');

  await eventually('a takes the tasks back', () => tasksOf(a).length === PARTITIONS);
  // The tasks came back to a container whose stores for them were closed: restored again.
  const restoredTwice = (task: number): boolean =>
    a.lines.filter(
      (l) => l.event === 'store-restored' && l.store === 'counts' && l.task === `Partition ${task}`,
    ).length >= 2;
  await eventually('moved tasks restored on their return', () => moved.every(restoredTwice));
  await eventually(
    'caught up',
    () => caughtUp(wc.bootstrap, 'word-count', ['words', 'word-count-words']),
    180_000,
  );
  assert.equal(await a.kill('SIGTERM'), 0, a.stderr());

  const expected = sorted(counts);
  const outputs = await lastValues(wc.bootstrap, 'word-counts', (v) => Number(v.toString('utf8')));
  assert.deepEqual(sorted(outputs), expected);
  const changelog = await lastValues(wc.bootstrap, 'word-count-counts-changelog', (v) =>
    longSerde.deserialize(v),
  );
  assert.deepEqual(sorted(changelog), expected);
});
