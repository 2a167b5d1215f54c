/**
 * OffsetCommit from a zombie, over the wire: a member the coordinator removed (its session
 * expired while it was silent) and a static member whose instance id another process took over
 * are refused with the codes Kafka's consumer reads as "assignment lost" (UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID), even when the group has moved on to a newer generation, and their offsets
 * never replace the ones committed by the group's current members.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';
import { KafkaTestClient } from './helpers/kafka-client.js';
import { until } from './helpers/until.js';

const ARGS = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'group.min.session.timeout.ms=100',
  '--set',
  'offsets.topic.num.partitions=1',
];

let broker: BrokerProcess;
const clients: KafkaTestClient[] = [];

before(async () => {
  broker = await startBroker({ args: ARGS });
});

after(async () => {
  for (const c of clients) c.close();
  await broker?.cleanup();
});

async function connect(): Promise<KafkaTestClient> {
  const c = await KafkaTestClient.connect(broker.port);
  clients.push(c);
  return c;
}

/** A member on its own connection: join (following MEMBER_ID_REQUIRED) and sync. */
async function joined(
  groupId: string,
  options: { instanceId?: string; sessionTimeoutMs?: number } = {},
): Promise<{ c: KafkaTestClient; memberId: string; generationId: number }> {
  const c = await connect();
  let memberId = '';
  for (;;) {
    const r = await c.request(11, 5, {
      groupId,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10000,
      rebalanceTimeoutMs: 3000,
      memberId,
      groupInstanceId: options.instanceId ?? null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('s') }],
    });
    if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      memberId = r.memberId;
      continue;
    }
    assert.equal(r.errorCode, 0, `JoinGroup error ${r.errorCode}`);
    const s = await c.request(14, 3, {
      groupId,
      generationId: r.generationId,
      memberId: r.memberId,
      groupInstanceId: options.instanceId ?? null,
      assignments:
        r.leader === r.memberId ? [{ memberId: r.memberId, assignment: Buffer.alloc(0) }] : [],
    });
    assert.equal(s.errorCode, 0, `SyncGroup error ${s.errorCode}`);
    return { c, memberId: r.memberId, generationId: r.generationId };
  }
}

async function commit(
  c: KafkaTestClient,
  groupId: string,
  who: { memberId: string; generationId: number; instanceId?: string },
  offset: number,
): Promise<number> {
  const r = await c.request(8, 8, {
    groupId,
    generationIdOrMemberEpoch: who.generationId,
    memberId: who.memberId,
    groupInstanceId: who.instanceId ?? null,
    topics: [
      {
        name: 'orders',
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: BigInt(offset),
            committedLeaderEpoch: -1,
            committedMetadata: null,
          },
        ],
      },
    ],
  });
  return r.topics[0]!.partitions[0]!.errorCode;
}

async function committed(c: KafkaTestClient, groupId: string): Promise<number> {
  const r = await c.request(9, 7, {
    groupId,
    topics: [{ name: 'orders', partitionIndexes: [0] }],
    requireStable: false,
  });
  return Number(r.topics[0]!.partitions[0]!.committedOffset);
}

async function memberIds(c: KafkaTestClient, groupId: string): Promise<string[]> {
  const r = await c.request(15, 5, { groups: [groupId], includeAuthorizedOperations: false });
  return r.groups[0]!.members.map((m) => m.memberId);
}

test('a member removed after its session expired is refused UNKNOWN_MEMBER_ID, before and after the group moves on', async () => {
  const admin = await connect();
  const zombie = await joined('g-expired', { sessionTimeoutMs: 300 });
  assert.equal(await commit(zombie.c, 'g-expired', zombie, 10), 0);
  // Silent past its session: the coordinator removes it.
  await until(async () => (await memberIds(admin, 'g-expired')).length === 0, 'the expiry', 10000);
  assert.equal(await commit(zombie.c, 'g-expired', zombie, 5), ErrorCode.UNKNOWN_MEMBER_ID);

  // Another member takes over and commits further; the zombie's commit still does not land.
  const next = await joined('g-expired');
  assert.ok(next.generationId > zombie.generationId);
  assert.equal(await commit(next.c, 'g-expired', next, 20), 0);
  assert.equal(await commit(zombie.c, 'g-expired', zombie, 5), ErrorCode.UNKNOWN_MEMBER_ID);
  // Even under the current generation number: the member id is what is unknown.
  assert.equal(
    await commit(zombie.c, 'g-expired', { ...zombie, generationId: next.generationId }, 5),
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
  assert.equal(await committed(admin, 'g-expired'), 20);
});

test('a static member whose instance id was taken over is refused FENCED_INSTANCE_ID', async () => {
  const admin = await connect();
  const old = await joined('g-static-zombie', { instanceId: 'inst-1' });
  const who = { ...old, instanceId: 'inst-1' };
  assert.equal(await commit(old.c, 'g-static-zombie', who, 10), 0);
  const replacement = await joined('g-static-zombie', { instanceId: 'inst-1' });
  assert.notEqual(replacement.memberId, old.memberId);
  assert.equal(
    await commit(replacement.c, 'g-static-zombie', { ...replacement, instanceId: 'inst-1' }, 20),
    0,
  );
  assert.equal(await commit(old.c, 'g-static-zombie', who, 5), ErrorCode.FENCED_INSTANCE_ID);
  assert.equal(await committed(admin, 'g-static-zombie'), 20);
});

test('a removed member committing while the group completes a rebalance learns it is gone', async () => {
  const admin = await connect();
  const zombie = await joined('g-completing', { sessionTimeoutMs: 300 });
  // A new member joins; the silent zombie is dropped when its session runs out, and the group
  // waits in CompletingRebalance for the new leader's SyncGroup, which never comes here.
  const c = await connect();
  let memberId = '';
  let join: { errorCode: number; memberId: string; generationId: number };
  for (;;) {
    join = await c.request(11, 5, {
      groupId: 'g-completing',
      sessionTimeoutMs: 10000,
      rebalanceTimeoutMs: 3000,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('s') }],
    });
    if (join.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) break;
    memberId = join.memberId;
  }
  assert.equal(join.errorCode, 0);
  assert.deepEqual(await memberIds(admin, 'g-completing'), [join.memberId]);
  // Not REBALANCE_IN_PROGRESS: the zombie must learn that its assignment is lost.
  assert.equal(await commit(zombie.c, 'g-completing', zombie, 5), ErrorCode.UNKNOWN_MEMBER_ID);
  // The live member is told to finish the rebalance first.
  assert.equal(
    await commit(
      c,
      'g-completing',
      { memberId: join.memberId, generationId: join.generationId },
      7,
    ),
    ErrorCode.REBALANCE_IN_PROGRESS,
  );
});
