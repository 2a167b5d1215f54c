/**
 * Tables kept from their own topic (`app.table(topic)`, `StoreSpec.sourceTopic`) and the
 * co-partitioning check at container start, in-process against a real broker: no changelog
 * topic is created for the table, a restart restores it from the source topic (rebuilt with an
 * empty state dir, only the tail with local state), the checkpoint records the source offset,
 * joins stay right, the task cannot write the table, and a join over inputs of different
 * partition counts fails before anything is created, with the fix in the message.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { Admin, Producer } from '../../src/client/index.js';
import {
  Container,
  CopartitioningError,
  defineJob,
  type KeyValueStore,
  ReadOnlyStoreError,
  stringSerde,
  streamsApp,
  type TaskContext,
} from '../../src/streams/index.js';
import { decodeCheckpointMetadata } from '../../src/streams/runtime/checkpoint.js';
import type { BrokerProcess } from '../broker/helpers/broker-process.js';
import {
  caughtUp,
  createTopics,
  eventually,
  readTopic,
  startStreamsBroker,
  tempFolder,
} from './runtime-helpers.js';

let broker: BrokerProcess;
let bootstrap: string;
const folders: { remove: () => void }[] = [];

before(async () => {
  ({ broker, bootstrap } = await startStreamsBroker());
  await createTopics(bootstrap, ['ts-profiles', 'ts-views', 'ts-out', 'ts-ro-in'], 2);
  await createTopics(bootstrap, ['ts-wide'], 3);
});

after(async () => {
  await broker?.cleanup();
  for (const f of folders) f.remove();
});

const strings = { key: stringSerde, value: stringSerde };
const JOB = 'ts-enrich';

function enrichJob() {
  const app = streamsApp({ id: JOB });
  const profiles = app.table('ts-profiles', strings, { name: 'profiles' });
  app
    .stream('ts-views', strings)
    .join(profiles, (view, profile) => `${view} by ${profile}`)
    .sendTo('ts-out', strings);
  return app.toJob();
}

async function produce(topic: string, records: { key: string | null; value: string | null }[]) {
  const producer = new Producer({ bootstrapServers: bootstrap });
  try {
    await producer.send(topic, records);
  } finally {
    await producer.close();
  }
}

/** A running container, its log lines, and how to stop it. */
function start(stateDir: string, config: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const container = new Container(enrichJob(), {
    bootstrapServers: bootstrap,
    stateDir,
    config: { 'task.commit.ms': '100', ...config },
    logger,
  });
  const done = container.run();
  return {
    lines,
    async stop() {
      container.shutdown();
      await done;
    },
  };
}

const topics = ['ts-profiles', 'ts-views'];
const members = Array.from({ length: 10 }, (_, i) => `m${i}`);

/** The joined outputs as `key|value` strings. */
async function outputs(): Promise<Set<string>> {
  return new Set(
    (await readTopic(bootstrap, 'ts-out')).map(
      (r) => `${r.key?.toString()}|${r.value?.toString()}`,
    ),
  );
}

