/**
 * Zombie fencing of containers: a container stopped (SIGSTOP) past its session timeout loses its
 * tasks to the other container; when it runs again (SIGCONT) it processes nothing more for them,
 * never commits over the other container's checkpoints, gives the tasks up (lost, not revoked)
 * and rejoins. A lone container that comes back gets its own tasks again and restarts them from
 * the checkpoint. Across all of it every word's count (the last value per key of `word-counts`
 * and of the store's changelog) is exact, and no partition's committed offset ever goes back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admin, Producer } from '../../src/client/index.js';
import { decodeOffsetsTopicRecord } from '../../src/broker/groups/records.js';
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
const SESSION_MS = 5000;

const wc = wordCountFixture(PARTITIONS, {
  'task.commit.ms': '150',
  'session.timeout.ms': String(SESSION_MS),
  'heartbeat.interval.ms': '300',
});

const GROUP = 'word-count';
const TOPICS = ['words', 'word-count-words'];

function run(): JobProcess {
  return wc.run(wc.folder('brook-zombie-').path);
}

/** The tasks a container runs now, from its latest log line that lists them. */
function tasksOf(job: JobProcess): number[] {
  const last = job.lines.filter((l) => Array.isArray(l.tasks)).at(-1);
  return (last?.tasks as number[] | undefined) ?? [];
}

function events(job: JobProcess, event: string): Record<string, unknown>[] {
  return job.lines.filter((l) => l.event === event);
}

