/**
 * Interactive queries: two containers' query servers (each over the tasks it runs) answer every
 * key, forwarding to each other, with the same values as the output topic; range and prefix
 * scans cover both; windowed stores answer every window of a key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '../../src/client/index.js';
import { JobTestDriver, streamsApp, tumblingWindows } from '../../src/streams/dsl/index.js';
import type { QueryableTask } from '../../src/streams/dsl/task-registry.js';
import { QueryServer } from '../../src/streams/query/index.js';
import { longSerde, stringSerde } from '../../src/streams/serdes/index.js';

function app() {
  const a = streamsApp({ id: 'iq' });
  const views = a.stream('views', { key: stringSerde, value: stringSerde });
  views.groupByKey().count({ name: 'view-counts' }).toStream().sendTo('view-counts', {
    key: stringSerde,
    value: longSerde,
  });
  views
    .groupByKey()
    .windowedBy(tumblingWindows(100, { retainAfterClose: 60_000 }))
    .count({ name: 'per-100ms' });
  return a;
}

const built = app();
const drivers = [new JobTestDriver(built.toJob(), 0), new JobTestDriver(built.toJob(), 1)];
const servers: QueryServer[] = [];
const addresses: string[] = [];

before(async () => {
  // Keys are spread over the two tasks as a partitioner would: by a hash of the key.
  for (let i = 0; i < 200; i++) {
    const key = `member-${i % 23}`;
    drivers[hash(key) % 2]!.pipe('views', key, 'x', i * 10);
  }
  for (const d of drivers) {
    const server = new QueryServer({
      stores: built.materialized,
      tasks: () => [d.task as unknown as QueryableTask],
      peers: addresses, // filled below: each server knows the others
    });
    servers.push(server);
  }
  for (const s of servers) addresses.push(await s.start());
});

after(async () => {
  for (const s of servers) await s.close();
});

/** The task of a key, as Kafka's default partitioner spreads keys over two partitions. */
function hash(s: string): number {
  return partitionForKey(Buffer.from(s), 2);
}

interface Answer {
  entries: { key: string; value: unknown; start?: number }[];
  stores: { name: string }[];
  servedBy: string;
  forwardedBy?: string;
}

async function get(address: string, path: string): Promise<{ status: number; body: Answer }> {
  const res = await fetch(`http://${address}${path}`);
  return { status: res.status, body: (await res.json()) as Answer };
}

describe('interactive queries', () => {
  test('any container answers any key with the value of the output topic', async () => {
    const outputs = new Map<string, unknown>();
    for (const d of drivers)
      for (const o of d.output('view-counts')) outputs.set(o.key as string, o.value);
    assert.equal(outputs.size, 23);
    for (const address of addresses) {
      for (const [key, value] of outputs) {
        const { status, body } = await get(address, `/stores/view-counts/${key}`);
        assert.equal(status, 200, key);
        assert.deepEqual(body.entries, [{ key, value }]);
      }
    }
    const forwarded = await get(
      addresses[0]!,
      `/stores/view-counts/${[...outputs.keys()].find((k) => hash(k) % 2 === 1)}`,
    );
    assert.equal(forwarded.body.servedBy, addresses[1]);
    assert.equal(forwarded.body.forwardedBy, addresses[0]);
    assert.equal((await get(addresses[1]!, '/stores/view-counts/nobody')).status, 404);
    const tasks = await fetch(`http://${addresses[1]}/tasks`);
    assert.deepEqual(await tasks.json(), { partitions: [1] });
  });

  test('prefix and range scans cover every container', async () => {
    const all = await get(addresses[1]!, '/stores/view-counts');
    assert.equal(all.body.entries.length, 23);
    const prefix = await get(addresses[0]!, '/stores/view-counts?prefix=member-1');
    const keys = prefix.body.entries.map((e: { key: string }) => e.key).sort();
    assert.deepEqual(
      keys,
      ['member-1', ...Array.from({ length: 10 }, (_, i) => `member-1${i}`)].sort(),
    );
    const range = await get(addresses[0]!, '/stores/view-counts?from=member-20&to=member-3');
    assert.deepEqual(range.body.entries.map((e: { key: string }) => e.key).sort(), [
      'member-20',
      'member-21',
      'member-22',
    ]);
  });

  test('a windowed store answers every window of a key', async () => {
    const { body } = await get(addresses[1]!, '/stores/per-100ms/member-0');
    // member-0 is viewed at i = 0, 23, 46, ... (i * 10 ms): one view per window it falls in.
    const want = new Map<number, number>();
    for (let i = 0; i < 200; i += 23)
      want.set(
        Math.floor((i * 10) / 100) * 100,
        (want.get(Math.floor((i * 10) / 100) * 100) ?? 0) + 1,
      );
    const got = new Map(body.entries.map((e) => [e.start, e.value]));
    assert.deepEqual(got, want);
    const stores = await get(addresses[0]!, '/stores');
    assert.deepEqual(stores.body.stores.map((s: { name: string }) => s.name).sort(), [
      'per-100ms',
      'view-counts',
    ]);
  });
});
