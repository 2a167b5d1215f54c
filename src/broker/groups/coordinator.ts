/**
 * The group coordinator of a single-node broker: owns every classic consumer group and its
 * committed offsets, persists both to `__consumer_offsets` and replays them on startup, expires
 * offsets of empty groups, and answers the group APIs (the handlers are thin wrappers over this).
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import type { BrokerConfig } from '../config.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import {
  type CommittedOffset,
  ConsumerGroup,
  type GroupState,
  type JoinResult,
  type SyncResult,
} from './group.js';
import { groupSubscribesTo } from './subscriptions.js';
import { MemberRequests, type SyncRequest } from './membership.js';
import { type JoinRequest, Rebalancer } from './rebalance.js';
import { groupMetadataKey, offsetCommitKey, offsetCommitValue } from './records.js';
import { applyOffsetsRecord, groupMetadataRecord } from './persisted-state.js';
import { OffsetsTopicStore, type ReplayStats, type StoreRecord } from './store.js';

/** One partition's commit in an OffsetCommit request. */
export interface OffsetCommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export interface OffsetCommitRequestData {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2-v4 retention override, -1 for the broker's. */
  retentionTimeMs: number;
  topics: { name: string; partitions: OffsetCommitPartition[] }[];
}

/** A fetched offset (offset -1 when none is committed). */
export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

/** DescribeGroups' view of a group. */
export interface GroupDescription {
  errorCode: number;
  groupId: string;
  groupState: GroupState;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

const EMPTY = Buffer.alloc(0);

export class GroupCoordinator {
  readonly #groups = new Map<string, ConsumerGroup>();
  readonly #store: OffsetsTopicStore;
  readonly #rebalancer: Rebalancer;
  readonly #members: MemberRequests;
  readonly #log: Logger;
  readonly #config: BrokerConfig;
  #expiryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(topics: TopicRegistry, config: BrokerConfig, log: Logger) {
    this.#log = log;
    this.#config = config;
    this.#store = new OffsetsTopicStore(topics, config, log);
    const host = {
      log,
      initialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
      storeGroup: (g: ConsumerGroup) => this.#storeGroup(g),
    };
    this.#rebalancer = new Rebalancer(host);
    this.#members = new MemberRequests(this.#rebalancer, host);
  }

  /** Replays `__consumer_offsets` and starts the offset expiry timer. */
  start(
    expiryIntervalMs = this.#config.int('offsets.retention.check.interval.ms'),
  ): ReplayStats {
    const stats = this.#store.replay((rec) => applyOffsetsRecord(this.#groups, rec));
    for (const g of this.#groups.values()) this.#rebalancer.startSessions(g);
    this.#expiryTimer = setInterval(() => {
      this.expireOffsets().catch((err: Error) => this.#log.error({ err }, 'offset expiry failed'));
    }, expiryIntervalMs);
    this.#expiryTimer.unref();
    this.#log.info(
      { groups: this.#groups.size, records: stats.records, ms: Math.round(stats.ms) },
      'group coordinator loaded',
    );
    return stats;
  }

