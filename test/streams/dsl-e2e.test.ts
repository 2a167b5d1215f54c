/**
 * The high-level API on the real runtime: jobs compiled by `app.toJob()` run by `brook job run`
 * against a broker, crashed with kill -9 mid-stream and restarted; the outputs equal references
 * computed independently in the test.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Producer } from '../../src/client/index.js';
import type { BrokerProcess } from '../broker/helpers/broker-process.js';
import { GRACE, OUT_OF_ORDERNESS } from './dsl-jobs/windowed-counts.js';
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
} from './runtime-helpers.js';
import { type In, outOfOrderInput, referenceSession, referenceTime } from './windows-reference.js';

const PARTITIONS = 2;
let broker: BrokerProcess;
let bootstrap: string;
const folders: { remove: () => void }[] = [];
const jobs: JobProcess[] = [];

before(async () => {
  ({ broker, bootstrap } = await startStreamsBroker());
  await createTopics(
    bootstrap,
    [
      'dsl-clicks',
      'dsl-tumbling',
      'dsl-hopping',
      'dsl-sessions',
      'dsl-profiles',
      'dsl-page-views',
      'dsl-profile-viewed',
    ],
    PARTITIONS,
  );
});

after(async () => {
  for (const job of jobs) await job.kill('SIGKILL');
  await broker?.cleanup();
  for (const f of folders) f.remove();
});

function run(file: string, stateDir: string, extra: string[] = []): JobProcess {
  const job = startJob(file, [
    ...extra,
    '--bootstrap-server',
    bootstrap,
    '--state-dir',
    stateDir,
    '--config',
    'task.commit.ms=150',
    '--config',
    'session.timeout.ms=1500',
    '--config',
    'heartbeat.interval.ms=300',
  ]);
  jobs.push(job);
  return job;
}

async function produce(
  topic: string,
  records: { key: string; value: string; partition?: number; timestamp?: number }[],
): Promise<void> {
  const producer = new Producer({ bootstrapServers: bootstrap });
  try {
    await producer.send(topic, records);
  } finally {
    await producer.close();
  }
}

const text = (b: Buffer): string => b.toString('utf8');

/** Last value per key of the reference's update stream (null: retracted). */
function lastOf(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const cut = line.lastIndexOf('=');
    const [key, value] = [line.slice(0, cut), line.slice(cut + 1)];
    if (value === 'null') out.delete(key);
    else out.set(key, value);
  }
  return out;
}

const sortedEntries = <V>(m: Map<string, V>): [string, V][] =>
  [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));

test('windowed counts (tumbling/update, hopping/final, sessions/update) survive kill -9', async () => {
  // Per partition, its own out-of-order input (late records included); keys differ per
  // partition so that every window belongs to one task.
  const inputs: In[][] = Array.from({ length: PARTITIONS }, (_, p) =>
    outOfOrderInput(100 + p, 300, 4, 300).map((r) => ({ key: `p${p}${r.key}`, ts: r.ts })),
  );
  const send = (from: number, to: number) =>
    produce(
      'dsl-clicks',
      inputs.flatMap((records, partition) =>
        records
          .slice(from, to)
          .map((r) => ({ key: r.key, value: 'x', partition, timestamp: r.ts })),
      ),
    );
  const state = tempFolder('brook-dsl-windows-');
  folders.push(state);
  const file = 'test/streams/dsl-jobs/windowed-counts.ts';
  await send(0, 150);
  const first = run(file, state.path);
  await eventually(
    'first outputs',
    async () => (await readTopic(bootstrap, 'dsl-tumbling')).length > 100,
  );
  assert.equal(await first.kill('SIGKILL'), 'SIGKILL');
  await send(150, 300);
  const second = run(file, state.path);
  await eventually('caught up', () => caughtUp(bootstrap, 'dsl-windows', ['dsl-clicks']), 90_000);
  assert.equal(await second.kill('SIGTERM'), 0, second.stderr());

  const wantTumbling = new Map<string, string>();
  const wantSessions = new Map<string, string>();
  const wantHopping = new Set<string>();
  for (const records of inputs) {
    for (const [k, v] of lastOf(
      referenceTime(records, 100, 100, GRACE, 'update', OUT_OF_ORDERNESS).out,
    )) {
      wantTumbling.set(k, v);
    }
    for (const [k, v] of lastOf(
      referenceSession(records, 60, GRACE, 'update', OUT_OF_ORDERNESS).out,
    )) {
      wantSessions.set(k, v);
    }
    for (const line of referenceTime(records, 100, 40, GRACE, 'final', OUT_OF_ORDERNESS).out) {
      wantHopping.add(line);
    }
  }
  assert.deepEqual(
    sortedEntries(await lastValues(bootstrap, 'dsl-tumbling', text)),
    sortedEntries(wantTumbling),
  );
  assert.deepEqual(
    sortedEntries(await lastValues(bootstrap, 'dsl-sessions', text)),
    sortedEntries(wantSessions),
  );
  // Final results: a replay after the crash may send one again, never a different value.
  const hopping = new Set(
    (await readTopic(bootstrap, 'dsl-hopping')).map((r) => `${text(r.key!)}=${text(r.value!)}`),
  );
  assert.deepEqual([...hopping].sort(), [...wantHopping].sort());
});

