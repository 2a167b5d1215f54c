import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';

const ARGS = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'group.min.session.timeout.ms=1000',
  '--set',
  'offsets.topic.num.partitions=3',
];
const PARTITIONS = 6;

function client(port: number, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 100 },
  });
}

async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 30000) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A kafkajs group consumer that records every value it processes (commits after processing). */
async function startConsumer(
  kafka: Kafka,
  groupId: string,
  topic: string,
  seen: string[],
  restartOnFailure = true,
): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 3000,
    rebalanceTimeout: 3000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 100,
    retry: { retries: 2, initialRetryTime: 100, restartOnFailure: async () => restartOnFailure },
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(String(message.value));
    },
  });
  return consumer;
}

/** Committed offset per partition equals the log end: everything processed was committed. */
async function allCommitted(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const byPartition = new Map(committed[0].partitions.map((p) => [p.partition, p.offset]));
    return ends.every((e) => byPartition.get(e.partition) === e.high);
  } finally {
    await admin.disconnect();
  }
}

describe('kafkajs consumer groups against a broker process', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ args: ARGS });
  });
  after(async () => {
    await broker?.cleanup();
  });

  test('three consumers share six partitions while members join and leave mid-stream; nothing is lost', async () => {
    const kafka = client(broker.port, 'kjs-groups');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: PARTITIONS }] });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const produced: string[] = [];
    let next = 0;
    const produceSome = async (n: number) => {
      const messages = Array.from({ length: n }, () => {
        const v = `m-${next++}`;
        produced.push(v);
        return { key: v, value: v };
      });
      await producer.send({ topic: 'orders', messages });
    };
    const seen: [string[], string[], string[]] = [[], [], []];
    const consumed = () => new Set(seen.flat());
    const consumers: Consumer[] = [];
    try {
      consumers.push(await startConsumer(kafka, 'orders-app', 'orders', seen[0]));
      await produceSome(100);
      await until(() => consumed().size >= 100, 'the first consumer to read');
      // Two more members join while records keep coming.
      const joining = Promise.all([
        startConsumer(kafka, 'orders-app', 'orders', seen[1]),
        startConsumer(kafka, 'orders-app', 'orders', seen[2]),
      ]);
      for (let i = 0; i < 10; i++) {
        await produceSome(20);
        await new Promise((r) => setTimeout(r, 50));
      }
      consumers.push(...(await joining));
      await until(async () => {
        const d = await describeGroup(kafka, 'orders-app');
        return d.state === 'Stable' && d.members.length === 3;
      }, 'three stable members');
      await produceSome(120);
      await until(() => consumed().size === produced.length, 'all records consumed by the three');
      assert.ok(seen[1].length + seen[2].length > 0, 'the new members got partitions');
      // The first consumer leaves mid-stream; its partitions move to the other two.
      const leaving = consumers.shift() as Consumer;
      const leftAt = seen[0].length;
      const disconnect = leaving.disconnect();
      for (let i = 0; i < 10; i++) {
        await produceSome(20);
        await new Promise((r) => setTimeout(r, 30));
      }
      await disconnect;
      await until(
        () => consumed().size === produced.length,
        'all records consumed after the leave',
      );
      assert.ok(seen[0].length - leftAt < 200, 'the member that left stopped consuming');
      const d = await describeGroup(kafka, 'orders-app');
      assert.equal(d.members.length, 2);
      await until(
        () => allCommitted(kafka, 'orders-app', 'orders'),
        'commits to reach the log end',
      );
      assert.deepEqual([...consumed()].sort(), [...produced].sort());
    } finally {
      await Promise.all(consumers.map((c) => c.disconnect()));
      await producer.disconnect();
    }
  });
});

async function describeGroup(kafka: Kafka, groupId: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.describeGroups([groupId])).groups[0];
  } finally {
    await admin.disconnect();
  }
}

describe('kafkajs consumer after a broker kill -9', () => {
  test('a restarted consumer resumes at its committed offsets', async () => {
    let broker = await startBroker({ args: ARGS });
    const dataDir = broker.dataDir;
    try {
      let kafka = client(broker.port, 'kjs-kill');
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'resume', numPartitions: PARTITIONS }] });
      await admin.disconnect();
      let producer = kafka.producer();
      await producer.connect();
      const before = Array.from({ length: 60 }, (_, i) => `before-${i}`);
      await producer.send({ topic: 'resume', messages: before.map((v) => ({ key: v, value: v })) });
      await producer.disconnect();
      const seen: string[] = [];
      // This consumer dies with the broker (no restart on failure), like a process that crashed.
      const consumer = await startConsumer(kafka, 'resumer', 'resume', seen, false);
      const crashed = new Promise((resolve) => consumer.on(consumer.events.CRASH, resolve));
      await until(() => new Set(seen).size === before.length, 'the first run to consume');
      await until(() => allCommitted(kafka, 'resumer', 'resume'), 'the first run to commit');
      await broker.stop('SIGKILL');
      // The consumer cannot leave the group: its broker is gone. It gives up after its retries.
      await crashed;
      await consumer.disconnect();

      broker = await startBroker({ dataDir, args: ARGS });
      kafka = client(broker.port, 'kjs-kill');
      producer = kafka.producer();
      await producer.connect();
      const afterKill = Array.from({ length: 30 }, (_, i) => `after-${i}`);
      await producer.send({
        topic: 'resume',
        messages: afterKill.map((v) => ({ key: v, value: v })),
      });
      await producer.disconnect();
      const seen2: string[] = [];
      const consumer2 = await startConsumer(kafka, 'resumer', 'resume', seen2);
      try {
        await until(() => new Set(seen2).size >= afterKill.length, 'the restarted consumer');
        // fromBeginning only applies without committed offsets: nothing from before the kill.
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual([...new Set(seen2)].sort(), [...afterKill].sort());
      } finally {
        await consumer2.disconnect();
      }
    } finally {
      await broker.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
