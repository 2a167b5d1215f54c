/**
 * `brook job reprocess` of the job-title example (Kappa reprocessing), on one broker:
 *
 * 1. v1 live with a query server; `reprocess job-v2.ts --version v2` writes its own outputs
 *    (`-v2`, created like v1's), switches the alias once caught up, and from then on v1's query
 *    server answers from v2 and `brook job outputs` names v2's topics.
 * 2. `reprocess job-v2.ts --version v3 --retire-old --live-id job-titles`: v1 stops by itself
 *    when the alias retires it, and its group offsets, outputs, repartition topic, changelogs
 *    and local state are deleted; v3's outputs equal its rules over the whole log.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Admin, Producer } from '../../src/client/index.js';
import { titleUpdates } from '../../examples/job-titles/generator.js';
import { RULES_V2, standardize, type TitleRule } from '../../examples/job-titles/rules.js';
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
let bootstrap = '';
const folder = tempFolder('brook-reprocess-');
const jobs: JobProcess[] = [];
const children: ChildProcess[] = [];
const updates = titleUpdates(9, 400);
let v1: JobProcess;
let v1Port = 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The last value per member and the count per title of `updates` under `rules`. */
function reference(rules: readonly TitleRule[]) {
  const latest = new Map<string, string>();
  const counts = new Map<string, string>();
  for (const u of updates) {
    const standard = standardize(u.title, rules);
    latest.set(u.member, JSON.stringify({ member: u.member, raw: u.title, standard }));
    counts.set(standard, String(Number(counts.get(standard) ?? 0) + 1));
  }
  return { latest, counts };
}

const sorted = <V>(m: Map<string, V>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));

/** Runs `brook job reprocess` and collects its output. */
function reprocess(args: string[]) {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'job', 'reprocess', 'examples/job-titles/job-v2.ts', ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(proc);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, exited, out: () => out };
}

async function topicsNow(): Promise<Set<string>> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    return new Set(await admin.listTopics());
  } finally {
    await admin.close();
  }
}

before(async () => {
  ({ broker, bootstrap } = await startStreamsBroker());
  await createTopics(bootstrap, ['profile-updates', 'standardized-titles'], 2);
  // Compacted, so that the version's copy must be created compacted too.
  const admin = new Admin({ bootstrapServers: bootstrap });
  await admin.createTopics([
    { topic: 'title-counts', numPartitions: 2, configs: { 'cleanup.policy': 'compact' } },
  ]);
  await admin.close();
  const producer = new Producer({ bootstrapServers: bootstrap });
  await producer.send(
    'profile-updates',
    updates.map((u) => ({ key: u.member, value: JSON.stringify(u) })),
  );
  await producer.close();
  v1Port = await freePort();
  v1 = startJob('examples/job-titles/job.ts', [
    '--bootstrap-server',
    bootstrap,
    '--state-dir',
    folder.path,
    '--config',
    'task.commit.ms=200',
    '--config',
    `query.port=${v1Port}`,
  ]);
  jobs.push(v1);
  await eventually('v1 caught up', () =>
    caughtUp(bootstrap, 'job-titles', ['profile-updates', 'job-titles-by-title-repartition']),
  );
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const j of jobs) await j.kill('SIGTERM');
  await broker?.cleanup();
  folder.remove();
});