test('a table restores from its own topic: no changelog copy, exact joins across restarts', async () => {
  const want = new Set<string>();
  const state = tempFolder('brook-table-source-');
  folders.push(state);
  // Profiles before the first start: with auto.offset.reset=latest the views start at their
  // end, but the table still starts complete.
  await produce('ts-profiles', [
    ...members.map((m) => ({ key: m, value: `${m}-v1` })),
    { key: null, value: 'no key: changes nothing' },
    { key: 'm9', value: null }, // deleted again
  ]);
  const first = start(state.path, { 'auto.offset.reset': 'latest' });
  await eventually('profiles read', () => caughtUp(bootstrap, JOB, ['ts-profiles']), 60_000);
  await eventually(
    'running',
    () => first.lines.filter((l) => l.event === 'task-running').length === 2,
  );
  await produce(
    'ts-views',
    members.map((m) => ({ key: m, value: `view1-${m}` })),
  );
  for (const m of members.slice(0, 9)) want.add(`${m}|view1-${m} by ${m}-v1`);
  await eventually('views joined', () => caughtUp(bootstrap, JOB, topics), 60_000);
  await first.stop();
  assert.deepEqual(await outputs(), want);

  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const all = await admin.listTopics();
    assert.ok(!all.includes(`${JOB}-profiles-changelog`), `no copy of the table: ${all}`);
    assert.ok(all.includes(`${JOB}-watermarks-changelog`), 'other stores keep their changelog');
    // The checkpoint records the last source offset the table holds, beside the input offset.
    const committed = await admin.fetchOffsets(JOB, [
      { topic: 'ts-profiles', partition: 0 },
      { topic: 'ts-profiles', partition: 1 },
    ]);
    for (const c of committed) {
      assert.ok(c.offset > 0);
      assert.equal(decodeCheckpointMetadata(c.metadata)?.get('profiles'), c.offset - 1);
    }
  } finally {
    await admin.close();
  }

  // An empty state dir: the table is rebuilt from ts-profiles alone.
  const empty = tempFolder('brook-table-source-empty-');
  folders.push(empty);
  const second = start(empty.path);
  await eventually('restored', () => second.lines.some((l) => l.event === 'task-running'));
  await produce('ts-profiles', [{ key: 'm0', value: 'm0-v2' }]);
  await eventually('update read', () => caughtUp(bootstrap, JOB, ['ts-profiles']), 60_000);
  await produce(
    'ts-views',
    members.map((m) => ({ key: m, value: `view2-${m}` })),
  );
  want.add('m0|view2-m0 by m0-v2');
  for (const m of members.slice(1, 9)) want.add(`${m}|view2-${m} by ${m}-v1`);
  await eventually('views joined again', () => caughtUp(bootstrap, JOB, topics), 60_000);
  await second.stop();
  const rebuilt = second.lines.filter(
    (l) => l.event === 'store-restored' && l.store === 'profiles',
  );
  assert.equal(rebuilt.length, 2);
  for (const l of rebuilt) {
    assert.equal(l.changelog, 'ts-profiles');
    assert.equal(l.plan, 'rebuild');
  }
  assert.equal(
    rebuilt.reduce((n, l) => n + (l.records as number), 0),
    members.length + 1, // every keyed profile record (the keyless one is skipped)
  );
  assert.deepEqual(await outputs(), want);

  // Same state dir again: local state is reused, only the source's tail replayed.
  await produce('ts-profiles', [{ key: 'm1', value: 'm1-v2' }]);
  const third = start(empty.path);
  await eventually('update read', () => caughtUp(bootstrap, JOB, ['ts-profiles']), 60_000);
  await produce('ts-views', [
    { key: 'm1', value: 'view3-m1' },
    { key: 'm9', value: 'view3-m9' },
  ]);
  want.add('m1|view3-m1 by m1-v2');
  await eventually('views joined a third time', () => caughtUp(bootstrap, JOB, topics), 60_000);
  await third.stop();
  const reused = third.lines.filter((l) => l.event === 'store-restored' && l.store === 'profiles');
  assert.deepEqual(
    reused.map((l) => l.plan),
    ['replay-tail', 'replay-tail'],
  );
  assert.deepEqual(await outputs(), want);
});

test('a join over inputs that are not co-partitioned fails at start, saying the fix', async () => {
  const app = streamsApp({ id: 'ts-wide-join' });
  const profiles = app.table('ts-profiles', strings);
  app
    .stream('ts-wide', strings)
    .join(profiles, (v, p) => `${v}${p}`, { name: 'enrich' })
    .sendTo('ts-out', strings);
  const state = tempFolder('brook-table-copart-');
  folders.push(state);
  const container = new Container(app.toJob(), {
    bootstrapServers: bootstrap,
    stateDir: state.path,
    logger: pino({ level: 'silent' }),
  });
  await assert.rejects(container.run(), (error: unknown) => {
    assert.ok(error instanceof CopartitioningError);
    assert.equal(error.code, 'NOT_COPARTITIONED');
    assert.match(
      error.message,
      /enrich joins ts-wide \(3 partitions\) with ts-profiles \(2 partitions\).*Fix: .*partitionBy\(\)/,
    );
    return true;
  });
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const all = await admin.listTopics();
    assert.ok(!all.some((t) => t.startsWith('ts-wide-join-')), `nothing created: ${all}`);
  } finally {
    await admin.close();
  }
});

test('a task cannot write a table kept from its topic', async () => {
  const inputs = { rows: { topic: 'ts-ro-in', keySerde: stringSerde, valueSerde: stringSerde } };
  const stores = {
    rows: { keySerde: stringSerde, valueSerde: stringSerde, sourceTopic: 'ts-ro-in' },
  };
  let seen: string | undefined;
  const job = defineJob({
    id: 'ts-read-only',
    inputs,
    outputs: {},
    stores,
    task: () => {
      let table: KeyValueStore<string, string>;
      return {
        init(context: TaskContext<typeof stores>) {
          table = context.getStore('rows');
        },
        process(envelope) {
          // The runtime applied the record before process() sees it.
          seen = table.get(envelope.key!);
          table.put('x', 'y');
        },
      };
    },
  });
  await produce('ts-ro-in', [{ key: 'a', value: 'A' }]);
  const state = tempFolder('brook-table-ro-');
  folders.push(state);
  const container = new Container(job, {
    bootstrapServers: bootstrap,
    stateDir: state.path,
    logger: pino({ level: 'silent' }),
  });
  await assert.rejects(container.run(), ReadOnlyStoreError);
  assert.equal(seen, 'A');
});
