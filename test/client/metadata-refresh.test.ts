/**
 * Periodic metadata refresh (`metadataMaxAgeMs`) against Brook: a producer spreads keys over
 * partitions added after it started, and a manually assigned consumer's metadata follows the
 * topic, without any error having forced a refresh. A producer with the default age (5 minutes)
 * is the control: it keeps the partition count it first saw.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { startBrook, type Target, waitUntil } from './helpers/targets.js';

describe('metadata refresh by age against Brook', () => {
  let target: Target;
  let admin: Admin;
  before(async () => {
    target = await startBrook();
    admin = new Admin({ bootstrapServers: target.bootstrap });
  });
  after(async () => {
    await admin?.close();
    await target?.stop();
  });

  const keyed = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));

  test('a producer uses partitions added after its metadata aged out', async () => {
    await target.createTopic('mr-produce', 1);
    const fresh = new Producer({ bootstrapServers: target.bootstrap, metadataMaxAgeMs: 200 });
    const control = new Producer({ bootstrapServers: target.bootstrap });
    try {
      for (const p of [fresh, control]) {
        const first = await p.send('mr-produce', keyed(20));
        assert.ok(first.every((m) => m.partition === 0));
      }
      await admin.createPartitions([{ topic: 'mr-produce', count: 4 }]);
      const seen = new Set<number>();
      await waitUntil(async () => {
        for (const m of await fresh.send('mr-produce', keyed(20))) seen.add(m.partition);
        return seen.size === 4;
      }, 'the producer to send to all 4 partitions');
      const old = await control.send('mr-produce', keyed(20));
      assert.ok(
        old.every((m) => m.partition === 0),
        'with a 5-minute age the producer still knows one partition',
      );
    } finally {
      await fresh.close();
      await control.close();
    }
  });

  test("a manually assigned consumer's metadata follows the topic while it fetches", async () => {
    await target.createTopic('mr-consume', 1);
    const consumer = new Consumer({
      bootstrapServers: target.bootstrap,
      autoOffsetReset: 'earliest',
      metadataMaxAgeMs: 200,
      fetchMaxWaitMs: 50,
    });
    try {
      consumer.assign([{ topic: 'mr-consume', partition: 0 }]);
      await consumer.poll(200);
      assert.equal(consumer.cluster.topics.get('mr-consume')?.partitions.length, 1);
      await admin.createPartitions([{ topic: 'mr-consume', count: 3 }]);
      await waitUntil(async () => {
        await consumer.poll(50);
        return consumer.cluster.topics.get('mr-consume')?.partitions.length === 3;
      }, "the consumer's metadata to show 3 partitions");
    } finally {
      await consumer.close();
    }
  });
});
