/**
 * Classic group membership (JoinGroup / SyncGroup / Heartbeat / LeaveGroup). Heartbeats run on
 * their own timer, independent of the user's processing, so a slow handler never misses the
 * session timeout; processing time is bounded by maxPollIntervalMs instead (the rebalance
 * timeout), as in the Java client. A member the coordinator no longer knows in its generation
 * gives its assignment up as lost (see fencing.ts).
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
import { type ConsumerGroupMetadata, CommitFailedError, isMembershipLost } from './fencing.js';
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
  /**
   * When the last heartbeat (or SyncGroup, or commit) that the coordinator accepted was sent: the
   * coordinator's session timer for this member restarted no earlier than that.
   */
  private confirmedAt = 0;
  /** The onLost callback under way; the next join waits for it (and reports its failure). */
  private losing: Promise<void> | undefined;
  /** Set once another consumer took over this member's group instance id: fatal, as in Kafka. */
  private fenced: KafkaError | undefined;

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
    if (this.fenced) return Promise.reject(this.fenced);
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
    await this.settleLost();
    const conn = await this.coordinatorConnection();
    // Kafka's onJoinPrepare: a member whose identity was reset (removed from the group, or its
    // generation refused) owns nothing any more. Its partitions are lost, not revoked: revoking
    // would commit them under the new generation, over what their new owner has committed.
    if (this.generationId < 0 || this.memberId === '') {
      this.giveUpAsLost();
      await this.settleLost();
    }
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
    const syncSentAt = Date.now();
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
    this.confirmedAt = syncSentAt;
    const assigned = decodeAssignment(sync.assignment);
    const current = this.host.owned();
    const revoked = minus(current, assigned);
    const added = minus(assigned, current);
    this.needsJoin = false;
    // Heartbeats from now on, while the listeners run: a listener that takes long (closing tasks,
    // waiting for a commit) must not cost this new membership its session, as in Java's client.
    this.startHeartbeat();
    if (revoked.length > 0) {
      await this.host.beforeRevoke(revoked).catch(() => undefined);
      await this.host.onRevoked(revoked);
      // Cooperative: the partitions given up go to their new owners in a follow-up rebalance.
      if (this.cooperative) this.needsJoin = true;
    }
    if (added.length > 0 || current.length === 0) await this.host.onAssigned(added);
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
        this.giveUpAsLost();
        this.requestRejoin();
      });
      return;
    }
    this.heartbeatInFlight = true;
    void this.sendHeartbeat().finally(() => {
      this.heartbeatInFlight = false;
    });
  }

  /**
   * One Heartbeat, acted upon: true when the coordinator accepted it. A refusal of this member's
   * identity gives the assignment up as lost; connection failures only reset the coordinator.
   */
  private async sendHeartbeat(): Promise<boolean> {
    const { generationId, memberId } = this;
    const sentAt = Date.now();
    let code: number;
    try {
      const conn = await this.coordinatorConnection();
      const res = await conn.request(12, {
        groupId: this.options.groupId,
        generationId,
        memberId,
        groupInstanceId: this.options.groupInstanceId,
      });
      code = res.errorCode;
    } catch {
      this.resetCoordinator();
      return false;
    }
    // The answer is about an identity the member has replaced since (it rejoined meanwhile).
    if (generationId !== this.generationId || memberId !== this.memberId) return false;
    if (code === 0) {
      this.confirm(sentAt);
      return true;
    }
    if (code === ErrorCode.REBALANCE_IN_PROGRESS) this.requestRejoin();
    else if (isMembershipLost(code)) this.markLost(code, 'Heartbeat');
    else if (this.coordinatorMoved(code)) this.resetCoordinator();
    return false;
  }

  private confirm(sentAt: number): void {
    if (sentAt > this.confirmedAt) this.confirmedAt = sentAt;
  }

  /**
   * Whether the coordinator may have expired this member's session: no request it accepted was
   * sent within the session timeout (the process was stopped or starved, or the coordinator was
   * out of reach). Such a member cannot know whether it still owns its partitions.
   */
  get sessionInDoubt(): boolean {
    return (
      !this.needsJoin &&
      this.generationId >= 0 &&
      Date.now() - this.confirmedAt > this.options.sessionTimeoutMs
    );
  }

  /**
   * Asks the coordinator now (a Heartbeat) whether this member is still in its generation: true
   * if so. A refusal gives the assignment up as lost and asks for a rejoin; no answer leaves the
   * question open for the next call.
   */
  confirmMembership(): Promise<boolean> {
    return this.sendHeartbeat();
  }

  /**
   * The coordinator refused this member's identity (`code`, one of {@link isMembershipLost}'s):
   * resets the identity as Kafka does for that code, gives the whole assignment up as lost and
   * asks for a rejoin at the next poll (or, for FENCED_INSTANCE_ID, fails every later poll).
   */
  markLost(code: number, what: string): void {
    if (code !== ErrorCode.ILLEGAL_GENERATION) this.memberId = '';
    this.generationId = -1;
    if (code === ErrorCode.FENCED_INSTANCE_ID) {
      this.fenced = new KafkaError(
        code,
        `(${what} for group "${this.options.groupId}": group instance id "${this.options.groupInstanceId}" is now used by another consumer; this one gave its partitions up and must be closed — give every consumer its own groupInstanceId)`,
      );
    }
    this.giveUpAsLost();
    this.requestRejoin();
  }

  /** Calls onLost for everything owned (which drops it at once); the next join waits for it. */
  private giveUpAsLost(): void {
    const owned = this.host.owned();
    if (owned.length === 0) return;
    const previous = this.losing;
    const lost = this.host.onLost(owned);
    const losing = previous === undefined ? lost : previous.then(() => lost);
    // Observed here so that a failing listener is no unhandled rejection; the next join reports it.
    losing.catch(() => {});
    this.losing = losing;
  }

  private async settleLost(): Promise<void> {
    const losing = this.losing;
    this.losing = undefined;
    await losing;
  }

  /**
   * Acts on a refused OffsetCommit sent as `identity` as Kafka's consumer does, and returns the
   * error for the committer. UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION and FENCED_INSTANCE_ID of the
   * member's current identity lose the assignment; of an older identity (the member has rejoined
   * since) they only fail that commit. REBALANCE_IN_PROGRESS loses nothing: the next poll
   * rejoins.
   */
  commitRefused(error: KafkaError, identity: ConsumerGroupMetadata): KafkaError {
    const current =
      identity.generationId === this.generationId && identity.memberId === this.memberId;
    if (error.code === ErrorCode.REBALANCE_IN_PROGRESS) {
      if (current) this.requestRejoin();
      return error;
    }
    if (!isMembershipLost(error.code)) return error;
    if (current) this.markLost(error.code, 'OffsetCommit');
    // Lost now, or by a refusal whose answer overtook this one (a heartbeat's); a member that has
    // rejoined since keeps what it owns now.
    const lost = current || this.generationId < 0;
    return new CommitFailedError(error.code, this.options.groupId, identity, lost);
  }

  /** An OffsetCommit sent as `identity` at `sentAt` was accepted: the session is alive. */
  commitAccepted(identity: ConsumerGroupMetadata, sentAt: number): void {
    if (identity.generationId === this.generationId && identity.memberId === this.memberId)
      this.confirm(sentAt);
  }

  /** Marks the member for a rejoin at the consumer's next poll (and wakes it). */
  requestRejoin(): void {
    this.needsJoin = true;
    this.stopHeartbeat();
    this.host.wake();
  }

  /** Commit identity: generation and member, for OffsetCommit. */
  get commitIdentity(): ConsumerGroupMetadata {
    return {
      groupId: this.options.groupId,
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
