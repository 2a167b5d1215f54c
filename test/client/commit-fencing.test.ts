/**
 * Zombie fencing in the consumer, against a real Brook broker: a member the group has moved on
 * from (session expired while the process stood still, or its static instance id taken over)
 * has its commits refused with a CommitFailedError, gives its whole assignment up as lost
 * (onLost, never onRevoked) and rejoins, resuming from the committed offsets; a commit under an
 * older identity of a member that has rejoined since fails alone; a member that stood still past
 * its session hands out nothing it fetched before until the coordinator has confirmed it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  Admin,
  Consumer,
  type ConsumerBatch,
  type ConsumerOptions,
  KafkaError,
  Producer,
  type TopicPartition,
} from '../../src/client/index.js';
import { CommitFailedError } from '../../src/client/consumer/consumer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  type BrokerProcess,
  GROUP_TEST_ARGS,
  startBroker,
} from '../broker/helpers/broker-process.js';
import { waitUntil } from './helpers/targets.js';

let broker: BrokerProcess | undefined;
let bootstrap = '';
const consumers: Consumer[] = [];

before(async () => {
  broker = await startBroker({ args: [...GROUP_TEST_ARGS] });
  bootstrap = `127.0.0.1:${broker.port}`;
});

after(async () => {
  for (const c of consumers) await c.close().catch(() => {});
  await broker?.cleanup();
});

const key = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`;

/** A topic with `records` records in every partition, produced `perSend` at a time. */
async function topicWith(
  topic: string,
  partitions: number,
  records: number,
  perSend = records,
): Promise<void> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    await admin.createTopics([{ topic, numPartitions: partitions }]);
  } finally {
    await admin.close();
  }
  const producer = new Producer({ bootstrapServers: bootstrap });
  try {
    for (let p = 0; p < partitions; p++) {
      for (let from = 0; from < records; from += perSend) {
        const n = Math.min(perSend, records - from);
        await producer.send(
          topic,
          Array.from({ length: n }, (_, i) => ({ value: `v${from + i}`, partition: p })),
        );
      }
    }
  } finally {
    await producer.close();
  }
}

interface Watched {
  consumer: Consumer;
  assigned: string[][];
  revoked: string[][];
  lost: string[][];
}

function watched(groupId: string, options: Partial<ConsumerOptions> = {}): Watched {
  const w: Watched = {
    consumer: undefined as unknown as Consumer,
    assigned: [],
    revoked: [],
    lost: [],
  };
  w.consumer = new Consumer({
    bootstrapServers: bootstrap,
    groupId,
    enableAutoCommit: false,
    autoOffsetReset: 'earliest',
    sessionTimeoutMs: 1000,
    heartbeatIntervalMs: 200,
    fetchMaxWaitMs: 100,
    ...options,
    rebalanceListener: {
      onAssigned: (tps) => {
        w.assigned.push(tps.map(key).sort());
      },
      onRevoked: (tps) => {
        w.revoked.push(tps.map(key).sort());
      },
      onLost: (tps) => {
        w.lost.push(tps.map(key).sort());
      },
    },
  });
  consumers.push(w.consumer);
  return w;
}

/** Polls until `pred` holds for a returned batch (batches are marked processed as they come). */
async function pollUntil(
  consumer: Consumer,
  what: string,
  pred: (batch: ConsumerBatch) => boolean = () => true,
  timeoutMs = 20000,
): Promise<ConsumerBatch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    const batch = await consumer.poll(200);
    if (batch === undefined) continue;
    consumer.markProcessed(batch);
    if (pred(batch)) return batch;
  }
}

/**
 * Stops this whole process (its event loop: timers, heartbeats, sockets) for `ms`, as a SIGSTOP,
 * a long GC pause or a starved machine would. The broker runs in its own process meanwhile.
 */
function standStill(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function committed(groupId: string, tps: TopicPartition[]): Promise<Map<string, number>> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const found = await admin.fetchOffsets(groupId, tps);
    return new Map(found.map((c) => [key(c), c.offset]));
  } finally {
    await admin.close();
  }
}

