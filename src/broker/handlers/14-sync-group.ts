import type { SyncGroupResponse } from '../../protocol/generated/index.js';
import { specHandler } from './spec-handler.js';

/** SyncGroup: the leader hands in the assignment; every member waits for its own share. */
export const syncGroupHandler = specHandler(14, {
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const version = ctx.header.apiVersion;
    const r = await ctx.broker.groups.syncGroup({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: version >= 3 ? req.groupInstanceId : null,
      protocolType: version >= 5 ? req.protocolType : null,
      protocolName: version >= 5 ? req.protocolName : null,
      assignments: req.assignments,
    });
    ctx.errorCode = r.errorCode;
    const res: SyncGroupResponse = {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      assignment: r.assignment,
    };
    if (version >= 5) {
      const g = ctx.broker.groups.group(req.groupId);
      res.protocolType = g?.protocolType ?? null;
      res.protocolName = g?.protocolName ?? null;
    }
    return res;
  },
});
