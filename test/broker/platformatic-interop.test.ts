import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  type CompressionAlgorithmValue,
  Consumer,
  type Message,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { type BrokerProcess, GROUP_TEST_ARGS, startBroker } from './helpers/broker-process.js';
import { until } from './helpers/until.js';

/**
 * @platformatic/kafka 1.35 sends ApiVersions v3 and then only flexible versions (Produce v9+,
 * Fetch v12+, Metadata v9+, ListOffsets v6+, CreateTopics v7, ...): it checks the broker's newest
 * encodings, where kafkajs checks the classic ones.
 */

const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;
const SET = 0;

type StringMessage = Message<string, string, string, string>;

/** Reads messages from a group consumer until `count` arrived (or the deadline passes). */
async function consumeGroup(
  bootstrapBrokers: string[],
  groupId: string,
  topic: string,
  count: number,
  mode: 'earliest' | 'committed',
): Promise<StringMessage[]> {
  const consumer = new Consumer({
    groupId,
    clientId: `brook-${groupId}`,
    bootstrapBrokers,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    retries: 3,
  });
  const got: StringMessage[] = [];
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode,
      fallbackMode: 'earliest',
      autocommit: false,
    });
    const timer = setTimeout(() => stream.destroy(new Error(`${count} messages not read`)), 20000);
    try {
      for await (const m of stream as AsyncIterable<StringMessage>) {
        got.push(m);
        await m.commit();
        if (got.length === count) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close();
    }
  } finally {
    await consumer.close(true);
  }
  return got;
}

