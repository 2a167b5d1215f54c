/**
 * Fetch sessions (KIP-227): the session's request building on its own (full, incremental,
 * forgotten partitions, errors), and a consumer against Brook whose fetches after the first are
 * incremental while seeks and pauses still deliver exactly the records asked for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { ApiMessages } from '../../src/protocol/generated/index.js';
import { Consumer, type ConsumerRecord, Producer } from '../../src/client/index.js';
import { FetchSession } from '../../src/client/consumer/fetch-session.js';
import { startBrook, type Target, waitUntil } from './helpers/targets.js';

const tp = (partition: number, fetchOffset: number) => ({ topic: 't', partition, fetchOffset });
const names = (ws: { partition: number }[]) => ws.map((w) => w.partition);

describe('fetch session requests', () => {
  test('a full fetch opens the session; later fetches name only what changed', () => {
    const s = new FetchSession(true);
    const first = s.build([tp(0, 0), tp(1, 0), tp(2, 0)]);
    assert.deepEqual([first.sessionId, first.sessionEpoch, first.full], [0, 0, true]);
    assert.deepEqual(names(first.send), [0, 1, 2]);
    s.onResponse(0, 77, first);
    assert.equal(s.sessionId, 77);

    const second = s.build([tp(0, 10), tp(1, 0), tp(2, 0)]);
    assert.deepEqual([second.sessionId, second.sessionEpoch, second.full], [77, 1, false]);
    assert.deepEqual(names(second.send), [0]);
    assert.deepEqual(second.forgotten, []);
    s.onResponse(0, 77, second);

    // Partition 1 is no longer wanted (paused or its prefetch queue is full); 3 joins.
    const third = s.build([tp(0, 10), tp(2, 5), tp(3, 0)]);
    assert.equal(third.sessionEpoch, 2);
    assert.deepEqual(names(third.send), [2, 3]);
    assert.deepEqual(third.forgotten, [{ topic: 't', partitions: [1] }]);
    s.onResponse(0, 77, third);

    // Wanted again later: it is named again, since the broker forgot it.
    const fourth = s.build([tp(0, 10), tp(1, 0), tp(2, 5), tp(3, 0)]);
    assert.equal(fourth.sessionEpoch, 3);
    assert.deepEqual(names(fourth.send), [1]);
  });

  test('errors and failed requests fall back to a full fetch', () => {
    const s = new FetchSession(true);
    const first = s.build([tp(0, 0), tp(1, 0)]);
    s.onResponse(0, 5, first);
    const inc = s.build([tp(0, 1), tp(1, 0)]);
    s.onResponse(ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0, inc);
    const again = s.build([tp(0, 1), tp(1, 0)]);
    // The session id is kept so that the broker closes it when it makes the new one.
    assert.deepEqual([again.sessionId, again.sessionEpoch, again.full], [5, 0, true]);
    assert.deepEqual(names(again.send), [0, 1]);
    s.onResponse(0, 6, again);

    const inc2 = s.build([tp(0, 2), tp(1, 0)]);
    s.onResponse(ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 0, inc2);
    const fresh = s.build([tp(0, 2), tp(1, 0)]);
    assert.deepEqual([fresh.sessionId, fresh.sessionEpoch, fresh.full], [0, 0, true]);
    s.onResponse(0, 9, fresh);

    s.build([tp(0, 3), tp(1, 0)]);
    s.reset(); // the request failed (connection lost)
    const afterFailure = s.build([tp(0, 3), tp(1, 0)]);
    assert.deepEqual([afterFailure.sessionEpoch, afterFailure.full], [0, true]);
    assert.deepEqual(names(afterFailure.send), [0, 1]);
  });

  test('a broker that makes no session gets full fetches; old versions go sessionless', () => {
    const s = new FetchSession(true);
    const first = s.build([tp(0, 0)]);
    s.onResponse(0, 0, first);
    const second = s.build([tp(0, 4)]);
    assert.deepEqual([second.sessionId, second.sessionEpoch, second.full], [0, 0, true]);

    const old = new FetchSession(false);
    const r = old.build([tp(0, 0), tp(1, 0)]);
    assert.deepEqual([r.sessionId, r.sessionEpoch, names(r.send)], [0, -1, [0, 1]]);
    old.onResponse(0, 0, r);
    assert.equal(old.build([tp(0, 0)]).sessionEpoch, -1);
  });
});

describe('fetch sessions against Brook', () => {
  let target: Target;
  before(async () => {
    target = await startBrook();
  });
  after(async () => {
    await target?.stop();
  });

  test('fetches after the first are incremental, and seeks and pauses still hold', async () => {
    const topic = 'fs-topic';
    await target.createTopic(topic, 4);
    const producer = new Producer({ bootstrapServers: target.bootstrap });
    const send = (from: number, n: number) =>
      producer.send(
        topic,
        Array.from({ length: n }, (_, i) => ({ value: `v${from + i}`, partition: (from + i) % 4 })),
      );
    await send(0, 400);
    const consumer = new Consumer({
      bootstrapServers: target.bootstrap,
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 50,
      maxPartitionFetchBytes: 1024, // small fetches, so that reading takes many of them
    });
    type FetchBody = ApiMessages[1]['request'];
    const fetches: FetchBody[] = [];
    try {
      consumer.assign([0, 1, 2, 3].map((partition) => ({ topic, partition })));
      const info = await consumer.cluster.topic(topic);
      const conn = await consumer.cluster.broker(info.partitions[0].leader, 'fetch');
      const original = conn.request.bind(conn);
      // Records every Fetch this consumer sends (its fetch connection is shared through the cache).
      conn.request = ((key: number, body: unknown, opts?: unknown) => {
        if (key === 1) fetches.push(body as FetchBody);
        return (original as (k: number, b: unknown, o?: unknown) => Promise<unknown>)(
          key,
          body,
          opts,
        );
      }) as typeof conn.request;

      // Every record handed out, per partition; partition 2 restarts its list at its seek.
      const seen = new Map<number, string[]>();
      const take = async (until: () => boolean, what: string) =>
        waitUntil(async () => {
          const b = await consumer.poll(50);
          if (b) {
            for (const r of b as Iterable<ConsumerRecord>) {
              const list = seen.get(r.partition) ?? [];
              list.push(String(r.value));
              seen.set(r.partition, list);
            }
            consumer.markProcessed(b);
          }
          return until();
        }, what);
      const last = (p: number) => seen.get(p)?.at(-1);
      // Offset o of partition p holds v(4o + p).
      const expected = (p: number, from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => `v${4 * (from + i) + p}`);
      await take(() => last(0) === 'v396', 'partition 0 read to its end');
      consumer.pause([{ topic, partition: 1 }]);
      consumer.seek({ topic, partition: 2 }, 90);
      seen.delete(2);
      await send(400, 40);
      await take(() => last(0) === 'v436' && last(3) === 'v439', 'new records of partitions 0, 3');
      consumer.resume([{ topic, partition: 1 }]);
      await take(
        () => last(1) === 'v437' && last(2) === 'v438',
        'partition 1 after resume and partition 2 after its seek',
      );
      for (const p of [0, 1, 3])
        assert.deepEqual(seen.get(p), expected(p, 0, 110), `partition ${p}`);
      assert.deepEqual(seen.get(2), expected(2, 90, 110), 'partition 2 from its seek');
    } finally {
      await consumer.close();
      await producer.close();
    }
    const withSession = fetches.filter((f) => (f.sessionId ?? 0) !== 0);
    assert.ok(withSession.length > 3, `most fetches ran in a session (${withSession.length})`);
    const incremental = withSession.filter((f) => (f.sessionEpoch ?? 0) > 0);
    assert.ok(incremental.length > 3, 'incremental fetches were sent');
    assert.ok(
      incremental.some((f) => f.topics.reduce((n, t) => n + t.partitions.length, 0) < 4),
      'an incremental fetch named fewer than all partitions',
    );
    assert.ok(
      incremental.some((f) => (f.forgottenTopicsData ?? []).length > 0),
      'the paused partition was forgotten',
    );
  });
});