function sorted<V>(map: Map<string, V>): [string, V][] {
  return [...map].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Every offset the group has committed, per `topic-partition`, in the order committed. */
async function commitHistory(): Promise<Map<string, number[]>> {
  const records = await readTopic(wc.bootstrap, '__consumer_offsets');
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const out = new Map<string, number[]>();
  for (const r of records) {
    if (r.key === null) continue;
    const decoded = decodeOffsetsTopicRecord(r.key, r.value);
    if (decoded.type !== 'offset' || decoded.group !== GROUP || decoded.value === null) continue;
    const key = `${decoded.topic}-${decoded.partition}`;
    const list = out.get(key) ?? [];
    list.push(decoded.value.offset);
    out.set(key, list);
  }
  return out;
}

async function members(): Promise<number> {
  const admin = new Admin({ bootstrapServers: wc.bootstrap });
  try {
    return (await admin.describeGroup(GROUP)).members.length;
  } finally {
    await admin.close();
  }
}

const allCaughtUp = (): Promise<boolean> => caughtUp(wc.bootstrap, GROUP, TOPICS);

test('a container stopped past its session is fenced: it rejoins, never commits over the new owner, and counts stay exact', async () => {
  const { lines, counts } = corpus(4000, 23);
  const quarter = lines.length / 4;
  const phase = (n: number): string[] => lines.slice(n * quarter, (n + 1) * quarter);
  const a = run();
  const stopped = new Set<JobProcess>();
  const stop = (job: JobProcess): void => {
    stopped.add(job);
    job.proc.kill('SIGSTOP');
  };
  const resume = (job: JobProcess): void => {
    stopped.delete(job);
    job.proc.kill('SIGCONT');
  };
  try {
    await produceLines(wc.bootstrap, 'words', phase(0));
    await eventually('a runs every task', () => tasksOf(a).length === PARTITIONS);
    const b = run();
    await eventually(
      'tasks shared two and two',
      () => tasksOf(a).length === 2 && tasksOf(b).length === 2,
    );
    await eventually('the first quarter processed', allCaughtUp, 180_000);

    // a stands still, idle, past its session timeout. The next lines go out at once, so that a's
    // waiting fetches get them (and the words b splits from them for a's tasks): a holds them
    // when it runs again, but they belong to b once the group has moved a's tasks over.
    const zombieTasks = [...tasksOf(a)].sort((x, y) => x - y);
    const producer = new Producer({ bootstrapServers: wc.bootstrap });
    try {
      await producer.connect();
      await producer.cluster.waitForTopic('words', 30_000);
      stop(a);
      await producer.send(
        'words',
        phase(1).map((value, i) => ({ key: `line-${quarter + i}`, value })),
      );
    } finally {
      await producer.close();
    }
    await eventually('b runs every task', () => tasksOf(b).length === PARTITIONS, 60_000);
    await eventually('the second quarter processed by b', allCaughtUp, 180_000);
    const lostBefore = events(a, 'tasks-lost').length;
    const revokedBefore = events(a, 'tasks-revoked').length;
    resume(a);

    await eventually('a finds its tasks lost', () => events(a, 'tasks-lost').length > lostBefore);
    const lost = events(a, 'tasks-lost').at(-1)!;
    assert.deepEqual(
      [...(lost.removed as number[])].sort((x, y) => x - y),
      zombieTasks,
    );
    assert.equal(events(a, 'tasks-revoked').length, revokedBefore, 'lost, not revoked (no commit)');
    await eventually(
      'a rejoined and shares the tasks again',
      () => tasksOf(a).length === 2 && tasksOf(b).length === 2,
      60_000,
    );
    await produceLines(wc.bootstrap, 'words', phase(2), 2 * quarter);
    await eventually('the third quarter processed', allCaughtUp, 180_000);

    // A lone container comes back from standing still to its own tasks: the same partitions,
    // handed back by the rejoin, start again from the checkpoint (stores rebuilt from the
    // changelog: the lost tasks' local state was not trusted).
    assert.equal(await b.kill('SIGTERM'), 0, b.stderr());
    await eventually('a runs every task alone', () => tasksOf(a).length === PARTITIONS, 60_000);
    await eventually('caught up before standing still again', allCaughtUp, 180_000);
    const lostBeforeAlone = events(a, 'tasks-lost').length;
    const restoresBefore = events(a, 'store-restored').length;
    stop(a);
    await produceLines(wc.bootstrap, 'words', phase(3), 3 * quarter);
    await eventually('the group to drop a', async () => (await members()) === 0, 60_000);
    resume(a);
    await eventually(
      'a finds every task lost',
      () => events(a, 'tasks-lost').length > lostBeforeAlone,
    );
    const lostAlone = events(a, 'tasks-lost').at(-1)!;
    assert.deepEqual(
      [...(lostAlone.removed as number[])].sort((x, y) => x - y),
      [0, 1, 2, 3],
    );
    await eventually('a runs its tasks again', () => tasksOf(a).length === PARTITIONS, 60_000);
    await eventually('everything processed', allCaughtUp, 180_000);
    const restores = events(a, 'store-restored').slice(restoresBefore);
    for (const task of [0, 1, 2, 3]) {
      const counts = restores.find((l) => l.store === 'counts' && l.task === `Partition ${task}`);
      assert.ok(counts, `task ${task} restored again`);
      assert.equal(counts.plan, 'rebuild', `task ${task}: ${String(counts.reason)}`);
    }
    assert.equal(await a.kill('SIGTERM'), 0, a.stderr());
  } finally {
    for (const job of stopped) job.proc.kill('SIGCONT');
  }

  const expected = sorted(counts);
  const outputs = await lastValues(wc.bootstrap, 'word-counts', (v) => Number(v.toString('utf8')));
  assert.deepEqual(sorted(outputs), expected);
  const changelog = await lastValues(wc.bootstrap, 'word-count-counts-changelog', (v) =>
    longSerde.deserialize(v),
  );
  assert.deepEqual(sorted(changelog), expected);

  // Every container stood still (or stopped) idle, with all it had done checkpointed, so no task
  // ever started behind the outputs it had produced: each word's counts only go up. A count
  // emitted by a zombie for a task the other container had moved on with would go back.
  const emitted = new Map<string, number[]>();
  for (const r of await readTopic(wc.bootstrap, 'word-counts')) {
    const word = r.key!.toString('utf8');
    const list = emitted.get(word) ?? [];
    list.push(Number(r.value!.toString('utf8')));
    emitted.set(word, list);
  }
  for (const [word, values] of emitted) {
    for (let i = 1; i < values.length; i++) {
      assert.ok(
        values[i]! >= values[i - 1]!,
        `${word}: ${values[i]} emitted after ${values[i - 1]}`,
      );
    }
  }

  // No commit ever went back: the zombie's checkpoints never replaced the new owner's.
  const history = await commitHistory();
  assert.ok(history.size >= PARTITIONS * TOPICS.length, `commits of ${[...history.keys()]}`);
  for (const [key, offsets] of history) {
    for (let i = 1; i < offsets.length; i++) {
      assert.ok(
        offsets[i]! >= offsets[i - 1]!,
        `${key}: committed ${offsets[i]} after ${offsets[i - 1]} (commit ${i} of ${offsets.length})`,
      );
    }
  }
});
