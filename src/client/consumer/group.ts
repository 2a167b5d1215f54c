/**
 * Classic group membership (JoinGroup / SyncGroup / Heartbeat / LeaveGroup). Heartbeats run on
 * their own timer, independent of the user's processing, so a slow handler never misses the
 * session timeout; processing time is bounded by maxPollIntervalMs instead (the rebalance
 * timeout), as in the Java client.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { DecodeError } from '../../protocol/primitives/index.js';
import type { Cluster } from '../cluster.js';
import type { Connection } from '../connection.js';
import { ConnectionError, TimeoutError } from '../errors.js';
import type { Assignor, AssignorMember } from './assignors.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './consumer-protocol.js';
import { findCoordinator, type TopicPartition } from './offsets.js';

export { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription };

/** What the membership needs from its consumer. */
export interface GroupHost {
  /** Subscribed topics. */
  topics(): string[];
  /** Partitions currently assigned. */
  owned(): TopicPartition[];
  /** Commit before giving partitions up (auto-commit). */
  beforeRevoke(partitions: TopicPartition[]): Promise<void>;
  onAssigned(partitions: TopicPartition[]): Promise<void>;
  onRevoked(partitions: TopicPartition[]): Promise<void>;
  onLost(partitions: TopicPartition[]): Promise<void>;
  /** Wakes a consumer waiting for data (a rebalance needs its attention). */
  wake(): void;
  /** Time of the user's last poll (ms). */
  lastPoll(): number;
}

/** Membership settings. */
export interface GroupOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assignors: Assignor[];
}

