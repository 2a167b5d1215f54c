/**
 * `brook job reprocess`: with job titles v1 live, v2 is reprocessed from the earliest offsets;
 * once caught up the alias topic names v2, and v2's outputs equal its rules over the whole log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Producer } from '../../src/client/index.js';
import { titleUpdates } from '../../examples/job-titles/generator.js';
import { RULES_V2, standardize } from '../../examples/job-titles/rules.js';
import type { BrokerProcess } from '../broker/helpers/broker-process.js';
import {
  caughtUp,
  createTopics,
  eventually,
  type JobProcess,
  lastValues,
  startJob,
  startStreamsBroker,
  tempFolder,
} from '../streams/runtime-helpers.js';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'test/broker/helpers/brook-cli.ts');
let broker: BrokerProcess | undefined;
const folder = tempFolder('brook-reprocess-');
const jobs: JobProcess[] = [];

after(async () => {
  for (const j of jobs) await j.kill('SIGTERM');
  await broker?.cleanup();
  folder.remove();
});

test('brook job reprocess: v2 catches up from the earliest offsets, then the alias switches', async () => {
  let bootstrap: string;
  ({ broker, bootstrap } = await startStreamsBroker());
  await createTopics(
    bootstrap,
    [
      'profile-updates',
      'standardized-titles',
      'title-counts',
      'standardized-titles-v2',
      'title-counts-v2',
    ],
    2,
  );
  const updates = titleUpdates(9, 400);
  const producer = new Producer({ bootstrapServers: bootstrap });
  await producer.send(
    'profile-updates',
    updates.map((u) => ({ key: u.member, value: JSON.stringify(u) })),
  );
  await producer.close();
  const common = ['--bootstrap-server', bootstrap, '--state-dir', folder.path];
  const v1 = startJob('examples/job-titles/job.ts', [...common, '--config', 'task.commit.ms=200']);
  jobs.push(v1);
  await eventually('v1 caught up', () => caughtUp(bootstrap, 'job-titles', ['profile-updates']));

  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'job',
      'reprocess',
      'examples/job-titles/job-v2.ts',
      '--version',
      'v2',
      ...common,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  try {
    await eventually('switched', () => out.includes('switched: job-titles'), 60_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${out}`);
  } finally {
    if (proc.exitCode === null) proc.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out);
  assert.match(out, /catch-up: job-titles-v2 lag/);
  const aliases = await lastValues(bootstrap, 'brook-job-aliases', (b) => JSON.parse(b.toString()));
  assert.equal(aliases.get('job-titles')?.jobId, 'job-titles-v2');
  const latest = new Map<string, string>();
  for (const u of updates) {
    const standard = standardize(u.title, RULES_V2);
    latest.set(u.member, JSON.stringify({ member: u.member, raw: u.title, standard }));
  }
  const got = await lastValues(bootstrap, 'standardized-titles-v2', (b) => b.toString());
  assert.deepEqual([...got].sort(), [...latest].sort());
});
