import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { ErrorCode } from '../../src/protocol/errors.js';
import { loadBrokerConfig } from '../../src/broker/config/load.js';
import { GroupCoordinator } from '../../src/broker/groups/coordinator.js';
import type { JoinRequest } from '../../src/broker/groups/rebalance.js';
import {
  decodeOffsetsTopicRecord,
  groupMetadataKey,
  groupMetadataValue,
  offsetCommitKey,
  offsetCommitValue,
  partitionForGroup,
} from '../../src/broker/groups/records.js';
import { PartitionProducerState } from '../../src/broker/producers/partition-state.js';
import { TopicRegistry } from '../../src/broker/topics/topic-registry.js';
import { LogManager } from '../../src/storage/log-manager.js';

const silent = pino({ level: 'silent' });

/** A coordinator over a real LogManager in a temp dir; `reopen` simulates a restart. */
function harness(sets: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'brook-groups-'));
  const config = loadBrokerConfig({
    env: {},
    sets: ['offsets.topic.num.partitions=3', 'group.min.session.timeout.ms=10', ...sets],
    flags: { dataDir: dir },
  });
  let logs = LogManager.open(dir);
  let coordinator = new GroupCoordinator(
    new TopicRegistry(dir, logs, config, silent),
    config,
    silent,
  );
  coordinator.start();
  return {
    get coordinator() {
      return coordinator;
    },
    async reopen() {
      coordinator.shutdown();
      await logs.shutdown();
      logs = LogManager.open(dir);
      coordinator = new GroupCoordinator(
        new TopicRegistry(dir, logs, config, silent),
        config,
        silent,
      );
      coordinator.start();
    },
    async close() {
      coordinator.shutdown();
      await logs.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function joinReq(groupId: string, memberId = '', over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId,
    memberId,
    groupInstanceId: null,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 5000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    requireKnownMemberId: false,
    supportsSkipAssignment: false,
    ...over,
  };
}

let h: ReturnType<typeof harness> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('__consumer_offsets records', () => {
  test("a group's partition is Kafka's abs(String.hashCode) % partitions", () => {
    assert.equal(partitionForGroup('a', 50), 97 % 50);
    assert.equal(partitionForGroup('test', 50), 3556498 % 50);
    // Java's hashCode of this string is Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0.
    assert.equal(partitionForGroup('polygenelubricants', 50), 0);
  });

  test('offset commit and group metadata records round-trip', () => {
    const offset = {
      offset: 42,
      leaderEpoch: 3,
      metadata: 'meta',
      commitTimestamp: 1700000000000,
      expireTimestamp: -1,
    };
    assert.deepEqual(
      decodeOffsetsTopicRecord(offsetCommitKey('g', 't', 7), offsetCommitValue(offset)),
      {
        type: 'offset',
        group: 'g',
        topic: 't',
        partition: 7,
        value: offset,
      },
    );
    const group = {
      protocolType: 'consumer',
      generation: 4,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 5,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: 'i1',
          clientId: 'c',
          clientHost: '/h',
          rebalanceTimeout: 100,
          sessionTimeout: 200,
          subscription: Buffer.from('s'),
          assignment: Buffer.from('a'),
        },
      ],
    };
    assert.deepEqual(decodeOffsetsTopicRecord(groupMetadataKey('g'), groupMetadataValue(group)), {
      type: 'group',
      group: 'g',
      value: group,
    });
    assert.deepEqual(decodeOffsetsTopicRecord(groupMetadataKey('g'), null), {
      type: 'group',
      group: 'g',
      value: null,
    });
  });
});

