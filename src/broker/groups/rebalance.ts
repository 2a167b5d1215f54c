/**
 * The join side of the classic group membership protocol (JoinGroup; SyncGroup, Heartbeat and
 * LeaveGroup are in membership.ts) and the rebalance state machine: Empty → PreparingRebalance → CompletingRebalance → Stable, with
 * generations, protocol selection, rebalance and session timeouts, the initial rebalance delay,
 * KIP-394 member ids and KIP-345 static membership, following Kafka's GroupCoordinator.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import type {
  ConsumerGroup,
  GroupMember,
  JoinResult,
  MemberJoinFields,
  MemberProtocol,
} from './group.js';

/** A JoinGroup request as the coordinator needs it. */
export interface JoinRequest extends MemberJoinFields {
  groupId: string;
  /** KIP-394 (JoinGroup v4+): a member without an id first gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+ understands skipAssignment for a static leader that rejoined. */
  supportsSkipAssignment: boolean;
}

/** What the rebalance logic needs from the coordinator around it. */
export interface RebalanceHost {
  readonly log: Logger;
  readonly initialRebalanceDelayMs: number;
  /** Persists the group's metadata (generation, members, assignments). */
  storeGroup(group: ConsumerGroup): Promise<unknown>;
}

export const EMPTY = Buffer.alloc(0);

export function joinError(memberId: string, errorCode: number): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    skipAssignment: false,
    members: [],
  };
}

function sameProtocols(a: readonly MemberProtocol[], b: readonly MemberProtocol[]): boolean {
  return (
    a.length === b.length &&
    a.every((p, i) => p.name === b[i].name && p.metadata.equals(b[i].metadata))
  );
}

/** Drives one coordinator's groups through rebalances. Timers are cleared by {@link shutdown}. */
export class Rebalancer {
  readonly #host: RebalanceHost;

  constructor(host: RebalanceHost) {
    this.#host = host;
  }

  // ------------------------------------------------------------------ JoinGroup

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
        if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
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
          return Promise.resolve(this.#joinResponse(group, member, false));
        return this.#updateMemberAndRebalance(group, member, req);
      default:
        // Stable: a rejoin of the leader, or with new protocols, starts a rebalance.
        if (member.memberId === group.leaderId || !sameProtocols(member.protocols, req.protocols))
          return this.#updateMemberAndRebalance(group, member, req);
        this.resetSession(group, member);
        return Promise.resolve(this.#joinResponse(group, member, false));
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
      this.resetSession(group, member);
      const result = this.#joinResponse(group, member, req.supportsSkipAssignment);
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
    this.tryCompleteJoin(group);
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
    this.tryCompleteJoin(group);
    return joined;
  }

  #maybePrepareRebalance(group: ConsumerGroup, reason: string): void {
    if (group.is('Stable') || group.is('CompletingRebalance') || group.is('Empty'))
      this.prepareRebalance(group, reason);
  }

