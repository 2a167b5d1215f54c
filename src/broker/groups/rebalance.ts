/**
 * The rebalance state machine of the classic group protocol, following Kafka's
 * GroupCoordinator: Empty → PreparingRebalance → CompletingRebalance → Stable, with generations,
 * protocol selection, rebalance and session timeouts, the initial rebalance delay, and member
 * removal. The requests that drive it are in join-group.ts (JoinGroup) and membership.ts
 * (SyncGroup, Heartbeat, LeaveGroup).
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import type { ConsumerGroup, GroupMember, JoinResult } from './group.js';

/** JoinGroup's request type, also importable from here (where it lived before join-group.ts). */
export type { JoinRequest } from './join-group.js';

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

/** Drives one coordinator's groups through rebalances. Timers are cleared by {@link clearTimers}. */
export class Rebalancer {
  readonly #host: RebalanceHost;

  constructor(host: RebalanceHost) {
    this.#host = host;
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
      reply?.(this.joinResponse(group, m, false));
    }
  }

  /** The JoinGroup answer for `member` in the current generation (members listed to the leader). */
  joinResponse(group: ConsumerGroup, member: GroupMember, skipAssignment: boolean): JoinResult {
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
