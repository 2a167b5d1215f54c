/**
 * JoinGroup of the classic group membership protocol: new members (KIP-394 member ids), known
 * members rejoining, and KIP-345 static members replacing their earlier incarnation, each
 * either answered at once or parked until the rebalance (rebalance.ts) completes the join phase.
 * SyncGroup, Heartbeat and LeaveGroup are in membership.ts.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors.js';
import type {
  ConsumerGroup,
  GroupMember,
  JoinResult,
  MemberJoinFields,
  MemberProtocol,
} from './group.js';
import { EMPTY, joinError, type RebalanceHost, type Rebalancer } from './rebalance.js';

/** A JoinGroup request as the coordinator needs it. */
export interface JoinRequest extends MemberJoinFields {
  groupId: string;
  /** KIP-394 (JoinGroup v4+): a member without an id first gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+ understands skipAssignment for a static leader that rejoined. */
  supportsSkipAssignment: boolean;
}

function sameProtocols(a: readonly MemberProtocol[], b: readonly MemberProtocol[]): boolean {
  return (
    a.length === b.length &&
    a.every((p, i) => p.name === b[i].name && p.metadata.equals(b[i].metadata))
  );
}

/** Answers JoinGroup requests, starting rebalances through the {@link Rebalancer}. */
export class JoinRequests {
  readonly #rebalancer: Rebalancer;
  readonly #host: RebalanceHost;

  constructor(rebalancer: Rebalancer, host: RebalanceHost) {
    this.#rebalancer = rebalancer;
    this.#host = host;
  }

  /** JoinGroup for an existing group (the coordinator checked the request itself). */
  join(group: ConsumerGroup, req: JoinRequest): Promise<JoinResult> {
    if (group.is('Dead'))
      return Promise.resolve(joinError(req.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(req.protocolType, req.protocols))
      return Promise.resolve(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    if (req.memberId === '') return this.#joinUnknownMember(group, req);
    return this.#joinKnownMember(group, req);
  }

  #joinUnknownMember(group: ConsumerGroup, req: JoinRequest): Promise<JoinResult> {
    const memberId = `${req.clientId}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      const oldId = group.staticMembers.get(req.groupInstanceId);
      if (oldId !== undefined && group.members.has(oldId))
        return this.#replaceStaticMember(group, req, oldId, memberId);
      return this.#addMemberAndRebalance(group, req, memberId);
    }
    if (req.requireKnownMemberId) {
      // KIP-394: hand out the id and wait for the member to come back with it, so that a client
      // that never does leaves no member behind (only a pending id, dropped after its session).
      const timer = setTimeout(() => {
        group.pendingMembers.delete(memberId);
        if (group.is('PreparingRebalance')) this.#rebalancer.tryCompleteJoin(group);
      }, req.sessionTimeoutMs);
      group.pendingMembers.set(memberId, timer);
      return Promise.resolve(joinError(memberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    return this.#addMemberAndRebalance(group, req, memberId);
  }

  #joinKnownMember(group: ConsumerGroup, req: JoinRequest): Promise<JoinResult> {
    const pending = group.pendingMembers.get(req.memberId);
    if (pending !== undefined) {
      clearTimeout(pending);
      group.pendingMembers.delete(req.memberId);
      return this.#addMemberAndRebalance(group, req, req.memberId);
    }
    if (group.isFenced(req.memberId, req.groupInstanceId))
      return Promise.resolve(joinError(req.memberId, ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(req.memberId);
    if (!member || group.is('Empty'))
      return Promise.resolve(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    switch (group.state) {
      case 'PreparingRebalance':
        return this.#updateMemberAndRebalance(group, member, req);
      case 'CompletingRebalance':
        // The join response was lost: the member is already in this generation.
        if (sameProtocols(member.protocols, req.protocols))
          return Promise.resolve(this.#rebalancer.joinResponse(group, member, false));
        return this.#updateMemberAndRebalance(group, member, req);
      default:
        // Stable: a rejoin of the leader, or with new protocols, starts a rebalance.
        if (member.memberId === group.leaderId || !sameProtocols(member.protocols, req.protocols))
          return this.#updateMemberAndRebalance(group, member, req);
        this.#rebalancer.resetSession(group, member);
        return Promise.resolve(this.#rebalancer.joinResponse(group, member, false));
    }
  }

  /** KIP-345: a static member restarted (new member id, same instance id). */
  #replaceStaticMember(
    group: ConsumerGroup,
    req: JoinRequest,
    oldId: string,
    newId: string,
  ): Promise<JoinResult> {
    const old = group.members.get(oldId) as GroupMember;
    // Fence the old incarnation's waiting calls.
    old.awaitingJoin?.(joinError(oldId, ErrorCode.FENCED_INSTANCE_ID));
    old.awaitingJoin = undefined;
    old.awaitingSync?.({ errorCode: ErrorCode.FENCED_INSTANCE_ID, assignment: EMPTY });
    old.awaitingSync = undefined;
    clearTimeout(old.sessionTimer);
    group.members.delete(oldId);
    const member: GroupMember = {
      ...old,
      memberId: newId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimer: undefined,
    };
    group.members.set(newId, member);
    group.staticMembers.set(req.groupInstanceId as string, newId);
    if (group.leaderId === oldId) group.leaderId = newId;
    if (group.is('Stable') && sameProtocols(old.protocols, req.protocols)) {
      // Same subscription within the session timeout: no rebalance, the old assignment stays.
      this.#host.log.info(
        { group: group.groupId, instance: req.groupInstanceId },
        'static member rejoined',
      );
      this.#rebalancer.resetSession(group, member);
      const result = this.#rebalancer.joinResponse(group, member, req.supportsSkipAssignment);
      return this.#host.storeGroup(group).then(
        () => result,
        () => joinError(newId, ErrorCode.UNKNOWN_SERVER_ERROR),
      );
    }
    return this.#updateMemberAndRebalance(group, member, req);
  }

  #addMemberAndRebalance(
    group: ConsumerGroup,
    req: JoinRequest,
    memberId: string,
  ): Promise<JoinResult> {
    if (group.members.size === 0) group.protocolType = req.protocolType;
    const member: GroupMember = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY,
      awaitingJoin: undefined,
      awaitingSync: undefined,
      isNew: true,
      sessionTimer: undefined,
    };
    group.members.set(memberId, member);
    if (req.groupInstanceId !== null) group.staticMembers.set(req.groupInstanceId, memberId);
    if (group.initialDelay) group.initialDelay.newMemberAdded = true;
    const joined = new Promise<JoinResult>((resolve) => {
      member.awaitingJoin = resolve;
    });
    this.#maybePrepareRebalance(group, `member ${memberId} joined`);
    this.#rebalancer.tryCompleteJoin(group);
    return joined;
  }

  #updateMemberAndRebalance(
    group: ConsumerGroup,
    member: GroupMember,
    req: JoinRequest,
  ): Promise<JoinResult> {
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    // A second JoinGroup from the same member replaces the first (whose client gave up on it).
    member.awaitingJoin?.(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    const joined = new Promise<JoinResult>((resolve) => {
      member.awaitingJoin = resolve;
    });
    this.#maybePrepareRebalance(group, `member ${member.memberId} rejoined`);
    this.#rebalancer.tryCompleteJoin(group);
    return joined;
  }

  #maybePrepareRebalance(group: ConsumerGroup, reason: string): void {
    if (group.is('Stable') || group.is('CompletingRebalance') || group.is('Empty'))
      this.#rebalancer.prepareRebalance(group, reason);
  }
}
