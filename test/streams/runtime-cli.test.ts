/**
 * `brook job run` from the command line: errors that name the fix, and `--reset latest` for a job
 * without a checkpoint.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrokerProcess } from '../broker/helpers/broker-process.js';
import {
  caughtUp,
  createTopics,
  eventually,
  type JobProcess,
  lastValues,
  produceLines,
  startJob,
  startStreamsBroker,
  tempFolder,
} from './runtime-helpers.js';

let broker: BrokerProcess;
let bootstrap: string;
const state = tempFolder('brook-runtime-cli-');
const jobs: JobProcess[] = [];

before(async () => {
  ({ broker, bootstrap } = await startStreamsBroker());
});

after(async () => {
  for (const job of jobs) await job.kill('SIGKILL');
  await broker?.cleanup();
  state.remove();
});

function run(file: string, ...extra: string[]): JobProcess {
  const job = startJob(file, [
    '--bootstrap-server',
    bootstrap,
    '--state-dir',
    state.path,
    ...extra,
  ]);
  jobs.push(job);
  return job;
}

test('a job file that does not exist fails with exit code 1 and says so', async () => {
  const job = run('examples/no-such-job.ts');
  assert.equal(await job.exited, 1);
  assert.match(job.stderr(), /brook job run: cannot load job examples\/no-such-job\.ts/);
});

test('a missing input topic fails with exit code 1 and names the topic', async () => {
  const job = run('examples/word-count.ts');
  assert.equal(await job.exited, 1);
  assert.match(job.stderr(), /input topic words does not exist; create it first/);
});

test('--reset latest: a job without a checkpoint skips what its inputs held before it started', async () => {
  await createTopics(bootstrap, ['words', 'word-counts'], 2);
  await produceLines(bootstrap, 'words', ['old old old', 'older']);
  const job = run('examples/word-count.ts', '--reset', 'latest', '--config', 'task.commit.ms=100');
  await eventually(
    'tasks running',
    () => job.lines.filter((l) => l.event === 'task-running').length === 2,
  );
  await produceLines(bootstrap, 'words', ['new words', 'new'], 2);
  await eventually('caught up', () =>
    caughtUp(bootstrap, 'word-count', ['words', 'word-count-words']),
  );
  assert.equal(await job.kill('SIGTERM'), 0, job.stderr());
  const counts = await lastValues(bootstrap, 'word-counts', (v) => v.toString('utf8'));
  assert.deepEqual([...counts].sort(), [
    ['new', '2'],
    ['words', '1'],
  ]);
});
