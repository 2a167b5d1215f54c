import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, GROUP_TEST_ARGS, startBroker } from './helpers/broker-process.js';
import { until as pollUntil } from './helpers/until.js';

const ARGS = [...GROUP_TEST_ARGS];
const PARTITIONS = 6;

/** How long one step may take on a loaded 2-core machine before the test names it as stuck. */
const STEP_MS = 60000;

function client(port: number, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    // kafkajs's 1 s connection timeout is shorter than a busy machine's scheduling stalls.
    connectionTimeout: 10000,
    retry: { retries: 5, initialRetryTime: 100 },
  });
}

async function until(pred: () => boolean | Promise<boolean>, what: string, ms = STEP_MS) {
  await pollUntil(pred, what, ms);
}

/** `promise`, or an error naming `what` once `ms` passed: no step may wait forever. */
async function within<T>(promise: Promise<T>, what: string, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every kafkajs consumer and producer a test starts, disconnected at its end whatever happened.
 * A consumer left running after a failed step keeps reconnecting to the stopped broker forever
 * (it restarts on failure), which holds the test process open until the runner's file timeout.
 */
class Clients {
  readonly #all: { disconnect(): Promise<void> }[] = [];
  add<T extends { disconnect(): Promise<void> }>(c: T): T {
    this.#all.push(c);
    return c;
  }
  async disconnectAll(): Promise<void> {
    const all = this.#all.splice(0);
    await within(
      Promise.allSettled(all.map((c) => c.disconnect())),
      'kafkajs clients to disconnect',
    );
  }
}

/** Group timeouts of a consumer: a dead member's session bounds how long its partitions wait. */
interface GroupTimeouts {
  sessionTimeout: number;
  rebalanceTimeout: number;
  heartbeatInterval: number;
}

/**
 * Long enough that a member stalled by a busy machine is not evicted mid-test (eviction means
 * another rebalance and a test that never settles); a rebalance still completes as soon as every
 * live member has rejoined, so they cost nothing when all goes well.
 */
const LIVE_MEMBER: GroupTimeouts = {
  sessionTimeout: 15000,
  rebalanceTimeout: 15000,
  heartbeatInterval: 500,
};

/** For a member that will die with the broker: its successor waits out this session. */
const DOOMED_MEMBER: GroupTimeouts = {
  sessionTimeout: 3000,
  rebalanceTimeout: 3000,
  heartbeatInterval: 300,
};

/** A kafkajs group consumer that records every value it processes (commits after processing). */
async function startConsumer(
  clients: Clients,
  kafka: Kafka,
  groupId: string,
  topic: string,
  seen: string[],
  opts: { timeouts?: GroupTimeouts; restartOnFailure?: boolean } = {},
): Promise<Consumer> {
  const restartOnFailure = opts.restartOnFailure ?? true;
  const consumer = clients.add(
    kafka.consumer({
      groupId,
      ...(opts.timeouts ?? LIVE_MEMBER),
      maxWaitTimeInMs: 100,
      // A consumer that must die with the broker gives up after two quick retries.
      retry: restartOnFailure
        ? { retries: 5, initialRetryTime: 100 }
        : { retries: 2, initialRetryTime: 100, restartOnFailure: async () => false },
    }),
  );
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
    const clients = new Clients();
    const producer = clients.add(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
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
    try {
      const first = await startConsumer(clients, kafka, 'orders-app', 'orders', seen[0]);
      await produceSome(100);
      await until(() => consumed().size >= 100, 'the first consumer to read');
      // Two more members join while records keep coming.
      const joining = Promise.all([
        startConsumer(clients, kafka, 'orders-app', 'orders', seen[1]),
        startConsumer(clients, kafka, 'orders-app', 'orders', seen[2]),
      ]);
      for (let i = 0; i < 10; i++) {
        await produceSome(20);
        await new Promise((r) => setTimeout(r, 50));
      }
      await within(joining, 'two more consumers to start');
      await until(async () => {
        const d = await describeGroup(kafka, 'orders-app');
        return d.state === 'Stable' && d.members.length === 3;
      }, 'three stable members');
      await produceSome(120);
      await until(() => consumed().size === produced.length, 'all records consumed by the three');
      assert.ok(seen[1].length + seen[2].length > 0, 'the new members got partitions');
      // The first consumer leaves mid-stream; its partitions move to the other two.
      const leftAt = seen[0].length;
      const disconnect = first.disconnect();
      for (let i = 0; i < 10; i++) {
        await produceSome(20);
        await new Promise((r) => setTimeout(r, 30));
      }
      await within(disconnect, 'the first consumer to leave');
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
      await clients.disconnectAll();
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
    const clients = new Clients();
    try {
      let kafka = client(broker.port, 'kjs-kill');
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'resume', numPartitions: PARTITIONS }] });
      await admin.disconnect();
      let producer = clients.add(kafka.producer());
      await producer.connect();
      const before = Array.from({ length: 60 }, (_, i) => `before-${i}`);
      await producer.send({ topic: 'resume', messages: before.map((v) => ({ key: v, value: v })) });
      await producer.disconnect();
      const seen: string[] = [];
      // This consumer dies with the broker (no restart on failure), like a process that crashed.
      const consumer = await startConsumer(clients, kafka, 'resumer', 'resume', seen, {
        timeouts: DOOMED_MEMBER,
        restartOnFailure: false,
      });
      const crashed = new Promise((resolve) => consumer.on(consumer.events.CRASH, resolve));
      await until(() => new Set(seen).size === before.length, 'the first run to consume');
      await until(() => allCommitted(kafka, 'resumer', 'resume'), 'the first run to commit');
      await broker.stop('SIGKILL');
      // The consumer cannot leave the group: its broker is gone. It gives up after its retries.
      await within(crashed, 'the consumer to give up on the killed broker');
      await consumer.disconnect();

      broker = await startBroker({ dataDir, args: ARGS });
      kafka = client(broker.port, 'kjs-kill');
      producer = clients.add(kafka.producer());
      await producer.connect();
      const afterKill = Array.from({ length: 30 }, (_, i) => `after-${i}`);
      await producer.send({
        topic: 'resume',
        messages: afterKill.map((v) => ({ key: v, value: v })),
      });
      await producer.disconnect();
      const seen2: string[] = [];
      // The dead member is still in the restored group until its session expires.
      await startConsumer(clients, kafka, 'resumer', 'resume', seen2, { timeouts: DOOMED_MEMBER });
      await until(() => new Set(seen2).size >= afterKill.length, 'the restarted consumer');
      // fromBeginning only applies without committed offsets: nothing from before the kill.
      await until(() => allCommitted(kafka, 'resumer', 'resume'), 'the second run to commit');
      assert.deepEqual([...new Set(seen2)].sort(), [...afterKill].sort());
    } finally {
      await clients.disconnectAll();
      await broker.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