const k = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`;
function minus(a: TopicPartition[], b: TopicPartition[]): TopicPartition[] {
  const s = new Set(b.map(k));
  return a.filter((tp) => !s.has(k(tp)));
}

/** One consumer's membership in a group. */
export class GroupMember {
  readonly options: GroupOptions;
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  /** True when the consumer must (re)join before fetching more. */
  needsJoin = true;
  private coordinator: Connection | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatInFlight = false;
  private joining: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly host: GroupHost,
    options: GroupOptions,
  ) {
    this.options = options;
  }

  /** The protocol of the preferred assignor decides whether rebalances are cooperative. */
  get cooperative(): boolean {
    const a =
      this.options.assignors.find((x) => x.name === this.protocolName) ?? this.options.assignors[0];
    return a.rebalanceProtocol === 'cooperative';
  }

  /** A connection to the coordinator (found again after it moved or failed). */
  async coordinatorConnection(): Promise<Connection> {
    if (this.coordinator?.isOpen) return this.coordinator;
    this.coordinator = await findCoordinator(this.cluster, this.options.groupId);
    return this.coordinator;
  }

  private resetCoordinator(): void {
    this.coordinator = undefined;
  }

  /** Joins (or rejoins) when needed; concurrent callers share one join. */
  ensureActive(): Promise<void> {
    if (!this.needsJoin || this.stopped) return Promise.resolve();
    this.joining ??= this.joinLoop().finally(() => {
      this.joining = undefined;
    });
    return this.joining;
  }

  private async joinLoop(): Promise<void> {
    let delay = 100;
    while (this.needsJoin && !this.stopped) {
      try {
        await this.joinOnce();
        delay = 100;
      } catch (err) {
        // A response that does not parse is retried too: librdkafka's mock coordinator answers a
        // refused SyncGroup with a null assignment, which the protocol does not allow.
        const retriable =
          err instanceof DecodeError ||
          err instanceof ConnectionError ||
          err instanceof TimeoutError ||
          (err instanceof KafkaError && (err.retriable || this.rejoinable(err.code)));
        if (!retriable) throw err;
        if (
          err instanceof ConnectionError ||
          (err instanceof KafkaError && this.coordinatorMoved(err.code))
        ) {
          this.resetCoordinator();
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  private coordinatorMoved(code: number): boolean {
    return code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  private rejoinable(code: number): boolean {
    return (
      code === ErrorCode.UNKNOWN_MEMBER_ID ||
      code === ErrorCode.ILLEGAL_GENERATION ||
      code === ErrorCode.REBALANCE_IN_PROGRESS ||
      code === ErrorCode.MEMBER_ID_REQUIRED
    );
  }

  private async joinOnce(): Promise<void> {
    const conn = await this.coordinatorConnection();
    const owned = this.host.owned();
    if (!this.cooperative && owned.length > 0) {
      // Eager protocol: give everything up before joining.
      await this.host.beforeRevoke(owned).catch(() => undefined);
      await this.host.onRevoked(owned);
    }
    const topics = this.host.topics();
    const ownedNow = this.host.owned();
    this.stopHeartbeat();
    const res = await conn.request(
      11,
      {
        groupId: this.options.groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
        protocolType: 'consumer',
        protocols: this.options.assignors.map((a) => ({
          name: a.name,
          metadata: encodeSubscription(
            topics,
            a.rebalanceProtocol === 'cooperative' ? ownedNow : [],
            this.generationId,
          ),
        })),
        reason: null,
      },
      { timeoutMs: this.options.rebalanceTimeoutMs + 5000 },
    );
    if (res.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = res.memberId;
      throw new KafkaError(res.errorCode);
    }
    if (res.errorCode !== 0) {
      if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
      if (res.errorCode === ErrorCode.FENCED_INSTANCE_ID)
        throw new KafkaError(
          res.errorCode,
          `(group instance id "${this.options.groupInstanceId}" is in use by another consumer)`,
        );
      throw new KafkaError(res.errorCode, `(JoinGroup "${this.options.groupId}")`);
    }
    this.memberId = res.memberId;
    const generationId = res.generationId;
    this.protocolName = res.protocolName;
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (res.leader === res.memberId && !res.skipAssignment) {
      assignments = await this.leaderAssign(res.protocolName ?? '', res.members);
    }
    const sync = await conn.request(
      14,
      {
        groupId: this.options.groupId,
        generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
        protocolType: 'consumer',
        protocolName: res.protocolName,
        assignments,
      },
      { timeoutMs: this.options.rebalanceTimeoutMs + 5000 },
    );
    if (sync.errorCode !== 0) {
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
      throw new KafkaError(sync.errorCode, `(SyncGroup "${this.options.groupId}")`);
    }
    this.generationId = generationId;
    const assigned = decodeAssignment(sync.assignment);
    const current = this.host.owned();
    const revoked = minus(current, assigned);
    const added = minus(assigned, current);
    this.needsJoin = false;
    if (revoked.length > 0) {
      await this.host.beforeRevoke(revoked).catch(() => undefined);
      await this.host.onRevoked(revoked);
      // Cooperative: the partitions given up go to their new owners in a follow-up rebalance.
      if (this.cooperative) this.needsJoin = true;
    }
    if (added.length > 0 || current.length === 0) await this.host.onAssigned(added);
    this.startHeartbeat();
  }

  private async leaderAssign(
    protocol: string,
    members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.options.assignors.find((a) => a.name === protocol);
    if (!assignor)
      throw new KafkaError(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        `(the group chose "${protocol}", which this consumer lacks)`,
      );
    const parsed: AssignorMember[] = members.map((m) => {
      const s = decodeSubscription(m.metadata);
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: s.topics,
        owned: s.owned,
        generationId: s.generationId,
      };
    });
    const topics = new Set<string>();
    for (const m of parsed) for (const t of m.topics) topics.add(t);
    await this.cluster.refreshMetadata(topics);
    const counts = new Map<string, number>();
    for (const t of topics) {
      const info = this.cluster.topics.get(t);
      if (info && info.partitions.length > 0) counts.set(t, info.partitions.length);
    }
    const result = assignor.assign(parsed, counts);
    return parsed.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment(result.get(m.memberId) ?? []),
    }));
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private heartbeat(): void {
    if (this.heartbeatInFlight || this.needsJoin || this.stopped) return;
    if (Date.now() - this.host.lastPoll() > this.options.rebalanceTimeoutMs) {
      // The handler has held on to a batch longer than maxPollIntervalMs: leave so the group
      // can move on, as the Java client does; the next poll rejoins.
      this.stopHeartbeat();
      void this.leave('consumer poll timeout has expired (maxPollIntervalMs)').then(() => {
        this.needsJoin = true;
        void this.host.onLost(this.host.owned());
      });
      return;
    }
    this.heartbeatInFlight = true;
    void this.coordinatorConnection()
      .then((conn) =>
        conn.request(12, {
          groupId: this.options.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId,
        }),
      )
      .then(
        (res) => {
          const code = res.errorCode;
          if (code === 0) return;
          if (code === ErrorCode.REBALANCE_IN_PROGRESS) {
            this.requestRejoin();
          } else if (
            code === ErrorCode.UNKNOWN_MEMBER_ID ||
            code === ErrorCode.ILLEGAL_GENERATION ||
            code === ErrorCode.FENCED_INSTANCE_ID
          ) {
            if (code === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
            this.generationId = -1;
            void this.host.onLost(this.host.owned());
            this.requestRejoin();
          } else if (this.coordinatorMoved(code)) {
            this.resetCoordinator();
          }
        },
        () => this.resetCoordinator(),
      )
      .finally(() => {
        this.heartbeatInFlight = false;
      });
  }

  /** Marks the member for a rejoin at the consumer's next poll (and wakes it). */
  requestRejoin(): void {
    this.needsJoin = true;
    this.stopHeartbeat();
    this.host.wake();
  }

  /** Commit identity: generation and member, for OffsetCommit. */
  get commitIdentity(): { generationId: number; memberId: string; groupInstanceId: string | null } {
    return {
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.options.groupInstanceId,
    };
  }

  /**
   * Leaves the group. Static members (groupInstanceId) do not send LeaveGroup on close, so that
   * a restart within the session timeout gets its partitions back without a rebalance.
   */
  async leave(reason = 'the consumer is closing'): Promise<void> {
    this.stopHeartbeat();
    if (!this.memberId || this.options.groupInstanceId !== null) return;
    try {
      const conn = await this.coordinatorConnection();
      const v = conn.versionFor(13);
      await conn.request(
        13,
        v >= 3
          ? {
              groupId: this.options.groupId,
              members: [{ memberId: this.memberId, groupInstanceId: null, reason }],
            }
          : { groupId: this.options.groupId, memberId: this.memberId },
        { timeoutMs: 5000 },
      );
    } catch {
      // Best effort: the session timeout removes the member anyway.
    }
    this.memberId = '';
    this.generationId = -1;
  }

  /** Stops heartbeats for good. */
  async stop(): Promise<void> {
    await this.leave();
    this.stopped = true;
    this.stopHeartbeat();
  }
}
