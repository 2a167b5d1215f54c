import { specHandler } from './spec-handler.js';

/** OffsetDelete: removes a group's committed offsets for partitions it no longer consumes. */
export const offsetDeleteHandler = specHandler(47, {
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const r = await ctx.broker.groups.deleteOffsets(
      req.groupId,
      req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => p.partitionIndex),
      })),
    );
    ctx.errorCode = r.errorCode || (r.codes.flat().find((c) => c !== 0) ?? 0);
    return {
      errorCode: r.errorCode,
      throttleTimeMs: 0,
      topics:
        r.errorCode !== 0
          ? []
          : req.topics.map((t, i) => ({
              name: t.name,
              partitions: t.partitions.map((p, j) => ({
                partitionIndex: p.partitionIndex,
                errorCode: r.codes[i][j],
              })),
            })),
    };
  },
});