  /** Starts a rebalance: everyone must rejoin (used by SyncGroup/LeaveGroup handling too). */
  prepareRebalance(group: ConsumerGroup, reason: string): void {
    if (group.is('CompletingRebalance')) {
      // The leader's assignment for this generation will not come: everyone rejoins.
      for (const m of group.members.values()) {
        m.assignment = EMPTY;
        m.awaitingSync?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
        m.awaitingSync = undefined;
      }
    }
    const fromEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance');
    clearTimeout(group.joinTimer);
    const timeout = group.rebalanceTimeoutMs();
    this.#host.log.info(
      { group: group.groupId, generation: group.generationId, reason },
      'preparing to rebalance group',
    );
    if (fromEmpty && this.#host.initialRebalanceDelayMs > 0) {
      // group.initial.rebalance.delay.ms: wait for more members of a starting group before the
      // first generation, extending while members keep arriving, up to the rebalance timeout.
      const delay = Math.min(this.#host.initialRebalanceDelayMs, timeout);
      group.initialDelay = { remainingMs: timeout - delay, newMemberAdded: false };
      this.#scheduleInitialDelay(group, delay);
      return;
    }
    group.initialDelay = undefined;
    group.joinTimer = setTimeout(() => this.#completeJoin(group), timeout);
  }

  #scheduleInitialDelay(group: ConsumerGroup, delay: number): void {
    group.joinTimer = setTimeout(() => {
      const d = group.initialDelay;
      if (d?.newMemberAdded && d.remainingMs > 0) {
        const next = Math.min(this.#host.initialRebalanceDelayMs, d.remainingMs);
        group.initialDelay = { remainingMs: d.remainingMs - next, newMemberAdded: false };
        this.#scheduleInitialDelay(group, next);
        return;
      }
      group.initialDelay = undefined;
      this.#completeJoin(group);
    }, delay);
  }

  /** Ends the join phase now if every member has rejoined. */
  tryCompleteJoin(group: ConsumerGroup): void {
    if (group.is('PreparingRebalance') && !group.initialDelay && group.allMembersJoined())
      this.#completeJoin(group);
  }

  /** Ends the join phase: drops members that did not rejoin and starts the next generation. */
  #completeJoin(group: ConsumerGroup): void {
    if (!group.is('PreparingRebalance')) return;
    clearTimeout(group.joinTimer);
    group.joinTimer = undefined;
    group.initialDelay = undefined;
    for (const m of [...group.members.values()]) {
      if (!m.awaitingJoin) this.#removeMember(group, m, 'did not rejoin in time');
    }
    for (const t of group.pendingMembers.values()) clearTimeout(t);
    group.pendingMembers.clear();
    group.generationId++;
    if (group.members.size === 0) {
      group.transitionTo('Empty');
      group.protocolName = null;
      group.leaderId = null;
      this.#host.log.info(
        { group: group.groupId, generation: group.generationId },
        'group is empty',
      );
      this.#host.storeGroup(group).catch(() => undefined);
      return;
    }
    group.protocolName = group.selectProtocol();
    if (group.leaderId === null || !group.members.has(group.leaderId))
      group.leaderId = group.members.keys().next().value as string;
    group.transitionTo('CompletingRebalance');
    this.#host.log.info(
      {
        group: group.groupId,
        generation: group.generationId,
        protocol: group.protocolName,
        members: group.members.size,
      },
      'group rebalanced; waiting for the leader to assign',
    );
    for (const m of group.members.values()) {
      const reply = m.awaitingJoin;
      m.awaitingJoin = undefined;
      m.isNew = false;
      this.resetSession(group, m);
      reply?.(this.#joinResponse(group, m, false));
    }
  }

  #joinResponse(group: ConsumerGroup, member: GroupMember, skipAssignment: boolean): JoinResult {
    const isLeader = member.memberId === group.leaderId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: isLeader && skipAssignment,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: group.metadataFor(m),
          }))
        : [],
    };
  }

  // ------------------------------------------------------------------ timeouts and removal

  /** (Re)starts a member's session timer. */
  resetSession(group: ConsumerGroup, member: GroupMember): void {
    clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(
      () => this.#sessionExpired(group, member),
      member.sessionTimeoutMs,
    );
  }

  #sessionExpired(group: ConsumerGroup, member: GroupMember): void {
    member.sessionTimer = undefined;
    if (group.members.get(member.memberId) !== member) return;
    // A member waiting in JoinGroup is alive; the rebalance timeout decides about it.
    if (member.awaitingJoin) return;
    this.removeMemberAndUpdate(group, member, 'session timed out');
  }

  #removeMember(group: ConsumerGroup, member: GroupMember, why: string): void {
    clearTimeout(member.sessionTimer);
    member.sessionTimer = undefined;
    member.awaitingSync?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
    member.awaitingSync = undefined;
    group.members.delete(member.memberId);
    if (
      member.groupInstanceId !== null &&
      group.staticMembers.get(member.groupInstanceId) === member.memberId
    )
      group.staticMembers.delete(member.groupInstanceId);
    if (group.leaderId === member.memberId)
      group.leaderId = group.members.keys().next().value ?? null;
    this.#host.log.info(
      { group: group.groupId, member: member.memberId, why },
      'member removed from group',
    );
  }

  /** Removes a member and moves the group on (rebalance, or finish a waiting join phase). */
  removeMemberAndUpdate(group: ConsumerGroup, member: GroupMember, why: string): void {
    this.#removeMember(group, member, why);
    if (group.is('Stable') || group.is('CompletingRebalance')) this.prepareRebalance(group, why);
    else if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  /** Empties a group being deleted or a coordinator shutting down: clears every timer. */
  clearTimers(group: ConsumerGroup): void {
    clearTimeout(group.joinTimer);
    group.joinTimer = undefined;
    for (const t of group.pendingMembers.values()) clearTimeout(t);
    group.pendingMembers.clear();
    for (const m of group.members.values()) {
      clearTimeout(m.sessionTimer);
      m.sessionTimer = undefined;
      m.awaitingJoin?.(joinError(m.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      m.awaitingJoin = undefined;
      m.awaitingSync?.({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, assignment: EMPTY });
      m.awaitingSync = undefined;
    }
  }

  /** After a restart: the members read back from `__consumer_offsets` must heartbeat again. */
  startSessions(group: ConsumerGroup): void {
    for (const m of group.members.values()) this.resetSession(group, m);
  }
}