describe('rebalance timing', () => {
  test('group.initial.rebalance.delay.ms lets members that arrive together share the first generation', async () => {
    h = harness(['group.initial.rebalance.delay.ms=300']);
    const c = h.coordinator;
    const a = c.joinGroup(joinReq('g'));
    await new Promise((r) => setTimeout(r, 100));
    const b = c.joinGroup(joinReq('g'));
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.generationId, 1);
    assert.equal(rb.generationId, 1);
    assert.equal([ra, rb].filter((r) => r.members.length === 2).length, 1, 'one leader sees both');
  });

  test('a member that does not rejoin within the rebalance timeout is removed', async () => {
    h = harness(['group.initial.rebalance.delay.ms=0']);
    const c = h.coordinator;
    const a = await c.joinGroup(joinReq('g', '', { rebalanceTimeoutMs: 300 }));
    await c.syncGroup({
      groupId: 'g',
      generationId: 1,
      memberId: a.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    const started = Date.now();
    const b = await c.joinGroup(joinReq('g', '', { rebalanceTimeoutMs: 300 }));
    assert.ok(Date.now() - started >= 250, 'waited for the old member');
    assert.equal(b.generationId, 2);
    assert.equal(b.leader, b.memberId);
    assert.deepEqual(
      b.members.map((m) => m.memberId),
      [b.memberId],
    );
    assert.equal(c.heartbeat('g', a.memberId, null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('shutdown answers a waiting JoinGroup', async () => {
    h = harness(['group.initial.rebalance.delay.ms=60000']);
    const waiting = h.coordinator.joinGroup(joinReq('g'));
    h.coordinator.shutdown();
    assert.equal((await waiting).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});

describe('offset retention', () => {
  test('offsets of an empty group expire after offsets.retention.minutes, then the group goes; both durably', async () => {
    h = harness(['offsets.retention.minutes=1', 'group.initial.rebalance.delay.ms=0']);
    const commit = (groupId: string, generationId = -1, memberId = '') =>
      h?.coordinator.commitOffsets({
        groupId,
        generationId,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        topics: [
          {
            name: 't',
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 9,
                committedLeaderEpoch: -1,
                committedMetadata: null,
              },
            ],
          },
        ],
      });
    assert.deepEqual(await commit('simple'), [[0]]);
    // A live group keeps its offsets however old they are.
    const m = await h.coordinator.joinGroup(joinReq('live'));
    // Commits wait for the assignment: REBALANCE_IN_PROGRESS until the group is stable.
    assert.deepEqual(await commit('live', m.generationId, m.memberId), [
      [ErrorCode.REBALANCE_IN_PROGRESS],
    ]);
    await h.coordinator.syncGroup({
      groupId: 'live',
      generationId: m.generationId,
      memberId: m.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.deepEqual(await commit('live', m.generationId, m.memberId), [[0]]);
    const now = Date.now();
    assert.equal(await h.coordinator.expireOffsets(now + 30000), 0);
    assert.equal(await h.coordinator.expireOffsets(now + 61000), 1);
    assert.equal(h.coordinator.group('simple'), undefined);
    assert.equal(h.coordinator.fetchOffsets('live', null).topics.length, 1);
    await h.reopen();
    assert.equal(h.coordinator.group('simple'), undefined, 'the deletion was persisted');
    assert.equal(
      h.coordinator.fetchOffsets('live', null).topics[0].partitions[0].committedOffset,
      9,
    );
  });
});

describe('producer state', () => {
  test('sequence checks: next, duplicate within the last five, gaps, epochs, wrap-around', () => {
    const s = new PartitionProducerState();
    assert.equal(s.check(1, 0, 0, 2).kind, 'append');
    s.record(1, 0, 0, 2, 100, 101, 0);
    for (let i = 1; i <= 5; i++) s.record(1, 0, i * 2, 2, 100 + i * 2, 101 + i * 2, 0);
    // The first batch (0-1) fell out of the five remembered.
    assert.equal(s.check(1, 0, 0, 2).kind, 'error');
    const dup = s.check(1, 0, 4, 2);
    assert.equal(dup.kind, 'duplicate');
    assert.equal(dup.kind === 'duplicate' && dup.batch.firstOffset, 104);
    assert.equal(s.check(1, 0, 12, 1).kind, 'append');
    assert.equal(s.check(1, 0, 13, 1).kind, 'error');
    const wrap = new PartitionProducerState();
    wrap.record(2, 0, 2147483646, 2, 0, 1, 0);
    assert.equal(wrap.check(2, 0, 0, 1).kind, 'append', 'sequences wrap after Int32.MAX_VALUE');
    assert.deepEqual(PartitionProducerState.deserialize(s.serialize()).producers, s.producers);
    s.truncateHead(200);
    assert.equal(s.producers.size, 0, 'retention removed every batch of the producer');
  });
});
