/**
 * Consumer groups: 3 members with every assignor, rebalances on leave and join (cooperative-sticky
 * revokes only what moves), a handler slower than the session timeout, commits with metadata,
 * static membership. Run against librdkafka's mock cluster and against Brook once it serves the
 * group APIs (until then the Brook variant reports that it ran on the mock only).
 */
import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import {
  Admin,
  Consumer,
  type ConsumerOptions,
  Producer,
  type TopicPartition,
} from '../../src/client/index.js';
import { TARGETS, type Target, waitUntil } from './helpers/targets.js';

const tp = (x: TopicPartition): string => `${x.topic}-${x.partition}`;

interface Member {
  consumer: Consumer;
  seen: string[];
  revoked: string[][];
  lost: string[][];
  errors: unknown[];
  loop: Promise<void>;
}

function member(
  bootstrap: string,
  groupId: string,
  topic: string,
  opts: Partial<ConsumerOptions> = {},
  onBatch?: () => Promise<void>,
): Member {
  const m: Member = {
    consumer: undefined as unknown as Consumer,
    seen: [],
    revoked: [],
    lost: [],
    errors: [],
    loop: Promise.resolve(),
  };
  m.consumer = new Consumer({
    bootstrapServers: bootstrap,
    groupId,
    autoOffsetReset: 'earliest',
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 300,
    autoCommitIntervalMs: 200,
    ...opts,
    rebalanceListener: {
      onRevoked: (tps) => {
        m.revoked.push(tps.map(tp));
      },
      onLost: (tps) => {
        m.lost.push(tps.map(tp));
      },
    },
  });
  m.consumer.subscribe([topic]);
  m.loop = (async () => {
    for await (const batch of m.consumer.batches()) {
      for (const r of batch) m.seen.push(r.value?.toString() ?? '');
      if (onBatch) await onBatch();
    }
  })().catch((err: unknown) => {
    m.errors.push(err);
  });
  return m;
}

async function produce(bootstrap: string, topic: string, n: number, from = 0): Promise<void> {
  const p = new Producer({ bootstrapServers: bootstrap });
  try {
    await p.send(
      topic,
      Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })),
    );
  } finally {
    await p.close();
  }
}

function assignmentsCover(members: Member[], partitions: number): boolean {
  const all = members.flatMap((m) => m.consumer.assignedPartitions().map(tp));
  return (
    all.length === partitions &&
    new Set(all).size === partitions &&
    members.every((m) => m.consumer.assignedPartitions().length > 0)
  );
}

async function closeAll(members: Member[]): Promise<void> {
  await Promise.all(members.map((m) => m.consumer.close()));
  await Promise.all(members.map((m) => m.loop));
  for (const m of members) assert.deepEqual(m.errors, [], 'consumer loops ended without errors');
}

