import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';
import { until as pollUntil } from './helpers/until.js';
import { KafkaTestClient } from './helpers/kafka-client.js';

const ARGS = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'group.min.session.timeout.ms=100',
  '--set',
  'offsets.topic.num.partitions=5',
];
const META = Buffer.from('subscription');

/** One group member on its own connection (JoinGroup blocks its connection until the rebalance ends). */
class Member {
  memberId = '';
  generationId = -1;
  constructor(
    readonly c: KafkaTestClient,
    readonly groupId: string,
    readonly instanceId: string | null = null,
    readonly sessionTimeoutMs = 10000,
  ) {}

  static async connect(
    port: number,
    groupId: string,
    instanceId: string | null = null,
    sessionTimeoutMs = 10000,
  ) {
    return new Member(await KafkaTestClient.connect(port), groupId, instanceId, sessionTimeoutMs);
  }

  joinRaw(version = 5) {
    return this.c.request(11, version, {
      groupId: this.groupId,
      sessionTimeoutMs: this.sessionTimeoutMs,
      rebalanceTimeoutMs: 3000,
      memberId: this.memberId,
      groupInstanceId: this.instanceId,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: META }],
    });
  }

  /** JoinGroup, following MEMBER_ID_REQUIRED once (KIP-394). */
  async join() {
    let r = await this.joinRaw();
    if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = r.memberId;
      r = await this.joinRaw();
    }
    assert.equal(r.errorCode, ErrorCode.NONE, `join error ${r.errorCode}`);
    this.memberId = r.memberId;
    this.generationId = r.generationId;
    return r;
  }

  sync(assignments: { memberId: string; assignment: Buffer }[] = []) {
    return this.c.request(14, 3, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.instanceId,
      assignments,
    });
  }

  async heartbeat() {
    return (
      await this.c.request(12, 3, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.instanceId,
      })
    ).errorCode;
  }

  commit(
    offsets: [string, number, number][],
    generationId = this.generationId,
    memberId = this.memberId,
  ) {
    return this.c.request(8, 7, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: generationId,
      memberId,
      groupInstanceId: null,
      topics: offsets.map(([name, partitionIndex, offset]) => ({
        name,
        partitions: [
          {
            partitionIndex,
            committedOffset: BigInt(offset),
            committedLeaderEpoch: -1,
            committedMetadata: 'm',
          },
        ],
      })),
    });
  }

  close() {
    this.c.close();
  }
}

async function fetchOffsets(
  c: KafkaTestClient,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
) {
  const r = await c.request(9, 7, { groupId, topics, requireStable: false });
  assert.equal(r.errorCode, ErrorCode.NONE);
  return r.topics.flatMap((t) =>
    t.partitions.map((p) => [t.name, p.partitionIndex, Number(p.committedOffset)]),
  );
}

async function describe1(c: KafkaTestClient, groupId: string) {
  return (await c.request(15, 5, { groups: [groupId], includeAuthorizedOperations: false }))
    .groups[0];
}

/** Polls until `pred` holds (10 s: these waits are for the coordinator's own timers). */
const until = (pred: () => Promise<boolean>, what: string, ms = 10000) => pollUntil(pred, what, ms);

