import { ErrorCode } from '../../protocol/errors.js';
import type { OffsetCommitResponseOffsetCommitResponseTopic } from '../../protocol/generated/index.js';
import { noteError } from './partition-results.js';
import { specHandler } from './spec-handler.js';

/**
 * OffsetCommit: group members commit for their generation; generation -1 with no member id is a
 * simple (non-group) commit. v10 names topics by id.
 */
export const offsetCommitHandler = specHandler(8, {
  minVersion: 2,
  maxVersion: 10,
  async handle(req, ctx) {
    const version = ctx.header.apiVersion;
    const topics = ctx.broker.topics;
    // Topics named by an unknown id are answered UNKNOWN_TOPIC_ID and left out of the commit.
    const known = req.topics.map((t) => (version >= 10 ? topics.byId(t.topicId)?.name : t.name));
    const codes = await ctx.broker.groups.commitOffsets({
      groupId: req.groupId,
      generationId: req.generationIdOrMemberEpoch,
      memberId: req.memberId,
      groupInstanceId: version >= 7 ? req.groupInstanceId : null,
      retentionTimeMs: version <= 4 ? Number(req.retentionTimeMs) : -1,
      topics: req.topics.flatMap((t, i) => {
        const name = known[i];
        if (name === undefined) return [];
        return [
          {
            name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              committedOffset: Number(p.committedOffset),
              committedLeaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
              committedMetadata: p.committedMetadata,
            })),
          },
        ];
      }),
    });
    let k = 0;
    const out: OffsetCommitResponseOffsetCommitResponseTopic[] = req.topics.map((t, i) => {
      const topicCodes =
        known[i] === undefined ? t.partitions.map(() => ErrorCode.UNKNOWN_TOPIC_ID) : codes[k++];
      return {
        ...(version >= 10 ? { topicId: t.topicId } : { name: t.name }),
        partitions: t.partitions.map((p, j) => {
          noteError(ctx, topicCodes[j]);
          return { partitionIndex: p.partitionIndex, errorCode: topicCodes[j] };
        }),
      };
    });
    return { throttleTimeMs: 0, topics: out };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      })),
    };
  },
});