  /** Stops every timer and answers every waiting JoinGroup/SyncGroup. */
  shutdown(): void {
    this.#closed = true;
    clearInterval(this.#expiryTimer);
    for (const g of this.#groups.values()) this.#rebalancer.clearTimers(g);
  }

  /** Creates `__consumer_offsets` if needed (FindCoordinator does, as in Kafka). */
  ensureOffsetsTopic(): void {
    this.#store.ensureTopic();
  }

  /** The group, if the coordinator knows it (tests and DescribeGroups). */
  group(groupId: string): ConsumerGroup | undefined {
    return this.#groups.get(groupId);
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  #getOrCreate(groupId: string): ConsumerGroup {
    let g = this.#groups.get(groupId);
    if (!g) {
      g = new ConsumerGroup(groupId);
      this.#groups.set(groupId, g);
    }
    return g;
  }

  // ------------------------------------------------------------------ membership

  joinGroup(req: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: number): Promise<JoinResult> =>
      Promise.resolve({
        errorCode,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: '',
        memberId: req.memberId,
        skipAssignment: false,
        members: [],
      });
    if (this.#closed) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    if (
      req.sessionTimeoutMs < this.#config.int('group.min.session.timeout.ms') ||
      req.sessionTimeoutMs > this.#config.int('group.max.session.timeout.ms')
    )
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    const existing = this.#groups.get(req.groupId);
    if (!existing && req.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    const group = existing ?? this.#getOrCreate(req.groupId);
    if (
      req.memberId === '' &&
      group.members.size + group.pendingMembers.size >= this.#config.int('group.max.size') &&
      !(req.groupInstanceId !== null && group.staticMembers.has(req.groupInstanceId))
    )
      return fail(ErrorCode.GROUP_MAX_SIZE_REACHED);
    return this.#rebalancer.join(group, req);
  }

  syncGroup(req: SyncRequest): Promise<SyncResult> {
    if (this.#closed)
      return Promise.resolve({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, assignment: EMPTY });
    return this.#members.sync(this.#groups.get(req.groupId), req);
  }

  heartbeat(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    if (this.#closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return this.#members.heartbeat(
      this.#groups.get(groupId),
      memberId,
      groupInstanceId,
      generationId,
    );
  }

  /** LeaveGroup: one error code per leaving member. */
  leaveGroup(
    groupId: string,
    members: { memberId: string; groupInstanceId: string | null }[],
  ): number[] {
    const group = this.#groups.get(groupId);
    return members.map((m) => this.#members.leave(group, m.memberId, m.groupInstanceId));
  }

  // ------------------------------------------------------------------ offsets

  /** The error for a commit by this member/generation, or NONE; creates a simple group. */
  #commitAllowed(req: OffsetCommitRequestData): number {
    if (req.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.#groups.get(req.groupId);
    if (!group) {
      if (req.generationId >= 0) return ErrorCode.ILLEGAL_GENERATION;
      this.#getOrCreate(req.groupId);
      return ErrorCode.NONE;
    }
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // A simple (non-group) commit: generation -1 on a group without members.
    if (req.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    if (group.isFenced(req.memberId, req.groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (!group.members.has(req.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.#members.touch(group, req.memberId);
    return ErrorCode.NONE;
  }

  /** OffsetCommit: error codes in the request's topic/partition order. */
  async commitOffsets(req: OffsetCommitRequestData): Promise<number[][]> {
    const allowed = this.#closed ? ErrorCode.COORDINATOR_NOT_AVAILABLE : this.#commitAllowed(req);
    if (allowed !== ErrorCode.NONE) return req.topics.map((t) => t.partitions.map(() => allowed));
    const now = Date.now();
    const records: StoreRecord[] = [];
    const accepted: { topic: string; partition: number; value: CommittedOffset }[] = [];
    const codes = req.topics.map((t) =>
      t.partitions.map((p) => {
        const metadata = p.committedMetadata ?? '';
        if (Buffer.byteLength(metadata) > this.#config.int('offset.metadata.max.bytes'))
          return ErrorCode.OFFSET_METADATA_TOO_LARGE;
        const value: CommittedOffset = {
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata,
          commitTimestamp: now,
          expireTimestamp: req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : -1,
        };
        records.push({
          key: offsetCommitKey(req.groupId, t.name, p.partitionIndex),
          value: offsetCommitValue(value),
        });
        accepted.push({ topic: t.name, partition: p.partitionIndex, value });
        return ErrorCode.NONE;
      }),
    );
    try {
      await this.#store.append(req.groupId, records);
    } catch (err) {
      this.#log.error({ err, group: req.groupId }, 'writing offsets to __consumer_offsets failed');
      return codes.map((t) =>
        t.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c)),
      );
    }
    // The group may have been deleted while the write was in flight: commits recreate it.
    const group = this.#getOrCreate(req.groupId);
    for (const a of accepted) group.setOffset(a.topic, a.partition, a.value);
    return codes;
  }

  /**
   * OffsetFetch for one group: the requested partitions (offset -1 where none is committed), or
   * every committed partition when `topics` is null.
   */
  fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
  ): { errorCode: number; topics: { name: string; partitions: FetchedOffset[] }[] } {
    if (this.#closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: [] };
    const group = this.#groups.get(groupId);
    const fetched = (topic: string, partition: number): FetchedOffset => {
      const o = group?.offset(topic, partition);
      return {
        partitionIndex: partition,
        committedOffset: o ? o.offset : -1,
        committedLeaderEpoch: o ? o.leaderEpoch : -1,
        metadata: o ? o.metadata : '',
        errorCode: ErrorCode.NONE,
      };
    };
    if (topics === null) {
      const all = [...(group?.offsets ?? new Map<string, Map<number, CommittedOffset>>())];
      return {
        errorCode: ErrorCode.NONE,
        topics: all.map(([name, parts]) => ({
          name,
          partitions: [...parts.keys()].sort((a, b) => a - b).map((p) => fetched(name, p)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => fetched(t.name, p)),
      })),
    };
  }

  /** OffsetDelete: a top-level error, or one code per requested partition. */
  async deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: number[] }[],
  ): Promise<{ errorCode: number; codes: number[][] }> {
    const group = this.#groups.get(groupId);
    const none = { codes: topics.map((t) => t.partitions.map(() => ErrorCode.NONE)) };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, ...none };
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, ...none };
    if (!group.is('Empty') && group.protocolType !== 'consumer')
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, ...none };
    const records: StoreRecord[] = [];
    const deleted: [string, number][] = [];
    const codes = topics.map((t) => {
      const subscribed = !group.is('Empty') && groupSubscribesTo(group, t.name);
      return t.partitions.map((p) => {
        if (subscribed) return ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        if (group.offset(t.name, p)) {
          records.push({ key: offsetCommitKey(groupId, t.name, p), value: null });
          deleted.push([t.name, p]);
        }
        return ErrorCode.NONE;
      });
    });
    try {
      await this.#store.append(groupId, records);
    } catch (err) {
      this.#log.error({ err, group: groupId }, 'writing offset tombstones failed');
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, ...none };
    }
    for (const [t, p] of deleted) group.setOffset(t, p, null);
    return { errorCode: ErrorCode.NONE, codes };
  }

  // ------------------------------------------------------------------ administration

  describeGroup(groupId: string): GroupDescription {
    const group = this.#groups.get(groupId);
    if (!group)
      return {
        errorCode: ErrorCode.NONE,
        groupId,
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
      };
    // Member metadata and assignments are only meaningful once a protocol is chosen.
    const withData = group.is('Stable') || group.is('CompletingRebalance');
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: withData ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: withData ? group.metadataFor(m) : EMPTY,
        memberAssignment: withData ? m.assignment : EMPTY,
      })),
    };
  }

  /** ListGroups, filtered by state names (case-insensitive, as Kafka) when any are given. */
  listGroups(
    statesFilter: readonly string[],
  ): { groupId: string; protocolType: string; groupState: GroupState }[] {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    return [...this.#groups.values()]
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType ?? '',
        groupState: g.state,
      }));
  }

  /** DeleteGroups for one group. */
  async deleteGroup(groupId: string): Promise<number> {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.#groups.get(groupId);
    if (!group || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    try {
      await this.#removeGroup(group);
    } catch (err) {
      this.#log.error({ err, group: groupId }, 'writing group tombstones failed');
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return ErrorCode.NONE;
  }

  /** Tombstones a group and all its offsets, then forgets it. */
  async #removeGroup(group: ConsumerGroup): Promise<void> {
    const records: StoreRecord[] = [];
    for (const [topic, parts] of group.offsets)
      for (const p of parts.keys())
        records.push({ key: offsetCommitKey(group.groupId, topic, p), value: null });
    records.push({ key: groupMetadataKey(group.groupId), value: null });
    group.transitionTo('Dead');
    this.#rebalancer.clearTimers(group);
    if (this.#groups.get(group.groupId) === group) this.#groups.delete(group.groupId);
    await this.#store.append(group.groupId, records);
  }

  /**
   * Removes offsets past `offsets.retention.minutes`: of an empty group, counted from when it
   * became empty (or the commit, if later); of a group without a protocol (simple commits),
   * from the commit; an explicit expire timestamp (OffsetCommit v2-v4) wins. An empty group
   * left with no offsets is deleted.
   */
  async expireOffsets(now = Date.now()): Promise<number> {
    const retentionMs = this.#config.int('offsets.retention.minutes') * 60000;
    let expired = 0;
    for (const group of [...this.#groups.values()]) {
      if (!group.is('Empty') || group.pendingMembers.size > 0) continue;
      const gone = group.expiredOffsets(now, retentionMs);
      const records: StoreRecord[] = gone.map(([topic, p]) => ({
        key: offsetCommitKey(group.groupId, topic, p),
        value: null,
      }));
      for (const [t, p] of gone) group.setOffset(t, p, null);
      expired += gone.length;
      if (group.offsetCount === 0) {
        this.#log.info(
          { group: group.groupId, expired: gone.length },
          'deleting expired empty group',
        );
        await this.#store.append(group.groupId, records);
        await this.#removeGroup(group);
      } else if (records.length > 0) {
        await this.#store.append(group.groupId, records);
      }
    }
    return expired;
  }

  // ------------------------------------------------------------------ persistence

  #storeGroup(group: ConsumerGroup): Promise<unknown> {
    return this.#store.append(group.groupId, [groupMetadataRecord(group)]);
  }
}
