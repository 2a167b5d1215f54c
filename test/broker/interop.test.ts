import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';
import { KafkaTestClient } from './helpers/kafka-client.js';
import { kcat, kcatInstalled } from './helpers/kcat.js';

/** A topic's id, from Metadata v12. */
async function topicId(port: number, name: string): Promise<string> {
  const c = await KafkaTestClient.connect(port);
  try {
    const md = await c.request(3, 12, {
      topics: [{ name }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    return md.topics[0].topicId ?? '';
  } finally {
    c.close();
  }
}

// kcat (librdkafka) is required: .ci/run installs it (apt-get install kcat).
assert.ok(await kcatInstalled(), 'kcat is not installed: apt-get install -y kcat');

describe('interop: kafkajs and kcat against a broker process', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  before(async () => {
    broker = await startBroker();
    kafka = new Kafka({
      clientId: 'brook-interop',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
  });
  after(async () => {
    await broker.cleanup();
  });

  test('kafkajs admin: create topics, metadata, offsets', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.equal(
        await admin.createTopics({
          topics: [{ topic: 'kjs', numPartitions: 3 }],
          waitForLeaders: true,
        }),
        true,
      );
      assert.equal(
        await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 3 }] }),
        false,
      );
      const md = await admin.fetchTopicMetadata({ topics: ['kjs'] });
      assert.equal(md.topics[0].partitions.length, 3);
      assert.ok((await admin.listTopics()).includes('kjs'));
      const cluster = await admin.describeCluster();
      assert.equal(cluster.controller, 0);
      assert.deepEqual(
        cluster.brokers.map((b) => [b.nodeId, b.port]),
        [[0, broker.port]],
      );
    } finally {
      await admin.disconnect();
    }
  });

  test('kafkajs producer (acks -1 and 1, gzip) then offsets and a kcat consumer', async () => {
    const producer = kafka.producer();
    await producer.connect();
    try {
      const messages = Array.from({ length: 60 }, (_, i) => ({
        key: `k${i}`,
        value: `v${i}`,
        partition: i % 3,
      }));
      const r1 = await producer.send({ topic: 'kjs', messages: messages.slice(0, 30), acks: -1 });
      assert.ok(r1.every((r) => r.errorCode === 0));
      await producer.send({
        topic: 'kjs',
        messages: messages.slice(30),
        acks: 1,
        compression: CompressionTypes.GZIP,
      });
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets('kjs');
      assert.deepEqual(offsets.map((o) => [o.partition, o.high, o.low]).sort(), [
        [0, '20', '0'],
        [1, '20', '0'],
        [2, '20', '0'],
      ]);
      const byTime = await admin.fetchTopicOffsetsByTimestamp('kjs', Date.now() - 3600000);
      assert.deepEqual(byTime.map((o) => o.offset).sort(), ['0', '0', '0']);
    } finally {
      await admin.disconnect();
    }
    const out = await kcat(broker.port, [
      '-C',
      '-t',
      'kjs',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%k=%s\n',
    ]);
    const lines = out.trim().split('\n').sort();
    assert.equal(lines.length, 60);
    assert.ok(lines.includes('k42=v42'));
  });

  test('kcat: metadata, produce with every codec, consume, offsets by time', async () => {
    const md = await kcat(broker.port, ['-L']);
    assert.match(md, /broker 0 at 127\.0\.0\.1:\d+ \(controller\)/);
    let expected: string[] = [];
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      const lines = Array.from({ length: 5 }, (_, i) => `${codec}${i}:value-${codec}-${i}`);
      await kcat(broker.port, ['-P', '-t', 'kc', '-K:', '-z', codec], `${lines.join('\n')}\n`);
      expected = expected.concat(lines.map((l) => l.replace(':', '=')));
    }
    const out = await kcat(broker.port, [
      '-C',
      '-t',
      'kc',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%k=%s\n',
    ]);
    assert.deepEqual(out.trim().split('\n'), expected);
    const tail = await kcat(broker.port, ['-C', '-t', 'kc', '-o', '-2', '-e', '-q', '-f', '%o\n']);
    assert.deepEqual(tail.trim().split('\n'), ['23', '24']);
    const q = await kcat(broker.port, ['-Q', '-t', `kc:0:${Date.now() - 3600000}`]);
    assert.match(q, /kc \[0\] offset 0/);
  });
});

