/**
 * The group coordinator of a single-node broker: owns every classic consumer group and its
 * committed offsets, persists both to `__consumer_offsets` and replays them on startup, expires
 * offsets of empty groups, and answers the group APIs (the handlers are thin wrappers over this).
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import type { BrokerConfig } from '../config.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { ConsumerGroup, type GroupState, type JoinResult, type SyncResult } from './group.js';
import { type JoinRequest, JoinRequests } from './join-group.js';
import { MemberRequests, type SyncRequest } from './membership.js';
import { type FetchResult, type OffsetCommitRequestData, OffsetRequests } from './offsets.js';
import { applyOffsetsRecord, groupMetadataRecord } from './persisted-state.js';
import { EMPTY, joinError, Rebalancer } from './rebalance.js';
import { groupMetadataKey, offsetCommitKey } from './records.js';
import { OffsetsTopicStore, type ReplayStats, type StoreRecord } from './store.js';

export type {
  FetchedOffset,
  FetchResult,
  OffsetCommitPartition,
  OffsetCommitRequestData,
} from './offsets.js';

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

export class GroupCoordinator {
  readonly #groups = new Map<string, ConsumerGroup>();
  readonly #store: OffsetsTopicStore;
  readonly #rebalancer: Rebalancer;
  readonly #joins: JoinRequests;
  readonly #members: MemberRequests;
  readonly #offsets: OffsetRequests;
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
    this.#joins = new JoinRequests(this.#rebalancer, host);
    this.#members = new MemberRequests(this.#rebalancer, host);
    this.#offsets = new OffsetRequests({
      groups: this.#groups,
      store: this.#store,
      config,
      log,
      getOrCreate: (groupId) => this.#getOrCreate(groupId),
      touch: (group, memberId) => this.#members.touch(group, memberId),
      removeGroup: (group) => this.#removeGroup(group),
    });
  }

  /** Replays `__consumer_offsets` and starts the offset expiry timer. */
  start(expiryIntervalMs = this.#config.int('offsets.retention.check.interval.ms')): ReplayStats {
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
      Promise.resolve(joinError(req.memberId, errorCode));
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
    return this.#joins.join(group, req);
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

  /** OffsetCommit: error codes in the request's topic/partition order. */
  async commitOffsets(req: OffsetCommitRequestData): Promise<number[][]> {
    if (this.#closed)
      return req.topics.map((t) => t.partitions.map(() => ErrorCode.COORDINATOR_NOT_AVAILABLE));
    return this.#offsets.commit(req);
  }

  /**
   * OffsetFetch for one group: the requested partitions (offset -1 where none is committed), or
   * every committed partition when `topics` is null.
   */
  fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
  ): FetchResult {
    if (this.#closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: [] };
    return this.#offsets.fetch(groupId, topics);
  }

  /** OffsetDelete: a top-level error, or one code per requested partition. */
  deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: number[] }[],
  ): Promise<{ errorCode: number; codes: number[][] }> {
    return this.#offsets.delete(groupId, topics);
  }

  /**
   * Removes offsets past `offsets.retention.minutes` (see {@link OffsetRequests.expire}); an
   * empty group left with no offsets is deleted. Returns how many offsets expired.
   */
  expireOffsets(now = Date.now()): Promise<number> {
    return this.#offsets.expire(now);
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

  // ------------------------------------------------------------------ persistence

  #storeGroup(group: ConsumerGroup): Promise<unknown> {
    return this.#store.append(group.groupId, [groupMetadataRecord(group)]);
  }
}
