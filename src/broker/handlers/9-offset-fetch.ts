import { ErrorCode } from '../../protocol/errors.js';
import type { OffsetFetchResponse } from '../../protocol/generated/index.js';
import type { FetchedOffset } from '../groups/coordinator.js';
import { specHandler } from './spec-handler.js';
import type { RequestContext } from './types.js';

interface GroupQuery {
  groupId: string;
  /** null: every committed partition. */
  topics: { name?: string; topicId?: string; partitionIndexes: number[] }[] | null;
}

/** One group's answer; topics by id (v10) are resolved to names and back. */
function fetchGroup(ctx: RequestContext, q: GroupQuery, byId: boolean) {
  const topics = ctx.broker.topics;
  const named =
    q.topics === null
      ? null
      : q.topics.map((t) => ({
          name: (byId ? topics.byId(t.topicId ?? '')?.name : t.name) ?? '',
          partitionIndexes: t.partitionIndexes,
        }));
  const r = ctx.broker.groups.fetchOffsets(q.groupId, named);
  return {
    errorCode: r.errorCode,
    topics: r.topics.map((t, i) => ({
      name: t.name,
      topicId: byId ? (q.topics?.[i]?.topicId ?? topics.get(t.name)?.topicId) : undefined,
      unknownId: byId && q.topics !== null && t.name === '',
      partitions: t.partitions,
    })),
  };
}

function partitionOut(p: FetchedOffset, unknownId: boolean) {
  return {
    partitionIndex: p.partitionIndex,
    committedOffset: BigInt(p.committedOffset),
    committedLeaderEpoch: p.committedLeaderEpoch,
    metadata: p.metadata,
    errorCode: unknownId ? ErrorCode.UNKNOWN_TOPIC_ID : p.errorCode,
  };
}

/** OffsetFetch: one group (v1-7) or several (v8+); null topics means all committed partitions. */
export const offsetFetchHandler = specHandler(9, {
  minVersion: 1,
  maxVersion: 10,
  handle(req, ctx) {
    const version = ctx.header.apiVersion;
    if (version >= 8) {
      const res: OffsetFetchResponse = {
        throttleTimeMs: 0,
        groups: req.groups.map((g) => {
          const r = fetchGroup(ctx, g, version >= 10);
          return {
            groupId: g.groupId,
            errorCode: r.errorCode,
            topics: r.topics.map((t) => ({
              ...(version >= 10 ? { topicId: t.topicId } : { name: t.name }),
              partitions: t.partitions.map((p) => partitionOut(p, t.unknownId)),
            })),
          };
        }),
      };
      return res;
    }
    const r = fetchGroup(ctx, { groupId: req.groupId, topics: req.topics }, false);
    ctx.errorCode = r.errorCode;
    const res: OffsetFetchResponse = {
      topics: r.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const out = partitionOut(p, false);
          if (version < 5) return { ...out, committedLeaderEpoch: undefined };
          return out;
        }),
      })),
    };
    if (version >= 2) res.errorCode = r.errorCode;
    if (version >= 3) res.throttleTimeMs = 0;
    return res;
  },
});
