/**
 * What a group member does when the coordinator says it is no longer part of the group it thinks
 * it is in (a "zombie": paused past its session timeout, or replaced by another instance), and
 * the typed errors a caller sees.
 *
 * Kafka's rules, per error code of a commit or heartbeat sent with the member's current identity:
 * - UNKNOWN_MEMBER_ID: the member was removed. Member id and generation are reset, the assignment
 *   is lost (onLost, never onRevoked: its offsets can no longer be committed), and the consumer
 *   joins again as a new member at its next poll.
 * - ILLEGAL_GENERATION: the member id may still be valid but the generation moved on. Only the
 *   generation is reset; the assignment is lost and the consumer rejoins with its member id.
 * - FENCED_INSTANCE_ID: another consumer registered the same group instance id (KIP-345). The
 *   assignment is lost and the consumer stops: rejoining would fence the other instance in turn.
 * - REBALANCE_IN_PROGRESS (commit only): the member is valid but the group is between generations.
 *   Nothing is lost; the consumer rejoins at its next poll and the commit may be retried after.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';

/**
 * A member's identity for a commit, as Kafka's `ConsumerGroupMetadata`: a commit sent with an
 * identity taken earlier is refused by the coordinator once the group has moved past it.
 */
export interface ConsumerGroupMetadata {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

/** Whether `code` says the member is no longer in the generation it used. */
export function isMembershipLost(code: number): boolean {
  return (
    code === ErrorCode.UNKNOWN_MEMBER_ID ||
    code === ErrorCode.ILLEGAL_GENERATION ||
    code === ErrorCode.FENCED_INSTANCE_ID
  );
}

/**
 * An OffsetCommit the coordinator refused because the committing member is not (or no longer)
 * in the group's current generation. The commit cannot be retried as it was: the partitions may
 * already belong to another member, which resumes from the previous commit. `code` is the
 * broker's error code (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION or FENCED_INSTANCE_ID).
 */
export class CommitFailedError extends KafkaError {
  override readonly name = 'CommitFailedError';
  /**
   * True when the refusal concerned the consumer's current identity, so its whole assignment was
   * given up (onLost); false when the commit carried an older identity (the consumer had already
   * rejoined), which leaves the current assignment alone.
   */
  readonly assignmentLost: boolean;

  constructor(code: number, groupId: string, identity: ConsumerGroupMetadata, lost: boolean) {
    const who = `member "${identity.memberId}" of generation ${identity.generationId}`;
    const next = lost
      ? code === ErrorCode.FENCED_INSTANCE_ID
        ? `another consumer uses group instance id "${identity.groupInstanceId}"; this consumer gave up its partitions (onLost) and must be closed`
        : 'the consumer gave up its partitions (onLost) and rejoins the group at its next poll; their new owners resume from the last successful commit, so records processed since then will be processed again'
      : 'the consumer has rejoined since; the partitions it owns now are unaffected, commit their offsets again';
    super(
      code,
      `(OffsetCommit for group "${groupId}" by ${who}): the group has moved on without this commit, whose partitions may already belong to another member; ${next}`,
    );
    this.assignmentLost = lost;
  }
}