for (const [name, start] of Object.entries(TARGETS)) {
  describe(`consumer groups against ${name}`, () => {
    let target: Target;
    let servesGroups = false;
    before(async () => {
      target = await start();
      const admin = new Admin({ bootstrapServers: target.bootstrap });
      try {
        const conn = await admin.cluster.any();
        servesGroups = [10, 11, 12, 14, 8, 9].every((k) => conn.supports(k));
      } finally {
        await admin.close();
      }
    });
    after(async () => {
      await target?.stop();
    });
    // Both targets serve the classic group APIs; a target that stopped serving them is a failure.
    const groupTest = (title: string, body: (t: TestContext) => Promise<void>) =>
      test(title, async (t) => {
        assert.ok(
          servesGroups,
          `${name} must serve FindCoordinator/JoinGroup/SyncGroup/Heartbeat/OffsetCommit/OffsetFetch`,
        );
        await body(t);
      });
    // Tests of features the librdkafka 2.0 mock lacks are registered for Brook only (not skipped).
    const brookGroupTest = (title: string, body: (t: TestContext) => Promise<void>) => {
      if (name !== 'kafka-mock') groupTest(title, body);
    };

    for (const assignor of ['range', 'roundrobin', 'cooperative-sticky'] as const) {
      groupTest(
        `3 members (${assignor}) share 6 partitions; a leave and a join rebalance them`,
        async () => {
          const topic = `grp-${assignor}`;
          const groupId = `g-${assignor}`;
          await target.createTopic(topic, 6);
          await produce(target.bootstrap, topic, 300);
          const members = [0, 1, 2].map(() =>
            member(target.bootstrap, groupId, topic, { partitionAssignors: [assignor] }),
          );
          try {
            await waitUntil(
              () =>
                // Every record at least once: a rebalance may redeliver what was not yet
                // committed (at-least-once), so count distinct records.
                new Set(members.flatMap((m) => m.seen)).size >= 300 && assignmentsCover(members, 6),
              'three members to consume everything',
              20000,
            );
            for (const m of members) assert.equal(m.consumer.assignedPartitions().length, 2);
            const all = members.flatMap((m) => m.seen);
            assert.equal(new Set(all).size, 300);
            // One member leaves: the other two take its partitions.
            const [a, b, c] = members;
            const before = new Map([a, b].map((m) => [m, m.consumer.assignedPartitions().map(tp)]));
            const revokedBefore = [a.revoked.length, b.revoked.length];
            await c.consumer.close();
            await c.loop;
            await waitUntil(
              () => assignmentsCover([a, b], 6),
              'two members to own all partitions',
              20000,
            );
            for (const m of [a, b]) {
              const now = m.consumer.assignedPartitions().map(tp);
              for (const p of before.get(m) ?? []) {
                if (assignor === 'cooperative-sticky')
                  assert.ok(now.includes(p), `cooperative-sticky keeps ${p}`);
              }
            }
            if (assignor === 'cooperative-sticky') {
              // Nothing was revoked from the members that stayed: they only gained partitions.
              assert.equal(a.revoked.length, revokedBefore[0]);
              assert.equal(b.revoked.length, revokedBefore[1]);
            } else {
              assert.ok(
                a.revoked.length > revokedBefore[0],
                'eager rebalance revokes everything first',
              );
            }
            await produce(target.bootstrap, topic, 60, 300);
            await waitUntil(
              () => new Set([...a.seen, ...b.seen, ...c.seen]).size >= 360,
              'new records after the rebalance',
              20000,
            );
            // A new member joins: with cooperative-sticky only the partitions that move are revoked.
            const aBefore = a.consumer.assignedPartitions().map(tp);
            const bBefore = b.consumer.assignedPartitions().map(tp);
            const d = member(target.bootstrap, groupId, topic, { partitionAssignors: [assignor] });
            members.push(d);
            await waitUntil(
              () => assignmentsCover([a, b, d], 6) && d.consumer.assignedPartitions().length === 2,
              'the joiner to get 2 partitions',
              30000,
            );
            if (assignor === 'cooperative-sticky') {
              for (const [m, prev] of [
                [a, aBefore],
                [b, bBefore],
              ] as const) {
                const moved = prev.filter(
                  (p) => !m.consumer.assignedPartitions().map(tp).includes(p),
                );
                const revoked = m.revoked.slice(revokedBefore[m === a ? 0 : 1]).flat();
                assert.deepEqual(revoked.sort(), moved.sort(), 'only moved partitions are revoked');
                assert.ok(moved.length <= 1);
              }
            }
          } finally {
            await closeAll(members);
          }
        },
      );
    }

    groupTest(
      'a handler slower than the session timeout (but within maxPollIntervalMs) keeps its membership',
      async () => {
        const topic = 'slow';
        await target.createTopic(topic, 2);
        await produce(target.bootstrap, topic, 4);
        let batches = 0;
        const slow = member(
          target.bootstrap,
          'g-slow',
          topic,
          // 6 s is Kafka's smallest session timeout (group.min.session.timeout.ms).
          { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxPollIntervalMs: 30000 },
          async () => {
            batches++;
            // The handler itself is the subject: 9 s, half again the 6 s session timeout, so only
            // heartbeats sent independently of processing keep the member in its group.
            if (batches === 1) await new Promise((r) => setTimeout(r, 9000));
          },
        );
        try {
          await waitUntil(() => batches >= 1, 'the first batch', 15000);
          const generation = slow.consumer.groupMember?.generationId;
          const owned = slow.consumer.assignedPartitions().map(tp);
          await waitUntil(
            () => batches >= 2 || slow.seen.length >= 4,
            'the slow batch to finish',
            25000,
          );
          assert.equal(
            slow.consumer.groupMember?.generationId,
            generation,
            'no rebalance happened',
          );
          assert.deepEqual(slow.lost, []);
          assert.deepEqual(slow.revoked, []);
          assert.deepEqual(slow.consumer.assignedPartitions().map(tp), owned);
        } finally {
          await closeAll([slow]);
        }
      },
    );

    // The mock cannot add partitions (no CreatePartitions).
    brookGroupTest(
      'partitions added to a subscribed topic are picked up (metadataMaxAgeMs)',
      async () => {
        await target.createTopic('grow', 2);
        const m1 = member(target.bootstrap, 'g-grow', 'grow', { metadataMaxAgeMs: 300 });
        try {
          await waitUntil(
            () => m1.consumer.assignedPartitions().length === 2,
            'the first assignment',
            15000,
          );
          const admin = new Admin({ bootstrapServers: target.bootstrap });
          try {
            await admin.createPartitions([{ topic: 'grow', count: 4 }]);
          } finally {
            await admin.close();
          }
          await waitUntil(
            () => m1.consumer.assignedPartitions().length === 4,
            'the new partitions',
            20000,
          );
        } finally {
          await closeAll([m1]);
        }
      },
    );

    groupTest(
      'a handler past maxPollIntervalMs loses its partitions, then rejoins at its next poll',
      async () => {
        const topic = 'poll-timeout';
        await target.createTopic(topic, 1);
        await produce(target.bootstrap, topic, 3);
        let batches = 0;
        const slow = member(
          target.bootstrap,
          'g-poll-timeout',
          topic,
          { sessionTimeoutMs: 6000, heartbeatIntervalMs: 200, maxPollIntervalMs: 1500 },
          async () => {
            batches++;
            if (batches === 1) await new Promise((r) => setTimeout(r, 3500));
          },
        );
        try {
          await waitUntil(() => batches >= 1, 'the first batch', 15000);
          await waitUntil(
            () => slow.lost.length > 0,
            'the member to give up its partitions',
            10000,
          );
          assert.deepEqual(slow.lost, [[`${topic}-0`]]);
          // Back in the group after the handler returns.
          await waitUntil(
            () => slow.consumer.assignedPartitions().length === 1,
            'the rejoin',
            20000,
          );
          assert.deepEqual(slow.errors, []);
        } finally {
          await closeAll([slow]);
        }
      },
    );

    groupTest(
      'commits with metadata; a new member resumes from the committed offsets',
      async () => {
        const topic = 'commits';
        await target.createTopic(topic, 1);
        await produce(target.bootstrap, topic, 10);
        const c1 = new Consumer({
          bootstrapServers: target.bootstrap,
          groupId: 'g-commit',
          autoOffsetReset: 'earliest',
          enableAutoCommit: false,
          sessionTimeoutMs: 6000,
          heartbeatIntervalMs: 300,
        });
        try {
          c1.subscribe([topic]);
          const b = await (async () => {
            for (;;) {
              const x = await c1.poll(1000);
              if (x) return x;
            }
          })();
          assert.equal(b.count, 10);
          await c1.commitSync([{ topic, partition: 0, offset: 6, metadata: 'checkpoint-6' }]);
          const committed = await c1.committed([{ topic, partition: 0 }]);
          assert.equal(committed.get(`${topic}\0${0}`), 6);
          const admin = new Admin({ bootstrapServers: target.bootstrap });
          try {
            const offs = await admin.fetchOffsets('g-commit', [{ topic, partition: 0 }]);
            assert.deepEqual(offs, [{ topic, partition: 0, offset: 6, metadata: 'checkpoint-6' }]);
          } finally {
            await admin.close();
          }
        } finally {
          await c1.close();
        }
        const c2 = new Consumer({
          bootstrapServers: target.bootstrap,
          groupId: 'g-commit',
          autoOffsetReset: 'earliest',
          sessionTimeoutMs: 6000,
          heartbeatIntervalMs: 300,
        });
        try {
          c2.subscribe([topic]);
          let first: number | undefined;
          for await (const batch of c2.batches()) {
            first = batch.records()[0].offset;
            break;
          }
          assert.equal(first, 6);
        } finally {
          await c2.close();
        }
      },
    );

    // librdkafka 2.0's mock coordinator has no KIP-345 member replacement (the restarted instance
    // waits for the old member's session timeout there), so this runs against Brook only.
    brookGroupTest(
      'static membership: a restarted member with the same groupInstanceId gets its partitions back',
      async () => {
        const topic = 'static';
        await target.createTopic(topic, 4);
        await produce(target.bootstrap, topic, 40);
        const opts = (id: string): Partial<ConsumerOptions> => ({
          groupInstanceId: id,
          sessionTimeoutMs: 10000,
        });
        const a = member(target.bootstrap, 'g-static', topic, opts('inst-a'));
        const b = member(target.bootstrap, 'g-static', topic, opts('inst-b'));
        let a2: Member | undefined;
        try {
          await waitUntil(
            () => assignmentsCover([a, b], 4),
            'two static members to split 4 partitions',
            20000,
          );
          const aOwned = a.consumer.assignedPartitions().map(tp).sort();
          const bGeneration = b.consumer.groupMember?.generationId;
          await a.consumer.close();
          await a.loop;
          a2 = member(target.bootstrap, 'g-static', topic, opts('inst-a'));
          const restarted = a2;
          await waitUntil(
            () => restarted.consumer.assignedPartitions().length === 2,
            'the restarted member to get partitions',
            20000,
          );
          assert.deepEqual(restarted.consumer.assignedPartitions().map(tp).sort(), aOwned);
          assert.deepEqual(b.revoked, [], 'the other member was not disturbed');
          assert.equal(b.consumer.groupMember?.generationId, bGeneration);
        } finally {
          await closeAll([b, ...(a2 ? [a2] : [])]);
        }
      },
    );
  });
}