test('reprocess v2: its own outputs, the alias switches, queries and job outputs follow it', async () => {
  const run = reprocess([
    '--version',
    'v2',
    '--bootstrap-server',
    bootstrap,
    '--state-dir',
    folder.path,
  ]);
  try {
    await eventually('switched', () => run.out().includes('switched: job-titles'), 180_000);
    assert.match(run.out(), /catch-up: job-titles-v2 lag/);
    assert.match(run.out(), /created title-counts-v2/);

    // The alias names v2, with its outputs and query address.
    const aliases = await lastValues(bootstrap, 'brook-job-aliases', (b) =>
      JSON.parse(b.toString()),
    );
    const alias = aliases.get('job-titles');
    assert.equal(alias?.jobId, 'job-titles-v2');
    assert.equal(alias?.previous, 'job-titles');
    assert.deepEqual(alias?.outputs, {
      'standardized-titles': 'standardized-titles-v2',
      'title-counts': 'title-counts-v2',
    });
    assert.equal(alias?.query.length, 1);

    // The version's outputs are complete and follow the rules v2 over the whole log.
    const want = reference(RULES_V2);
    const text = (b: Buffer) => b.toString();
    assert.deepEqual(
      sorted(await lastValues(bootstrap, 'standardized-titles-v2', text)),
      sorted(want.latest),
    );
    assert.deepEqual(
      sorted(await lastValues(bootstrap, 'title-counts-v2', text)),
      sorted(want.counts),
    );
    const admin = new Admin({ bootstrapServers: bootstrap });
    const policy = (await admin.describeConfigs('title-counts-v2')).find(
      (c) => c.name === 'cleanup.policy',
    );
    await admin.close();
    assert.equal(policy?.value, 'compact', 'created like title-counts');

    // v1's query server answers from v2 now.
    const member = updates[0]!.member;
    const res = await fetch(`http://127.0.0.1:${v1Port}/stores/member-titles/${member}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      entries: { value: unknown }[];
      version: string;
      forwardedBy: string;
    };
    assert.equal(body.version, 'v2');
    assert.equal(body.forwardedBy, `127.0.0.1:${v1Port}`);
    assert.deepEqual(
      body.entries.map((e) => JSON.stringify(e.value)),
      [want.latest.get(member)],
    );
    const outputs = (await (await fetch(`http://127.0.0.1:${v1Port}/outputs`)).json()) as {
      jobId: string;
      outputs: Record<string, string>;
      self: string;
    };
    assert.equal(outputs.jobId, 'job-titles-v2');
    assert.equal(outputs.self, 'job-titles');
    assert.equal(outputs.outputs['title-counts'], 'title-counts-v2');

    // So does `brook job outputs`, given the file or the alias.
    for (const target of ['examples/job-titles/job.ts', 'job-titles']) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          'job',
          'outputs',
          target,
          '--bootstrap-server',
          bootstrap,
          '--json',
        ],
        { cwd: root },
      );
      const report = JSON.parse(stdout) as { jobId: string; outputs: Record<string, string> };
      assert.equal(report.jobId, 'job-titles-v2');
      assert.equal(report.outputs['standardized-titles'], 'standardized-titles-v2');
    }
    // Without --retire-old the old version goes on.
    assert.equal(v1.proc.exitCode, null);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${run.out()}`);
  } finally {
    if (run.proc.exitCode === null) run.proc.kill('SIGTERM');
  }
  assert.equal(await run.exited, 0, run.out());
});

test('reprocess --retire-old: the old version stops by itself and its outputs are deleted', async () => {
  const run = reprocess([
    '--version',
    'v3',
    '--retire-old',
    '--live-id',
    'job-titles',
    '--bootstrap-server',
    bootstrap,
    '--state-dir',
    folder.path,
  ]);
  try {
    await eventually('retired', () => run.out().includes('retired: job-titles\n'), 180_000);
    // v1 saw the alias retire it and stopped cleanly.
    assert.equal(await v1.exited, 0, v1.stderr());
    assert.ok(v1.saw('job-retired'));
    const topics = await topicsNow();
    for (const gone of [
      'standardized-titles',
      'title-counts',
      'job-titles-by-title-repartition',
      'job-titles-member-titles-changelog',
      'job-titles-title-counts-changelog',
    ]) {
      assert.ok(!topics.has(gone), `${gone} deleted`);
    }
    for (const kept of ['profile-updates', 'standardized-titles-v3', 'title-counts-v3']) {
      assert.ok(topics.has(kept), `${kept} kept`);
    }
    assert.ok(!existsSync(join(folder.path, 'job-titles')), 'local state of v1 deleted');
    const admin = new Admin({ bootstrapServers: bootstrap });
    const groups = (await admin.listGroups()).map((g) => g.groupId);
    await admin.close();
    assert.ok(!groups.includes('job-titles'), 'group offsets of v1 deleted');

    const aliases = await lastValues(bootstrap, 'brook-job-aliases', (b) =>
      JSON.parse(b.toString()),
    );
    assert.equal(aliases.get('job-titles')?.jobId, 'job-titles-v3');
    assert.deepEqual(aliases.get('job-titles')?.retire, ['job-titles']);
    const want = reference(RULES_V2);
    const text = (b: Buffer) => b.toString();
    assert.deepEqual(
      sorted(await lastValues(bootstrap, 'standardized-titles-v3', text)),
      sorted(want.latest),
    );
    assert.deepEqual(
      sorted(await lastValues(bootstrap, 'title-counts-v3', text)),
      sorted(want.counts),
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${run.out()}`);
  } finally {
    if (run.proc.exitCode === null) run.proc.kill('SIGTERM');
  }
  assert.equal(await run.exited, 0, run.out());
});