describe('interop: @platformatic/kafka 1.35 against a broker process', () => {
  let broker: BrokerProcess;
  let bootstrapBrokers: string[];
  let admin: Admin;
  before(async () => {
    broker = await startBroker({ args: [...GROUP_TEST_ARGS] });
    bootstrapBrokers = [`127.0.0.1:${broker.port}`];
    admin = new Admin({ clientId: 'brook-platformatic-admin', bootstrapBrokers, retries: 2 });
  });
  after(async () => {
    await admin?.close();
    await broker.cleanup();
  });

  test('admin: create topics (with configs), metadata, describe cluster', async () => {
    const created = await admin.createTopics({
      topics: ['pk', 'pk-compacted'],
      partitions: 3,
      replicas: 1,
      configs: [{ name: 'retention.ms', value: '3600000' }],
    });
    assert.deepEqual(
      created.map((t) => [t.name, t.partitions, t.replicas]),
      [
        ['pk', 3, 1],
        ['pk-compacted', 3, 1],
      ],
    );
    assert.ok(created.every((t) => /^[0-9a-f-]{36}$/.test(t.id)));
    assert.equal(created[0].configuration['retention.ms'], '3600000');
    await assert.rejects(
      admin.createTopics({ topics: ['pk'], partitions: 1, replicas: 1 }),
      (e: Error & { errors?: unknown[] }) => /already exists/i.test(JSON.stringify(e, replacer)),
    );

    const md = await admin.metadata({ topics: ['pk'] });
    assert.equal(md.controllerId, 0);
    assert.deepEqual([...md.brokers.keys()], [0]);
    assert.equal(md.brokers.get(0)?.port, broker.port);
    const pk = md.topics.get('pk');
    assert.equal(pk?.id, created[0].id);
    assert.equal(pk?.partitionsCount, 3);
    assert.ok(pk?.partitions.every((p) => p.leader === 0 && p.isr[0] === 0));
    const names = await admin.listTopics();
    assert.ok(names.includes('pk') && names.includes('pk-compacted'));
  });

  test('admin: describe and alter topic configs, describe broker configs, add partitions', async () => {
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: TOPIC_RESOURCE,
          resourceName: 'pk-compacted',
          configs: [{ name: 'cleanup.policy', configOperation: SET, value: 'compact' }],
        },
      ],
    });
    const [topic] = await admin.describeConfigs({
      resources: [
        {
          resourceType: TOPIC_RESOURCE,
          resourceName: 'pk-compacted',
          configurationKeys: ['cleanup.policy', 'retention.ms', 'segment.bytes'],
        },
      ],
      includeSynonyms: true,
    });
    const byName = new Map(topic.configs.map((c) => [c.name, c]));
    assert.equal(byName.get('cleanup.policy')?.value, 'compact');
    assert.equal(byName.get('retention.ms')?.value, '3600000');
    assert.equal(byName.get('segment.bytes')?.value, '1073741824');

    const [brokerConfigs] = await admin.describeConfigs({
      resources: [{ resourceType: BROKER_RESOURCE, resourceName: '0', configurationKeys: null }],
    });
    assert.ok(brokerConfigs.configs.some((c) => c.name === 'num.partitions' && c.value === '1'));

    await admin.createPartitions({ topics: [{ name: 'pk-compacted', count: 4 }] });
    const md = await admin.metadata({ topics: ['pk-compacted'], forceUpdate: true });
    assert.equal(md.topics.get('pk-compacted')?.partitionsCount, 4);
  });

  test('producer: keyed records with headers (each codec, idempotent), consumed in order', async () => {
    // zstd is left out: the client compresses it with node:zlib's zstd, which Node 20 lacks.
    const codecs: CompressionAlgorithmValue[] = ['none', 'gzip', 'snappy', 'lz4'];
    const producer = new Producer({
      clientId: 'brook-platformatic-producer',
      bootstrapBrokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
      retries: 2,
    });
    const sent: { key: string; value: string; partition: number; codec: string }[] = [];
    try {
      for (const codec of codecs) {
        const batch = [0, 1, 2].flatMap((partition) =>
          [0, 1].map((i) => ({
            topic: 'pk',
            partition,
            key: `${codec}-k${partition}-${i}`,
            value: `${codec} value ${i} on ${partition}`,
            headers: new Map([
              ['codec', codec],
              ['seq', String(i)],
            ]),
          })),
        );
        const res = await producer.send({ messages: batch, compression: codec });
        assert.equal(res.offsets?.length, 3, `one batch per partition (${codec})`);
        for (const m of batch) sent.push({ ...m, codec });
      }
      // A second idempotent producer: its first InitProducerId carries producer id 0 and epoch 0
      // too, and must get an id of its own without fencing the first producer.
      const other = new Producer({
        clientId: 'brook-platformatic-producer-b',
        bootstrapBrokers,
        serializers: stringSerializers,
        idempotent: true,
        acks: -1,
      });
      try {
        for (const p of [other, producer]) {
          const m = {
            topic: 'pk',
            partition: 0,
            key: `${p === other ? 'b' : 'a'}-last`,
            value: 'x',
          };
          await p.send({ messages: [{ ...m, headers: new Map([['codec', 'none']]) }] });
          sent.push({ ...m, codec: 'none' });
        }
      } finally {
        await other.close();
      }
    } finally {
      await producer.close();
    }

    const got = await consumeGroup(bootstrapBrokers, 'pk-readers', 'pk', sent.length, 'earliest');
    for (const partition of [0, 1, 2]) {
      const want = sent.filter((m) => m.partition === partition);
      const have = got.filter((m) => m.partition === partition);
      assert.deepEqual(
        have.map((m) => [Number(m.offset), m.key, m.value, m.headers.get('codec')]),
        want.map((m, i) => [i, m.key, m.value, m.codec]),
      );
    }
  });

  test('consumer group: committed offsets are listed, the group resumes from them', async () => {
    const producer = new Producer({
      clientId: 'brook-platformatic-producer-2',
      bootstrapBrokers,
      serializers: stringSerializers,
    });
    try {
      await admin.createTopics({ topics: ['pg'], partitions: 2, replicas: 1 });
      const first = Array.from({ length: 10 }, (_, i) => ({
        topic: 'pg',
        key: `k${i}`,
        value: `first ${i}`,
        headers: new Map([['n', String(i)]]),
      }));
      await producer.send({ messages: first });

      const a = await consumeGroup(bootstrapBrokers, 'pg-group', 'pg', 10, 'committed');
      assert.deepEqual(a.map((m) => m.value).sort(), first.map((m) => m.value).sort());

      const [offsets] = await admin.listConsumerGroupOffsets({ groups: ['pg-group'] });
      const committed = offsets.topics.find((t) => t.name === 'pg');
      const total = committed?.partitions.reduce((n, p) => n + Number(p.committedOffset), 0);
      assert.equal(total, 10);

      const groups = await admin.listGroups();
      assert.ok(groups.has('pg-group'));
      const described = await admin.describeGroups({ groups: ['pg-group'] });
      assert.equal(described.get('pg-group')?.state, 'EMPTY');

      const second = Array.from({ length: 4 }, (_, i) => ({
        topic: 'pg',
        key: `k${i}`,
        value: `second ${i}`,
        headers: new Map([['n', String(i)]]),
      }));
      await producer.send({ messages: second });
      const b = await consumeGroup(bootstrapBrokers, 'pg-group', 'pg', 4, 'committed');
      assert.deepEqual(b.map((m) => m.value).sort(), second.map((m) => m.value).sort());

      await admin.deleteGroups({ groups: ['pg-group'] });
      assert.ok(!(await admin.listGroups()).has('pg-group'));
    } finally {
      await producer.close();
    }
  });

  test('list offsets (earliest, latest, by timestamp), delete records, describe log dirs', async () => {
    const producer = new Producer({
      clientId: 'brook-platformatic-producer-3',
      bootstrapBrokers,
      serializers: stringSerializers,
    });
    const t0 = 1_700_000_000_000n;
    try {
      await admin.createTopics({ topics: ['po'], partitions: 1, replicas: 1 });
      for (let i = 0; i < 5; i++) {
        await producer.send({
          messages: [
            { topic: 'po', key: `k${i}`, value: `v${i}`, timestamp: t0 + BigInt(i) * 1000n },
          ],
        });
      }
    } finally {
      await producer.close();
    }
    const list = async (timestamp: bigint) => {
      const [t] = await admin.listOffsets({
        topics: [{ name: 'po', partitions: [{ partitionIndex: 0, timestamp }] }],
      });
      return t.partitions[0];
    };
    assert.equal((await list(-2n)).offset, 0n);
    assert.equal((await list(-1n)).offset, 5n);
    const byTime = await list(t0 + 2500n);
    assert.equal(byTime.offset, 3n);
    assert.equal(byTime.timestamp, t0 + 3000n);
    const maxTs = await list(-3n);
    assert.equal(maxTs.offset, 4n);
    assert.equal(maxTs.timestamp, t0 + 4000n);

    const consumer = new Consumer({
      groupId: 'po-lister',
      clientId: 'brook-po-lister',
      bootstrapBrokers,
      deserializers: stringDeserializers,
    });
    try {
      const latest = await consumer.listOffsets({ topics: ['po'] });
      assert.deepEqual(latest.get('po'), [5n]);
      const withTs = await consumer.listOffsetsWithTimestamps({ topics: ['po'], timestamp: t0 });
      assert.equal(withTs.get('po')?.get(0)?.offset, 0n);
    } finally {
      await consumer.close(true);
    }

    const [deleted] = await admin.deleteRecords({
      topics: [{ name: 'po', partitions: [{ partition: 0, offset: 2n }] }],
    });
    assert.equal(deleted.partitions[0].lowWatermark, 2n);
    assert.equal((await list(-2n)).offset, 2n);

    const [dirs] = await admin.describeLogDirs({
      topics: [{ name: 'po', partitions: [0] }],
    });
    const po = dirs.results[0].topics.find((t) => t.name === 'po');
    assert.ok((po?.partitions[0].partitionSize ?? 0n) > 0n);
  });

  test('admin: delete topics', async () => {
    await admin.deleteTopics({ topics: ['pk', 'pk-compacted', 'pg', 'po'] });
    await until(async () => {
      const names = await admin.listTopics();
      return !['pk', 'pk-compacted', 'pg', 'po'].some((n) => names.includes(n));
    }, 'deleted topics to leave the listing');
    const md = await admin.metadata({ topics: [], forceUpdate: true });
    assert.equal(md.topics.size, 0);
  });
});

/** JSON.stringify replacer for client errors (bigints, maps). */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Error) return { ...value, message: value.message };
  return value;
}
