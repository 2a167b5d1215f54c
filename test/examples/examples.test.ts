/**
 * The three LinkedIn examples on a real broker, each run by `brook job run` from the sources:
 * the generators' records go in, and every output topic (and, for "who viewed your profile",
 * the interactive query) equals a reference computed here without the streams API.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Producer } from '../../src/client/index.js';
import {
  GRACE_MS,
  OUT_OF_ORDERNESS_MS,
  SESSION_GAP_MS,
  WINDOW_MS,
} from '../../examples/activity-tracking/job.js';
import { MAX_DISORDER_MS, pageViews } from '../../examples/activity-tracking/generator.js';
import { RAW_TITLES, titleUpdates } from '../../examples/job-titles/generator.js';
import { RULES_V1, RULES_V2, standardize } from '../../examples/job-titles/rules.js';
import { memberId, profile, profileViews } from '../../examples/who-viewed-profile/generator.js';
import { addViewer, type Viewer } from '../../examples/who-viewed-profile/job.js';
import type { BrokerProcess } from '../broker/helpers/broker-process.js';
import {
  caughtUp,
  createTopics,
  eventually,
  type JobProcess,
  lastValues,
  readTopic,
  startJob,
  startStreamsBroker,
  tempFolder,
} from '../streams/runtime-helpers.js';

let broker: BrokerProcess;
let bootstrap: string;
const folders: { remove: () => void }[] = [];
const jobs: JobProcess[] = [];

before(async () => {
  ({ broker, bootstrap } = await startStreamsBroker());
});

after(async () => {
  for (const job of jobs) await job.kill('SIGKILL');
  await broker?.cleanup();
  for (const f of folders) f.remove();
});

function run(file: string, extra: string[] = []): JobProcess {
  const state = tempFolder('brook-example-');
  folders.push(state);
  const job = startJob(file, [
    ...extra,
    '--bootstrap-server',
    bootstrap,
    '--state-dir',
    state.path,
    '--config',
    'task.commit.ms=150',
    '--config',
    'session.timeout.ms=5000',
  ]);
  jobs.push(job);
  return job;
}

async function produce(
  topic: string,
  records: { key: string; value: string; timestamp?: number }[],
): Promise<void> {
  const producer = new Producer({ bootstrapServers: bootstrap });
  try {
    await producer.send(topic, records);
  } finally {
    await producer.close();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const text = (b: Buffer): string => b.toString('utf8');
const sorted = <V>(m: Map<string, V>): [string, V][] =>
  [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
const iso = (t: number): string => new Date(t).toISOString();

test('activity tracking: per-page minute counts and member sessions equal a reference', async () => {
  // One input partition: per-page counts pass a repartition topic, and with one upstream task
  // its records keep the input's (bounded) disorder, so no view is late and every one counts.
  await createTopics(bootstrap, ['page-views', 'page-view-counts', 'member-sessions'], 1);
  assert.ok(MAX_DISORDER_MS - OUT_OF_ORDERNESS_MS <= GRACE_MS, 'the generator makes no late views');
  // Event times (record timestamps too) near now: the broker's time retention (7 days) would
  // delete records stamped with the generator's default start, a fixed date in the past.
  const start = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 30 * WINDOW_MS;
  const views = pageViews(11, 1500, { members: 40, spacingMs: 400, start });
  await produce(
    'page-views',
    views.map((v) => ({ key: v.member, value: JSON.stringify(v), timestamp: v.time })),
  );
  const job = run('examples/activity-tracking/job.ts');
  await eventually(
    'caught up',
    () =>
      caughtUp(bootstrap, 'activity-tracking', [
        'page-views',
        'activity-tracking-by-page-repartition',
      ]),
    90_000,
  );
  assert.equal(await job.kill('SIGTERM'), 0, job.stderr());

  const perPage = new Map<string, string>();
  for (const v of views) {
    const key = `${v.page}@${iso(Math.floor(v.time / WINDOW_MS) * WINDOW_MS)}`;
    perPage.set(key, String(Number(perPage.get(key) ?? 0) + 1));
  }
  assert.deepEqual(sorted(await lastValues(bootstrap, 'page-view-counts', text)), sorted(perPage));

  // Sessions: each member's views sorted by time, split where the gap exceeds SESSION_GAP_MS.
  const sessions = new Map<string, string>();
  const byMember = new Map<string, number[]>();
  for (const v of views) byMember.set(v.member, [...(byMember.get(v.member) ?? []), v.time]);
  for (const [member, times] of byMember) {
    times.sort((a, b) => a - b);
    let start = times[0]!;
    let count = 0;
    for (let i = 0; i < times.length; i++) {
      count++;
      const next = times[i + 1];
      if (next === undefined || next - times[i]! > SESSION_GAP_MS) {
        sessions.set(`${member}@${iso(start)}-${iso(times[i]!)}`, String(count));
        if (next !== undefined) start = next;
        count = 0;
      }
    }
  }
  assert.deepEqual(sorted(await lastValues(bootstrap, 'member-sessions', text)), sorted(sessions));
});

test('who viewed your profile: notifications and recent viewers with profile updates', async () => {
  const MEMBERS = 20;
  await createTopics(
    bootstrap,
    ['member-profiles', 'profile-views', 'profile-view-notifications', 'recent-viewers'],
    2,
  );
  const current = new Map<string, { name: string; title: string }>();
  const publish = (version: number, members: number[]) => {
    const records = members.map((i) => {
      const p = profile(i, version);
      current.set(memberId(i), p);
      return { key: memberId(i), value: JSON.stringify(p) };
    });
    return produce('member-profiles', records);
  };
  const notifications = new Set<string>();
  const recent = new Map<string, Viewer[]>();
  const publishViews = (seed: number, start: number) => {
    const views = profileViews(seed, 300, { members: MEMBERS, start });
    for (const v of views) {
      const p = current.get(v.viewer);
      if (p === undefined) continue; // no profile yet: the inner join drops the view
      const viewer: Viewer = { viewer: v.viewer, name: p.name, title: p.title, time: v.time };
      notifications.add(`${v.viewed}|${JSON.stringify({ ...viewer, viewed: v.viewed })}`);
      recent.set(v.viewed, addViewer(recent.get(v.viewed) ?? [], viewer));
    }
    return produce(
      'profile-views',
      views.map((v) => ({ key: v.viewer, value: JSON.stringify(v), timestamp: v.time })),
    );
  };
  const port = await freePort();
  const job = run('examples/who-viewed-profile/job.ts', ['--config', `query.port=${port}`]);
  const group = 'who-viewed-profile';
  const topics = ['member-profiles', 'profile-views', 'who-viewed-profile-by-viewed-repartition'];
  const settle = () => eventually('caught up', () => caughtUp(bootstrap, group, topics), 90_000);

  // Phases, each processed before the next is produced, so the reference knows which profile
  // each view meets: members 15..19 have no profile at first, then half the members change title.
  await publish(
    0,
    Array.from({ length: 15 }, (_, i) => i),
  );
  await settle();
  await publishViews(1, Date.UTC(2026, 0, 1));
  await settle();
  await publish(
    1,
    Array.from({ length: MEMBERS }, (_, i) => i).filter((i) => i % 2 === 0),
  );
  await settle();
  await publishViews(2, Date.UTC(2026, 0, 2));
  await settle();

  const got = new Set(
    (await readTopic(bootstrap, 'profile-view-notifications')).map(
      (r) => `${text(r.key!)}|${text(r.value!)}`,
    ),
  );
  assert.deepEqual([...got].sort(), [...notifications].sort());
  const stored = await lastValues(bootstrap, 'recent-viewers', (b) => JSON.parse(text(b)));
  assert.deepEqual(sorted(stored), sorted(recent));

  // The store answers what the topic says.
  for (const [member, viewers] of recent) {
    const res = await fetch(`http://127.0.0.1:${port}/stores/recent-viewers/${member}`);
    assert.equal(res.status, 200, member);
    const body = (await res.json()) as { entries: { value: Viewer[] }[] };
    assert.deepEqual(
      body.entries.map((e) => e.value),
      [viewers],
    );
  }
  assert.equal(await job.kill('SIGTERM'), 0, job.stderr());
});

test('job titles: v1 and the reprocessed v2 each equal their rules applied to the whole log', async () => {
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
  const updates = titleUpdates(5, 600);
  await produce(
    'profile-updates',
    updates.map((u) => ({ key: u.member, value: JSON.stringify(u) })),
  );
  // v2 starts after v1 has processed everything: it rebuilds its outputs from the earliest
  // retained offsets, next to v1 (Kappa reprocessing).
  const v1 = run('examples/job-titles/job.ts');
  const topicsOf = (id: string) => ['profile-updates', `${id}-by-title-repartition`];
  await eventually('v1 caught up', () => caughtUp(bootstrap, 'job-titles', topicsOf('job-titles')));
  const v2 = run('examples/job-titles/job-v2.ts', ['--version', 'v2']);
  await eventually('v2 caught up', () =>
    caughtUp(bootstrap, 'job-titles-v2', topicsOf('job-titles-v2')),
  );
  assert.equal(await v1.kill('SIGTERM'), 0, v1.stderr());
  assert.equal(await v2.kill('SIGTERM'), 0, v2.stderr());

  for (const [rules, suffix] of [
    [RULES_V1, ''],
    [RULES_V2, '-v2'],
  ] as const) {
    const latest = new Map<string, string>();
    const counts = new Map<string, string>();
    for (const u of updates) {
      const standard = standardize(u.title, rules);
      latest.set(u.member, JSON.stringify({ member: u.member, raw: u.title, standard }));
      counts.set(standard, String(Number(counts.get(standard) ?? 0) + 1));
    }
    const titles = await lastValues(bootstrap, `standardized-titles${suffix}`, text);
    assert.deepEqual(sorted(titles), sorted(latest), `standardized-titles${suffix}`);
    const counted = await lastValues(bootstrap, `title-counts${suffix}`, text);
    assert.deepEqual(sorted(counted), sorted(counts), `title-counts${suffix}`);
  }
  // The rule change matters: some titles are standardized differently.
  assert.ok(RAW_TITLES.some((t) => standardize(t, RULES_V1) !== standardize(t, RULES_V2)));
});

test('Lambda and Kappa agree: a bounded --until-end run of job titles equals the streaming run', async () => {
  // Runs after the job-titles test, over the same (now static) `profile-updates` log: the
  // streaming v1 output is in `standardized-titles`; a batch run under another id appends its
  // own, which must be the same records in the same order per partition.
  const before = await readTopic(bootstrap, 'standardized-titles');
  const seen = new Map<number, number>();
  for (const r of before) seen.set(r.partition, Math.max(seen.get(r.partition) ?? 0, r.offset + 1));
  const batch = run('examples/job-titles/job.ts', ['--until-end', '--job-id', 'job-titles-batch']);
  await eventually('the bounded run exits by itself', () => batch.proc.exitCode !== null);
  const code = await batch.exited;
  assert.equal(code, 0, batch.stderr());
  assert.ok(
    await caughtUp(bootstrap, 'job-titles-batch', ['profile-updates']),
    'every input committed',
  );
  const after = await readTopic(bootstrap, 'standardized-titles');
  const perPartition = (records: typeof after, fresh: boolean) => {
    const out = new Map<number, string[]>();
    for (const r of records.sort((a, b) => a.offset - b.offset)) {
      if (r.offset >= (seen.get(r.partition) ?? 0) !== fresh) continue;
      out.set(r.partition, [...(out.get(r.partition) ?? []), `${text(r.key!)}=${text(r.value!)}`]);
    }
    return [...out].sort((a, b) => a[0] - b[0]);
  };
  assert.deepEqual(perPartition(after, true), perPartition(after, false));
  assert.ok(before.length > 0);
});