test('who viewed your profile: enrichment with a profile table, updates, kill -9', async () => {
  const members = Array.from({ length: 12 }, (_, i) => `member-${i}`);
  const profileAt = new Map<string, string>();
  const want = new Set<string>();
  let viewId = 0;
  const views = (n: number) =>
    Array.from({ length: n }, () => {
      const id = viewId++;
      const viewer = members[(id * 7) % members.length]!;
      const viewed = members[(id * 5 + 3) % members.length]!;
      const profile = profileAt.get(viewer);
      if (profile !== undefined) want.add(`${viewer}|v${id}: ${profile} viewed ${viewed}`);
      return { key: viewer, value: `v${id},${viewed}` };
    });
  const profiles = (version: number, every: number) =>
    members
      .filter((_, i) => i % every === 0)
      .map((m) => {
        const value = `${m.toUpperCase()} v${version}`;
        profileAt.set(m, value);
        return { key: m, value };
      });
  const group = 'dsl-profile-views';
  const topics = ['dsl-profiles', 'dsl-page-views'];
  const state = tempFolder('brook-dsl-profiles-');
  folders.push(state);
  const file = 'test/streams/dsl-jobs/profile-views.ts';

  // Each phase is processed before the next is produced, so the reference knows which profile
  // every view meets (the two topics are otherwise read in no defined order).
  await produce('dsl-profiles', profiles(1, 2)); // half the members have a profile
  const first = run(file, state.path);
  try {
    await eventually('profiles read', () => caughtUp(bootstrap, group, topics), 60_000);
  } catch (e) {
    // Say what the container was doing, for a failure in CI.
    throw new Error(
      `${(e as Error).message}; container log tail: ${JSON.stringify(first.lines.slice(-10))} ${first.stderr()}`,
    );
  }
  await produce('dsl-page-views', views(200));
  await eventually('views joined', () => caughtUp(bootstrap, group, topics), 60_000);
  assert.equal(await first.kill('SIGKILL'), 'SIGKILL');

  const second = run(file, state.path);
  await produce('dsl-profiles', profiles(2, 1)); // every member, new versions
  await eventually('profile updates read', () => caughtUp(bootstrap, group, topics), 60_000);
  await produce('dsl-page-views', views(100));
  await eventually('some views joined', async () => {
    const out = await readTopic(bootstrap, 'dsl-profile-viewed');
    return out.some((r) => text(r.value!).includes(' v2 '));
  });
  assert.equal(await second.kill('SIGKILL'), 'SIGKILL', 'crash while joining');
  await produce('dsl-page-views', views(100));
  const third = run(file, state.path);
  await eventually('caught up', () => caughtUp(bootstrap, group, topics), 90_000);
  assert.equal(await third.kill('SIGTERM'), 0, third.stderr());

  const got = new Set(
    (await readTopic(bootstrap, 'dsl-profile-viewed')).map(
      (r) => `${text(r.key!)}|${text(r.value!)}`,
    ),
  );
  assert.ok(want.size > 250, `${want.size} joined views expected`);
  assert.deepEqual([...got].sort(), [...want].sort());
});

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('stream–stream join over two containers, one killed; queries answer from either', async () => {
  await createTopics(
    bootstrap,
    ['dsl-impressions', 'dsl-clicks-on-ads', 'dsl-ad-clicks', 'dsl-clicked-counts'],
    PARTITIONS,
  );
  const ads = Array.from({ length: 10 }, (_, i) => `ad-${i}`);
  const base = 1_700_000_000_000;
  const events: { side: 'imp' | 'click'; ad: string; id: string; ts: number }[] = [];
  for (let i = 0; i < 400; i++) {
    const side = i % 3 === 0 ? 'click' : 'imp';
    events.push({ side, ad: ads[(i * 7) % ads.length]!, id: `${side}${i}`, ts: base + i * 20_000 });
  }
  const want = new Set<string>();
  const counts = new Map<string, number>();
  for (const a of events) {
    for (const b of events) {
      if (
        a.side === 'imp' &&
        b.side === 'click' &&
        a.ad === b.ad &&
        Math.abs(a.ts - b.ts) <= 600_000
      ) {
        want.add(`${a.ad}|${a.id}+${b.id}`);
        counts.set(a.ad, (counts.get(a.ad) ?? 0) + 1);
      }
    }
  }
  const produceEvents = (from: number, to: number) =>
    Promise.all(
      (['imp', 'click'] as const).map((side) =>
        produce(
          side === 'imp' ? 'dsl-impressions' : 'dsl-clicks-on-ads',
          events
            .slice(from, to)
            .filter((e) => e.side === side)
            .map((e) => ({ key: e.ad, value: e.id, timestamp: e.ts })),
        ),
      ),
    );
  const ports = [await freePort(), await freePort()];
  const peers = ports.map((p) => `127.0.0.1:${p}`).join(',');
  const states = [tempFolder('brook-dsl-ads-a-'), tempFolder('brook-dsl-ads-b-')];
  folders.push(...states);
  const file = 'test/streams/dsl-jobs/ad-clicks.ts';
  const start = (i: number) =>
    run(file, states[i]!.path, [
      '--config',
      `query.port=${ports[i]}`,
      '--config',
      `query.peers=${peers}`,
    ]);
  const group = 'dsl-ad-clicks';
  const topics = ['dsl-impressions', 'dsl-clicks-on-ads'];

  await produceEvents(0, 200);
  const a = start(0);
  const b = start(1);
  await eventually(
    'joins flowing',
    async () => (await readTopic(bootstrap, 'dsl-ad-clicks')).length > 20,
  );
  assert.equal(await b.kill('SIGKILL'), 'SIGKILL');
  await produceEvents(200, 400);
  const b2 = start(1);
  await eventually('caught up', () => caughtUp(bootstrap, group, topics), 90_000);

  const got = new Set(
    (await readTopic(bootstrap, 'dsl-ad-clicks')).map((r) => `${text(r.key!)}|${text(r.value!)}`),
  );
  assert.deepEqual([...got].sort(), [...want].sort());
  const outputs = await lastValues(bootstrap, 'dsl-clicked-counts', (v) =>
    Number(v.readBigInt64BE(0)),
  );
  assert.deepEqual(sortedEntries(outputs), sortedEntries(counts));
  // Every ad from either container: the value of the output topic.
  await eventually('both query servers up', async () => {
    try {
      await Promise.all(ports.map((p) => fetch(`http://127.0.0.1:${p}/stores`)));
      return true;
    } catch {
      return false;
    }
  });
  for (const port of ports) {
    for (const [ad, count] of counts) {
      const res = await fetch(`http://127.0.0.1:${port}/stores/clicked-impressions/${ad}`);
      assert.equal(res.status, 200, `${ad} from ${port}`);
      const body = (await res.json()) as { entries: { value: number }[] };
      assert.deepEqual(
        body.entries.map((e) => e.value),
        [count],
      );
    }
  }
  assert.equal(await a.kill('SIGTERM'), 0, a.stderr());
  assert.equal(await b2.kill('SIGTERM'), 0, b2.stderr());
});