test('a commit refused with UNKNOWN_MEMBER_ID loses the whole assignment; the next poll rejoins at the committed offsets', async () => {
  const topic = 'fence-expired';
  await topicWith(topic, 2, 10);
  const tps = [0, 1].map((partition) => ({ topic, partition }));
  // No heartbeat timer during the test (the first would come after a minute): the commit is what
  // finds out. The next poll confirms the member with a heartbeat of its own when in doubt.
  const a = watched('g-expired', { heartbeatIntervalMs: 60000 });
  a.consumer.subscribe([topic]);
  await pollUntil(a.consumer, 'the first records');
  await waitUntil(() => a.consumer.assignedPartitions().length === 2, 'both partitions', 20000);
  await a.consumer.commitSync(tps.map((tp) => ({ ...tp, offset: 3 })));
  const before = a.consumer.groupMember!;
  assert.ok(before.generationId >= 0);

  let refusal: unknown;
  // Standing still past the session timeout gets the member removed; the commit issued on waking
  // is the first request on the coordinator connection, ahead of any heartbeat. A broker slower
  // than that to expire the session accepts the commit, which restarts the session: try again.
  for (let attempt = 0; attempt < 5 && refusal === undefined; attempt++) {
    standStill(3000);
    refusal = await a.consumer
      .commitSync(
        tps.map((tp) => ({ ...tp, offset: 9 })),
        {
          groupMetadata: a.consumer.groupMetadata(),
        },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
  }
  assert.ok(refusal instanceof CommitFailedError, `a CommitFailedError, not ${String(refusal)}`);
  assert.ok(refusal instanceof KafkaError);
  assert.equal(refusal.code, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(refusal.assignmentLost, true);
  assert.match(refusal.message, /moved on/);
  assert.match(refusal.message, /rejoins the group at its next poll/);

  // Lost, not revoked: nothing could be committed for them any more.
  assert.deepEqual(a.lost, [[`${topic}-0`, `${topic}-1`]]);
  assert.deepEqual(a.revoked, []);
  assert.deepEqual(a.consumer.assignedPartitions(), []);
  assert.deepEqual(a.consumer.groupMember, { memberId: '', generationId: -1 });
  assert.deepEqual(
    await committed('g-expired', tps),
    new Map([
      [`${topic}-0`, 3],
      [`${topic}-1`, 3],
    ]),
  );

  // The next poll rejoins as a new member and starts again from the committed offsets.
  const first = await pollUntil(a.consumer, 'records after the rejoin');
  const records = [...first];
  assert.equal(records[0]!.offset, 3);
  assert.notEqual(a.consumer.groupMember!.memberId, before.memberId);
  assert.equal(a.assigned.at(-1)?.length, 2);
  await a.consumer.close();
});

test('a member that stood still past its session hands out nothing it had fetched: it is lost and resumes from the commit', async () => {
  const topic = 'fence-stalled';
  await topicWith(topic, 1, 200, 10);
  const tp = { topic, partition: 0 };
  const a = watched('g-stalled', { maxPartitionFetchBytes: 1024, prefetchBatches: 4 });
  a.consumer.subscribe([topic]);
  await pollUntil(a.consumer, 'records past offset 20', (b) => b.nextOffset > 20);
  await a.consumer.commitSync([{ ...tp, offset: 5 }]);
  const at = a.consumer.position(tp)!;
  assert.ok(at > 5);

  let first: ConsumerBatch | undefined;
  for (let attempt = 0; attempt < 5 && first === undefined; attempt++) {
    const memberId = a.consumer.groupMember!.memberId;
    standStill(3000);
    const batch = await pollUntil(a.consumer, 'a batch after standing still');
    if ([...batch][0]!.offset === 5) {
      first = batch;
      break;
    }
    // Records past the commit were handed out: allowed only if the coordinator still had the
    // member (it confirmed it first; a broker slower than the stall to expire the session). A
    // member found lost right after had handed them out as a zombie.
    // A few heartbeats' time for such a loss to show.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(a.lost, [], `records from ${[...batch][0]!.offset} handed out by a zombie`);
    assert.equal(a.consumer.groupMember!.memberId, memberId);
  }
  assert.ok(first, 'the member was found lost');
  assert.deepEqual(a.lost, [[`${topic}-0`]], 'the assignment was given up as lost');
  assert.deepEqual(a.revoked, []);
  await a.consumer.close();
});

test('a commit under an older identity of a member that rejoined since fails alone (ILLEGAL_GENERATION)', async () => {
  const topic = 'fence-stale-generation';
  await topicWith(topic, 2, 10);
  const a = watched('g-stale', { sessionTimeoutMs: 10000, heartbeatIntervalMs: 300 });
  a.consumer.subscribe([topic]);
  await pollUntil(a.consumer, 'the first records');
  await waitUntil(() => a.consumer.assignedPartitions().length === 2, 'both partitions', 20000);
  const old = a.consumer.groupMetadata();

  const b = watched('g-stale', { sessionTimeoutMs: 10000, heartbeatIntervalMs: 300 });
  b.consumer.subscribe([topic]);
  let polling = true;
  const loops = [a, b].map(async (w) => {
    while (polling) {
      const batch = await w.consumer.poll(100);
      if (batch) w.consumer.markProcessed(batch);
    }
  });
  try {
    await waitUntil(
      () =>
        a.consumer.assignedPartitions().length === 1 &&
        b.consumer.assignedPartitions().length === 1 &&
        a.consumer.groupMember!.generationId > old.generationId,
      'the partitions split in a new generation',
      20000,
    );
    const owned = a.consumer.assignedPartitions();
    const refusal = await a.consumer
      .commitSync([{ topic, partition: 0, offset: 1 }], { groupMetadata: old })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(refusal instanceof CommitFailedError, `a CommitFailedError, not ${String(refusal)}`);
    assert.equal(refusal.code, ErrorCode.ILLEGAL_GENERATION);
    assert.equal(refusal.assignmentLost, false);
    assert.deepEqual(a.lost, [], 'the current assignment is kept');
    assert.deepEqual(a.consumer.assignedPartitions(), owned);
    // The current identity commits.
    await a.consumer.commitSync([{ ...owned[0]!, offset: 2 }]);
  } finally {
    polling = false;
    await Promise.all(loops);
  }
  await a.consumer.close();
  await b.consumer.close();
});

test('FENCED_INSTANCE_ID: a static member replaced by another instance loses its partitions and stops', async () => {
  const topic = 'fence-instance';
  await topicWith(topic, 2, 10);
  // No heartbeats during the test: the commit is what finds out.
  const options = {
    groupInstanceId: 'inst-1',
    sessionTimeoutMs: 30000,
    heartbeatIntervalMs: 60000,
  };
  const a = watched('g-instance', options);
  a.consumer.subscribe([topic]);
  await pollUntil(a.consumer, 'the first records');
  await waitUntil(() => a.consumer.assignedPartitions().length === 2, 'both partitions', 20000);

  const a2 = watched('g-instance', options);
  a2.consumer.subscribe([topic]);
  await pollUntil(a2.consumer, 'records for the replacement');
  const generation = a2.consumer.groupMember!.generationId;

  const refusal = await a.consumer.commitSync([{ topic, partition: 0, offset: 4 }]).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(refusal instanceof CommitFailedError, `a CommitFailedError, not ${String(refusal)}`);
  assert.equal(refusal.code, ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(refusal.assignmentLost, true);
  assert.match(refusal.message, /must be closed/);
  assert.deepEqual(a.lost, [[`${topic}-0`, `${topic}-1`]]);
  assert.deepEqual(a.consumer.assignedPartitions(), []);
  // Fatal, as in Kafka: rejoining would fence the other instance in turn.
  await assert.rejects(
    a.consumer.poll(100),
    (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.FENCED_INSTANCE_ID,
  );
  assert.equal(a2.consumer.groupMember!.generationId, generation);
  assert.equal(a2.consumer.assignedPartitions().length, 2);
  await a.consumer.close();
  await a2.consumer.close();
});
