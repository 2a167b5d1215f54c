/**
 * Producer and simple consumer (assign/seek/pause) against two independent brokers: librdkafka's
 * mock cluster (3 brokers) and Brook. Tests that need an API a target lacks say so by name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ConnectionError,
  Consumer,
  partitionForKey,
  Producer,
  TimeoutError,
} from '../../src/client/index.js';
import { consumeAll, numbered, valuesOf, withProducer } from './helpers/records.js';
import { TARGETS, type Target } from './helpers/targets.js';

for (const [name, start] of Object.entries(TARGETS)) {
  describe(`producer and consumer against ${name}`, () => {
    let target: Target;
    before(async () => {
      target = await start();
    });
    after(async () => {
      await target?.stop();
    });

    for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
      test(`keyed records with headers round-trip, compression ${compression}`, async () => {
        const topic = `rt-${compression}`;
        await target.createTopic(topic, 4);
        const options = { bootstrapServers: target.bootstrap, compression, lingerMs: 2 };
        await withProducer(options, async (producer) => {
          const sends = [];
          for (let i = 0; i < 20; i++) {
            sends.push(
              producer.send(
                topic,
                Array.from({ length: 50 }, (_, j) => ({
                  key: `key-${j % 7}`,
                  value: `value-${i}-${j}`,
                  headers: { h: `x${j}` },
                })),
              ),
            );
          }
          const results = (await Promise.all(sends)).flat();
          assert.equal(results.length, 1000);
          for (const r of results) assert.ok(r.offset >= 0);
          const records = await consumeAll(target.bootstrap, topic, 4, 1000);
          assert.equal(records.length, 1000);
          // Keys land where the Java client would put them; order per key is the send order.
          const lastIndex = new Map<string, number>();
          for (const r of records) {
            const key = r.key?.toString() ?? '';
            assert.equal(r.partition, partitionForKey(Buffer.from(key), 4));
            const [, i, j] = (r.value?.toString() ?? '').split('-').map(Number);
            assert.equal(`key-${j % 7}`, key);
            assert.equal(r.headers[0]?.key, 'h');
            assert.equal(r.headers[0]?.value?.toString(), `x${j}`);
            const seq = i * 50 + j;
            assert.ok(seq > (lastIndex.get(key) ?? -1), 'per-key order');
            lastIndex.set(key, seq);
          }
        });
      });
    }

    for (const acks of [0, 1, 'all'] as const) {
      test(`acks ${acks}`, async () => {
        const topic = `acks-${acks}`;
        await target.createTopic(topic, 1);
        const idempotent = acks === 'all' ? undefined : false;
        await withProducer(
          { bootstrapServers: target.bootstrap, acks, idempotent },
          async (producer) => {
            const res = await producer.send(
              topic,
              numbered(10, 'v').map((value) => ({ value })),
            );
            if (acks === 0) for (const r of res) assert.equal(r.offset, -1);
            else
              assert.deepEqual(
                res.map((r) => r.offset),
                [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
              );
            await producer.flush();
            const records = await consumeAll(target.bootstrap, topic, 1, 10);
            assert.deepEqual(valuesOf(records), numbered(10, 'v'));
          },
        );
      });
    }

    test('idempotence is on by default where the broker serves InitProducerId', async (t) => {
      await withProducer({ bootstrapServers: target.bootstrap }, async (producer) => {
        await producer.connect();
        const conn = await producer.cluster.any();
        if (!conn.supports(22)) {
          assert.equal(producer.isIdempotent, false);
          t.diagnostic(
            `${name} does not serve InitProducerId yet: idempotence checked on the mock only`,
          );
          await assert.rejects(
            new Producer({ bootstrapServers: target.bootstrap, idempotent: true }).connect(),
            /InitProducerId/,
          );
          return;
        }
        assert.equal(producer.isIdempotent, true);
        assert.ok(producer.producerId >= 0);
        await target.createTopic('idem', 2);
        // Many sends with 5 requests in flight: every record once, in order.
        const sends = [];
        for (let i = 0; i < 50; i++)
          sends.push(producer.send('idem', [{ key: 'k', value: String(i) }]));
        const res = await Promise.all(sends);
        const offsets = res.map((r) => r[0].offset);
        assert.deepEqual(
          offsets,
          [...offsets].sort((a, b) => a - b),
        );
        const records = await consumeAll(target.bootstrap, 'idem', 2, 50);
        assert.deepEqual(valuesOf(records), numbered(50));
      });
    });

    test('many batches per partition in flight keep their order (batchSize small, 5 in flight)', async () => {
      await target.createTopic('inflight', 1);
      const options = { bootstrapServers: target.bootstrap, batchSize: 256, lingerMs: 0 };
      await withProducer(options, async (producer) => {
        await Promise.all(numbered(2000, 'r').map((value) => producer.send('inflight', { value })));
        const records = await consumeAll(target.bootstrap, 'inflight', 1, 2000);
        assert.equal(records.length, 2000);
        assert.deepEqual(valuesOf(records), numbered(2000, 'r'));
      });
    });

    test('seek to an offset, the beginning and the end; pause and resume', async () => {
      await target.createTopic('seek', 2);
      await withProducer({ bootstrapServers: target.bootstrap }, (producer) =>
        producer.send(
          'seek',
          numbered(20, 's').map((value, i) => ({ value, partition: i % 2 })),
        ),
      );
      const c = new Consumer({ bootstrapServers: target.bootstrap, autoOffsetReset: 'earliest' });
      try {
        const p0 = { topic: 'seek', partition: 0 };
        const p1 = { topic: 'seek', partition: 1 };
        c.assign([p0, p1]);
        c.pause([p1]);
        c.seek(p0, 7);
        const b = await c.poll(5000);
        assert.ok(b);
        assert.equal(b.partition, 0);
        assert.equal(b.records()[0].offset, 7);
        c.markProcessed(b);
        assert.equal(c.position(p0), 10);
        // Paused: nothing from partition 1.
        assert.equal(await c.poll(300), undefined);
        assert.deepEqual(c.paused(), [p1]);
        c.resume([p1]);
        await c.seekToBeginning([p1]);
        const b1 = await c.poll(5000);
        assert.equal(b1?.partition, 1);
        assert.equal(b1?.records()[0].offset, 0);
        await c.seekToEnd();
        assert.equal(c.position(p0), 10);
        assert.equal(c.position(p1), 10);
      } finally {
        await c.close();
      }
    });

    test('messages() yields records one by one and leaves the position after the last one read', async () => {
      await target.createTopic('msgs', 1);
      await withProducer({ bootstrapServers: target.bootstrap }, (producer) =>
        producer.send(
          'msgs',
          numbered(8, 'm').map((value, i) => ({ key: `k${i}`, value })),
        ),
      );
      const c = new Consumer({ bootstrapServers: target.bootstrap, autoOffsetReset: 'earliest' });
      try {
        c.assign([{ topic: 'msgs', partition: 0 }]);
        const got: string[] = [];
        for await (const r of c.messages()) {
          got.push(`${r.key?.toString()}=${r.value?.toString()}@${r.offset}`);
          if (got.length === 5) break;
        }
        assert.deepEqual(got, ['k0=m0@0', 'k1=m1@1', 'k2=m2@2', 'k3=m3@3', 'k4=m4@4']);
        assert.equal(c.position({ topic: 'msgs', partition: 0 }), 5);
      } finally {
        await c.close();
      }
    });

    test('a full buffer makes send wait, then fail with a clear error', async () => {
      await target.createTopic('bp', 1);
      // A broker that stops answering: point the producer at the target, learn the metadata,
      // then let every request time out by filling the buffer faster than a 1-byte budget allows.
      const options = {
        bootstrapServers: target.bootstrap,
        bufferMemory: 1,
        maxBlockMs: 200,
        lingerMs: 1000,
      };
      await withProducer(options, async (producer) => {
        const first = producer.send('bp', { value: 'a' });
        await assert.rejects(producer.send('bp', { value: 'b' }), (err: unknown) => {
          assert.ok(err instanceof TimeoutError);
          assert.match(err.message, /buffer .* stayed full .* maxBlockMs/);
          return true;
        });
        await producer.flush();
        assert.equal((await first)[0].offset, 0);
      });
    });
  });
}

test('an unreachable bootstrap server gives an error that names the cause and the fix', async () => {
  await withProducer({ bootstrapServers: '127.0.0.1:1', maxBlockMs: 500 }, async (producer) => {
    await assert.rejects(producer.send('t', { value: 'x' }), (err: unknown) => {
      assert.ok(err instanceof ConnectionError);
      assert.match(err.message, /cannot reach 127\.0\.0\.1:1 .*brook start/);
      return true;
    });
  });
});
