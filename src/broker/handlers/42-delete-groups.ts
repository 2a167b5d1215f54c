import { noteError } from './partition-results.js';
import { specHandler } from './spec-handler.js';

/** DeleteGroups: removes empty groups and their offsets (tombstones in __consumer_offsets). */
export const deleteGroupsHandler = specHandler(42, {
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const results = [];
    for (const groupId of req.groupsNames) {
      const errorCode = await ctx.broker.groups.deleteGroup(groupId);
      noteError(ctx, errorCode);
      results.push({ groupId, errorCode });
    }
    return { throttleTimeMs: 0, results };
  },
});
