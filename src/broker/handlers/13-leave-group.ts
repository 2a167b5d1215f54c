import { ErrorCode } from '../../protocol/errors.js';
import { specHandler } from './spec-handler.js';

/** LeaveGroup: one member (v0-2) or a batch of members, static ones by instance id (v3+). */
export const leaveGroupHandler = specHandler(13, {
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx) {
    const version = ctx.header.apiVersion;
    const groups = ctx.broker.groups;
    if (version < 3) {
      const [errorCode] = groups.leaveGroup(req.groupId, [
        { memberId: req.memberId, groupInstanceId: null },
      ]);
      ctx.errorCode = errorCode;
      return { throttleTimeMs: 0, errorCode };
    }
    const codes = groups.leaveGroup(req.groupId, req.members);
    const members = req.members.map((m, i) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: codes[i],
    }));
    // Kafka answers an unknown group at the top level too.
    const errorCode = groups.group(req.groupId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    ctx.errorCode = errorCode || (codes.find((c) => c !== ErrorCode.NONE) ?? ErrorCode.NONE);
    return { throttleTimeMs: 0, errorCode, members };
  },
});
