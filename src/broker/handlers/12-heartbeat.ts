import { specHandler } from './spec-handler.js';

/** Heartbeat: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin. */
export const heartbeatHandler = specHandler(12, {
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx) {
    const errorCode = ctx.broker.groups.heartbeat(
      req.groupId,
      req.memberId,
      ctx.header.apiVersion >= 3 ? req.groupInstanceId : null,
      req.generationId,
    );
    ctx.errorCode = errorCode;
    return { throttleTimeMs: 0, errorCode };
  },
});
