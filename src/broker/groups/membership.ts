/**
 * SyncGroup, Heartbeat and LeaveGroup of the classic group protocol: the leader's assignment
 * completing a generation, heartbeats keeping sessions alive (and telling members to rejoin), and
 * members leaving (by member id, or by group instance id for static members).
 */
import { ErrorCode } from '../../protocol/errors.js';
import type { ConsumerGroup, GroupMember, SyncResult } from './group.js';
import { EMPTY, joinError, type RebalanceHost, type Rebalancer } from './rebalance.js';

/** A SyncGroup request as the coordinator needs it. */
export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export class MemberRequests {
  readonly #rebalancer: Rebalancer;
  readonly #host: RebalanceHost;

  constructor(rebalancer: Rebalancer, host: RebalanceHost) {
    this.#rebalancer = rebalancer;
    this.#host = host;
  }

  // ------------------------------------------------------------------ SyncGroup

  sync(group: ConsumerGroup | undefined, req: SyncRequest): Promise<SyncResult> {
    const fail = (errorCode: number) => Promise.resolve({ errorCode, assignment: EMPTY });
    if (!group || group.is('Dead')) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.isFenced(req.memberId, req.groupInstanceId))
      return fail(ErrorCode.FENCED_INSTANCE_ID);
    const member = group.members.get(req.memberId);
    if (!member) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (req.generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocolName)
    )
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    switch (group.state) {
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.#rebalancer.resetSession(group, member);
        return Promise.resolve({ errorCode: ErrorCode.NONE, assignment: member.assignment });
      case 'CompletingRebalance':
        break;
      default:
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    }
    this.#rebalancer.resetSession(group, member);
    member.awaitingSync?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
    const synced = new Promise<SyncResult>((resolve) => {
      member.awaitingSync = resolve;
    });
    if (member.memberId === group.leaderId) {
      const byMember = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      const generation = group.generationId;
      for (const m of group.members.values())
        m.assignment = Buffer.from(byMember.get(m.memberId) ?? EMPTY);
      this.#host.storeGroup(group).then(
        () => {
          if (!group.is('CompletingRebalance') || group.generationId !== generation) return;
          group.transitionTo('Stable');
          this.#host.log.info({ group: group.groupId, generation }, 'group is stable');
          for (const m of group.members.values()) {
            m.awaitingSync?.({ errorCode: ErrorCode.NONE, assignment: m.assignment });
            m.awaitingSync = undefined;
          }
        },
        (err: Error) => {
          this.#host.log.error(
            { err, group: group.groupId },
            'storing the group assignment failed',
          );
          if (!group.is('CompletingRebalance') || group.generationId !== generation) return;
          // Kafka's answer when the write fails: rebalance again.
          for (const m of group.members.values()) {
            m.awaitingSync?.({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, assignment: EMPTY });
            m.awaitingSync = undefined;
          }
          this.#rebalancer.prepareRebalance(group, 'storing the assignment failed');
        },
      );
    }
    return synced;
  }

  // ------------------------------------------------------------------ Heartbeat

  heartbeat(
    group: ConsumerGroup | undefined,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    if (!group || group.is('Dead') || group.is('Empty')) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.isFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.#rebalancer.resetSession(group, member);
    return group.is('PreparingRebalance') ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** Heartbeat-equivalent activity (an offset commit) keeps a member alive. */
  touch(group: ConsumerGroup, memberId: string): void {
    const m = group.members.get(memberId);
    if (m) this.#rebalancer.resetSession(group, m);
  }

  // ------------------------------------------------------------------ LeaveGroup

  /** Removes one leaving member; returns its error code. */
  leave(
    group: ConsumerGroup | undefined,
    memberId: string,
    groupInstanceId: string | null,
  ): number {
    if (!group || group.is('Dead')) return ErrorCode.UNKNOWN_MEMBER_ID;
    let member: GroupMember | undefined;
    if (groupInstanceId !== null) {
      const current = group.staticMembers.get(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (memberId !== '' && memberId !== current) return ErrorCode.FENCED_INSTANCE_ID;
      member = group.members.get(current);
    } else {
      const pending = group.pendingMembers.get(memberId);
      if (pending !== undefined) {
        clearTimeout(pending);
        group.pendingMembers.delete(memberId);
        this.#rebalancer.tryCompleteJoin(group);
        return ErrorCode.NONE;
      }
      member = group.members.get(memberId);
    }
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    member.awaitingJoin?.(joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    member.awaitingJoin = undefined;
    this.#rebalancer.removeMemberAndUpdate(group, member, 'left the group');
    return ErrorCode.NONE;
  }
}