describe('interop: consumer groups', () => {
  test('a kafkajs consumer group reads every record and resumes from its committed offsets', async () => {
    const broker = await startBroker({ args: ['--set', 'group.initial.rebalance.delay.ms=0'] });
    try {
      const kafka = new Kafka({
        clientId: 'brook-groups',
        brokers: [`127.0.0.1:${broker.port}`],
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'cg', numPartitions: 2 }] });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      const send = (from: number, n: number) =>
        producer.send({
          topic: 'cg',
          messages: Array.from({ length: n }, (_, i) => ({
            key: `k${from + i}`,
            value: `v${from + i}`,
          })),
        });
      await send(0, 20);
      const consume = async (want: number): Promise<string[]> => {
        const consumer = kafka.consumer({ groupId: 'g1' });
        await consumer.connect();
        await consumer.subscribe({ topic: 'cg', fromBeginning: true });
        const seen: string[] = [];
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`consumed ${seen.length} of ${want}`)),
            30000,
          );
          void consumer.run({
            eachMessage: async ({ message }) => {
              seen.push(String(message.value));
              if (seen.length === want) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
        });
        await consumer.disconnect();
        return seen;
      };
      assert.equal(new Set(await consume(20)).size, 20);
      await send(20, 5);
      // The second member of the same group starts from the committed offsets: only the new five.
      assert.deepEqual((await consume(5)).sort(), ['v20', 'v21', 'v22', 'v23', 'v24']);
      await producer.disconnect();
    } finally {
      await broker.cleanup();
    }
  });
});

describe('interop: kcat balanced consumer', () => {
  test('kcat -G consumes through the group protocol and resumes from its commits', async () => {
    const broker = await startBroker({ args: ['--set', 'group.initial.rebalance.delay.ms=0'] });
    try {
      await kcat(broker.port, ['-P', '-t', 'gk', '-K:'], 'a:1\nb:2\nc:3\n');
      const first = await kcat(broker.port, [
        '-G',
        'grp',
        'gk',
        '-X',
        'auto.offset.reset=earliest',
        '-e',
        '-q',
        '-f',
        '%k=%s\n',
      ]);
      assert.deepEqual(first.trim().split('\n'), ['a=1', 'b=2', 'c=3']);
      await kcat(broker.port, ['-P', '-t', 'gk', '-K:'], 'd:4\n');
      const second = await kcat(broker.port, [
        '-G',
        'grp',
        'gk',
        '-X',
        'auto.offset.reset=earliest',
        '-e',
        '-q',
        '-f',
        '%k=%s\n',
      ]);
      assert.deepEqual(second.trim().split('\n'), ['d=4']);
    } finally {
      await broker.cleanup();
    }
  });
});

describe('interop: restart keeps topics, ids and data', () => {
  test('a restarted broker serves what the first one stored', async () => {
    const first = await startBroker();
    const dataDir = first.dataDir;
    let md1: string;
    try {
      await kcat(first.port, ['-P', '-t', 'keep', '-K:'], 'a:1\nb:2\n');
      md1 = await kcat(first.port, ['-L', '-t', 'keep', '-J']);
      const id1 = await topicId(first.port, 'keep');
      assert.equal(await first.stop(), 0);
      const second = await startBroker({ dataDir });
      try {
        assert.ok(
          second.lines.some((l) => l.cleanShutdown === true),
          'the second start saw a clean shutdown',
        );
        const md2 = await kcat(second.port, ['-L', '-t', 'keep', '-J']);
        const topicOf = (json: string) =>
          (JSON.parse(json) as { topics: { topic: string; partitions: unknown[] }[] }).topics[0];
        assert.deepEqual(topicOf(md2), topicOf(md1));
        assert.equal(await topicId(second.port, 'keep'), id1, 'the topic id survives the restart');
        const out = await kcat(second.port, [
          '-C',
          '-t',
          'keep',
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%k=%s@%o\n',
        ]);
        assert.deepEqual(out.trim().split('\n'), ['a=1@0', 'b=2@1']);
      } finally {
        await second.cleanup();
      }
    } finally {
      await first.cleanup();
    }
  });
});