describe('group coordinator over the wire', () => {
  let broker: BrokerProcess;
  let admin: KafkaTestClient;
  const open: Member[] = [];
  const member = async (groupId: string, instanceId: string | null = null, session = 10000) => {
    const m = await Member.connect(broker.port, groupId, instanceId, session);
    open.push(m);
    return m;
  };
  before(async () => {
    broker = await startBroker({ args: ARGS });
    admin = await KafkaTestClient.connect(broker.port);
  });
  after(async () => {
    for (const m of open) m.close();
    admin?.close();
    await broker?.cleanup();
  });

  test('FindCoordinator: this broker, for groups and transactional ids, single and batched', async () => {
    const v3 = await admin.request(10, 3, { key: 'g', keyType: 0 });
    assert.equal(v3.errorCode, 0);
    assert.equal(v3.port, broker.port);
    assert.equal(v3.nodeId, 0);
    const v4 = await admin.request(10, 4, { keyType: 1, coordinatorKeys: ['t1', 't2'] });
    assert.deepEqual(
      v4.coordinators.map((c) => [c.key, c.errorCode, c.port]),
      [
        ['t1', 0, broker.port],
        ['t2', 0, broker.port],
      ],
    );
    const bad = await admin.request(10, 4, { keyType: 7, coordinatorKeys: ['x'] });
    assert.equal(bad.coordinators[0].errorCode, ErrorCode.INVALID_REQUEST);
    // The offsets topic now exists, with the configured partition count.
    const md = await admin.request(3, 12, {
      topics: [{ name: '__consumer_offsets', topicId: undefined }],
      allowAutoTopicCreation: false,
    });
    assert.equal(md.topics[0].errorCode, 0);
    assert.equal(md.topics[0].partitions.length, 5);
    assert.equal(md.topics[0].isInternal, true);
  });

  test('join, sync, heartbeat; a second member triggers a rebalance; leave hands over', async () => {
    const a = await member('g1');
    const first = await a.join();
    assert.equal(first.leader, a.memberId);
    assert.equal(first.generationId, 1);
    assert.equal(first.protocolName, 'range');
    assert.deepEqual(
      first.members.map((m) => m.memberId),
      [a.memberId],
    );
    const s1 = await a.sync([{ memberId: a.memberId, assignment: Buffer.from('all') }]);
    assert.equal(s1.errorCode, 0);
    assert.equal(s1.assignment.toString(), 'all');
    assert.equal(await a.heartbeat(), 0);
    assert.equal((await describe1(admin, 'g1')).groupState, 'Stable');

    // b joins: a is told to rejoin through its heartbeat.
    const b = await member('g1');
    const bJoin = b.join();
    await until(
      async () => (await a.heartbeat()) === ErrorCode.REBALANCE_IN_PROGRESS,
      'rebalance signal',
    );
    const [aj, bj] = await Promise.all([a.join(), bJoin]);
    assert.equal(aj.generationId, 2);
    assert.equal(bj.generationId, 2);
    assert.equal(aj.leader, a.memberId, 'the leader stays');
    assert.equal(aj.members.length, 2);
    assert.equal(bj.members.length, 0, 'only the leader gets the members');
    const [sa, sb] = await Promise.all([
      a.sync([
        { memberId: a.memberId, assignment: Buffer.from('A') },
        { memberId: b.memberId, assignment: Buffer.from('B') },
      ]),
      b.sync(),
    ]);
    assert.equal(sa.assignment.toString(), 'A');
    assert.equal(sb.assignment.toString(), 'B');
    const d = await describe1(admin, 'g1');
    assert.equal(d.groupState, 'Stable');
    assert.equal(d.protocolData, 'range');
    assert.deepEqual(d.members.map((m) => m.memberAssignment.toString()).sort(), ['A', 'B']);
    assert.equal(d.members[0].clientHost, '/127.0.0.1');

    // A stale generation is refused.
    a.generationId = 1;
    assert.equal(await a.heartbeat(), ErrorCode.ILLEGAL_GENERATION);
    a.generationId = 2;

    // a leaves: b rejoins alone and becomes leader of generation 3.
    const leave = await admin.request(13, 4, {
      groupId: 'g1',
      members: [{ memberId: a.memberId, groupInstanceId: null }],
    });
    assert.equal(leave.errorCode, 0);
    assert.equal(leave.members[0].errorCode, 0);
    assert.equal(await b.heartbeat(), ErrorCode.REBALANCE_IN_PROGRESS);
    const bj2 = await b.join();
    assert.equal(bj2.generationId, 3);
    assert.equal(bj2.leader, b.memberId);
    assert.equal(await a.heartbeat(), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('session timeout: a member that stops heartbeating is removed and the group rebalances', async () => {
    const a = await member('g-session', null, 400);
    const b = await member('g-session', null, 400);
    await a.join();
    await a.sync([{ memberId: a.memberId, assignment: Buffer.from('x') }]);
    const bJoin = b.join();
    await until(async () => (await a.heartbeat()) === ErrorCode.REBALANCE_IN_PROGRESS, 'rebalance');
    await Promise.all([a.join(), bJoin]);
    await Promise.all([a.sync([]), b.sync()]);
    // Only b keeps heartbeating.
    let bErr = 0;
    await until(
      async () => {
        bErr = await b.heartbeat();
        return bErr === ErrorCode.REBALANCE_IN_PROGRESS;
      },
      'a to expire',
      5000,
    );
    const rejoined = await b.join();
    assert.equal(rejoined.leader, b.memberId);
    assert.deepEqual(
      rejoined.members.map((m) => m.memberId),
      [b.memberId],
    );
    assert.equal(await a.heartbeat(), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('static membership: a restart within the session keeps the assignment; the old instance is fenced', async () => {
    const a = await member('g-static', 'instance-a');
    const join = await a.join();
    assert.equal(join.generationId, 1, 'static members get an id without MEMBER_ID_REQUIRED');
    await a.sync([{ memberId: a.memberId, assignment: Buffer.from('mine') }]);
    const oldId = a.memberId;
    // The "restarted" process: same instance id, no member id.
    const a2 = await member('g-static', 'instance-a');
    const r = await a2.join();
    assert.equal(r.errorCode, 0);
    assert.equal(r.generationId, 1, 'no rebalance');
    assert.notEqual(a2.memberId, oldId);
    const s = await a2.sync();
    assert.equal(s.assignment.toString(), 'mine');
    assert.equal(await a.heartbeat(), ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(await a2.heartbeat(), 0);
    assert.equal((await describe1(admin, 'g-static')).members[0].groupInstanceId, 'instance-a');
    // Leaving by instance id with the wrong member id is fenced too.
    const fenced = await admin.request(13, 4, {
      groupId: 'g-static',
      members: [{ memberId: oldId, groupInstanceId: 'instance-a' }],
    });
    assert.equal(fenced.members[0].errorCode, ErrorCode.FENCED_INSTANCE_ID);
  });

  test('KIP-394: a dynamic member without an id must come back with the one it was given', async () => {
    const m = await member('g-394');
    const r = await m.joinRaw(4);
    assert.equal(r.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.ok(r.memberId.startsWith('brook-test-'));
    const bogus = await admin.request(11, 5, {
      groupId: 'g-394',
      sessionTimeoutMs: 10000,
      rebalanceTimeoutMs: 1000,
      memberId: 'made-up',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: META }],
    });
    assert.equal(bogus.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    // Protocols in common are required.
    const other = await admin.request(11, 5, {
      groupId: 'g1',
      sessionTimeoutMs: 10000,
      rebalanceTimeoutMs: 1000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'roundrobin-only', metadata: META }],
    });
    assert.equal(other.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const badSession = await admin.request(11, 5, {
      groupId: 'g-x',
      sessionTimeoutMs: 10,
      rebalanceTimeoutMs: 1000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: META }],
    });
    assert.equal(badSession.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  });

  test('OffsetCommit/OffsetFetch: members of the current generation commit; stale or unknown ones are refused', async () => {
    const m = await member('g-commit');
    await m.join();
    await m.sync([{ memberId: m.memberId, assignment: Buffer.alloc(0) }]);
    const ok = await m.commit([
      ['orders', 0, 42],
      ['orders', 1, 7],
    ]);
    assert.deepEqual(
      ok.topics[0].partitions.map((p) => p.errorCode),
      [0],
    );
    const stale = await m.commit([['orders', 0, 99]], m.generationId - 1);
    assert.equal(stale.topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
    const unknown = await m.commit([['orders', 0, 99]], m.generationId, 'nobody');
    assert.equal(unknown.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const simpleOnLiveGroup = await m.commit([['orders', 0, 99]], -1, '');
    assert.equal(simpleOnLiveGroup.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const big = await m.c.request(8, 7, {
      groupId: 'g-commit',
      generationIdOrMemberEpoch: m.generationId,
      memberId: m.memberId,
      groupInstanceId: null,
      topics: [
        {
          name: 'orders',
          partitions: [
            {
              partitionIndex: 3,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              committedMetadata: 'x'.repeat(5000),
            },
          ],
        },
      ],
    });
    assert.equal(big.topics[0].partitions[0].errorCode, ErrorCode.OFFSET_METADATA_TOO_LARGE);
    assert.deepEqual(
      await fetchOffsets(admin, 'g-commit', [{ name: 'orders', partitionIndexes: [0, 1, 2] }]),
      [
        ['orders', 0, 42],
        ['orders', 1, 7],
        ['orders', 2, -1],
      ],
    );
    assert.deepEqual(await fetchOffsets(admin, 'g-commit', null), [
      ['orders', 0, 42],
      ['orders', 1, 7],
    ]);
    // Multi-group form (v8).
    const multi = await admin.request(9, 8, {
      groups: [
        { groupId: 'g-commit', topics: [{ name: 'orders', partitionIndexes: [1] }] },
        { groupId: 'nobody', topics: null },
      ],
      requireStable: true,
    });
    assert.equal(Number(multi.groups[0].topics[0].partitions[0].committedOffset), 7);
    assert.deepEqual(multi.groups[1].topics, []);
  });

  test('simple commits (generation -1) create and use a group without members', async () => {
    const r = await admin.request(8, 2, {
      groupId: 'simple',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      retentionTimeMs: -1n,
      topics: [
        {
          name: 'orders',
          partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: null }],
        },
      ],
    });
    assert.equal(r.topics[0].partitions[0].errorCode, 0);
    assert.deepEqual(await fetchOffsets(admin, 'simple', null), [['orders', 0, 5]]);
    const refused = await admin.request(8, 2, {
      groupId: 'never-seen',
      generationIdOrMemberEpoch: 3,
      memberId: 'x',
      retentionTimeMs: -1n,
      topics: [
        {
          name: 'orders',
          partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: null }],
        },
      ],
    });
    assert.equal(refused.topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
  });

  test('ListGroups with a state filter, DescribeGroups of unknown groups, OffsetDelete, DeleteGroups', async () => {
    const all = await admin.request(16, 4, { statesFilter: [] });
    const ids = all.groups.map((g) => g.groupId);
    for (const g of ['g1', 'g-static', 'g-commit', 'simple']) assert.ok(ids.includes(g), g);
    const stable = await admin.request(16, 4, { statesFilter: ['Stable'] });
    assert.ok(stable.groups.every((g) => g.groupState === 'Stable'));
    assert.ok(stable.groups.some((g) => g.groupId === 'g-static'));
    const empty = await admin.request(16, 5, { statesFilter: ['empty'], typesFilter: ['classic'] });
    assert.ok(empty.groups.some((g) => g.groupId === 'simple' && g.groupType === 'classic'));
    assert.equal((await describe1(admin, 'unknown-group')).groupState, 'Dead');
    const v6 = await admin.request(15, 6, {
      groups: ['unknown-group'],
      includeAuthorizedOperations: false,
    });
    assert.equal(v6.groups[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    // OffsetDelete: a consumer still subscribed to a topic keeps its offsets (our metadata is
    // not a real subscription, so it is not considered subscribed); an empty group loses them.
    const od = await admin.request(47, 0, {
      groupId: 'simple',
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }],
    });
    assert.equal(od.errorCode, 0);
    assert.deepEqual(await fetchOffsets(admin, 'simple', null), []);
    const odUnknown = await admin.request(47, 0, { groupId: 'nope', topics: [] });
    assert.equal(odUnknown.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    const del = await admin.request(42, 2, { groupsNames: ['simple', 'g-static', 'nope'] });
    assert.deepEqual(
      del.results.map((r) => [r.groupId, r.errorCode]),
      [
        ['simple', 0],
        ['g-static', ErrorCode.NON_EMPTY_GROUP],
        ['nope', ErrorCode.GROUP_ID_NOT_FOUND],
      ],
    );
    const after = await admin.request(16, 4, { statesFilter: [] });
    assert.ok(!after.groups.some((g) => g.groupId === 'simple'));
  });
});

describe('group coordinator persistence', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`groups and offsets survive a restart (${signal})`, async () => {
      let broker = await startBroker({ args: ARGS });
      const dataDir = broker.dataDir;
      try {
        const m = await Member.connect(broker.port, 'persist', 'static-1');
        await m.join();
        await m.sync([{ memberId: m.memberId, assignment: Buffer.from('P') }]);
        await m.commit([
          ['t', 0, 10],
          ['t', 3, 30],
        ]);
        await m.commit([['t', 0, 11]]);
        const c = await KafkaTestClient.connect(broker.port);
        await c.request(8, 2, {
          groupId: 'deleted',
          generationIdOrMemberEpoch: -1,
          memberId: '',
          retentionTimeMs: -1n,
          topics: [
            {
              name: 't',
              partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }],
            },
          ],
        });
        await c.request(42, 2, { groupsNames: ['deleted'] });
        c.close();
        m.close();
        await broker.stop(signal);
        broker = await startBroker({ dataDir, args: ARGS });
        const c2 = await KafkaTestClient.connect(broker.port);
        try {
          assert.deepEqual(await fetchOffsets(c2, 'persist', null), [
            ['t', 0, 11],
            ['t', 3, 30],
          ]);
          const d = await describe1(c2, 'persist');
          assert.equal(d.groupState, 'Stable');
          assert.equal(d.members[0].memberAssignment.toString(), 'P');
          assert.equal(d.members[0].groupInstanceId, 'static-1');
          // The static member comes back after the restart without a rebalance.
          const again = await Member.connect(broker.port, 'persist', 'static-1');
          const r = await again.join();
          assert.equal(r.generationId, 1);
          assert.equal((await again.sync()).assignment.toString(), 'P');
          again.close();
          const groups = (await c2.request(16, 4, { statesFilter: [] })).groups.map(
            (g) => g.groupId,
          );
          assert.ok(!groups.includes('deleted'));
        } finally {
          c2.close();
        }
      } finally {
        await broker.cleanup();
        const { rmSync } = await import('node:fs');
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }

  test('a damaged __consumer_offsets batch is skipped with an error; the broker starts and keeps the rest', async () => {
    let broker = await startBroker({ args: ARGS });
    const dataDir = broker.dataDir;
    try {
      const c = await KafkaTestClient.connect(broker.port);
      const commit = (offset: bigint) =>
        c.request(8, 2, {
          groupId: 'damaged',
          generationIdOrMemberEpoch: -1,
          memberId: '',
          retentionTimeMs: -1n,
          topics: [
            {
              name: 't',
              partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: null }],
            },
          ],
        });
      await commit(1n);
      await commit(2n);
      c.close();
      await broker.stop('SIGTERM');
      const { partitionForGroup } = await import('../../src/broker/groups/records.js');
      const { readFileSync, writeFileSync } = await import('node:fs');
      const file = `${dataDir}/__consumer_offsets-${partitionForGroup('damaged', 5)}/00000000000000000000.log`;
      const bytes = readFileSync(file);
      bytes[bytes.length - 3] ^= 0xff; // inside the second batch's record
      writeFileSync(file, bytes);
      broker = await startBroker({ dataDir, args: ARGS });
      const c2 = await KafkaTestClient.connect(broker.port);
      try {
        assert.deepEqual(await fetchOffsets(c2, 'damaged', null), [['t', 0, 1]]);
      } finally {
        c2.close();
      }
      assert.ok(
        broker.lines.some((l) => l.level === 50 && String(l.msg).includes('__consumer_offsets')),
      );
    } finally {
      await broker.cleanup();
      const { rmSync } = await import('node:fs');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
