import type { JoinGroupResponse } from '../../protocol/generated/index.js';
import { clientHost } from '../groups/client-host.js';
import { specHandler } from './spec-handler.js';

/** JoinGroup: waits until the group's join phase completes (see src/broker/groups/rebalance.ts). */
export const joinGroupHandler = specHandler(11, {
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    const version = ctx.header.apiVersion;
    const r = await ctx.broker.groups.joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: version >= 5 ? req.groupInstanceId : null,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHost(ctx.remote),
      sessionTimeoutMs: req.sessionTimeoutMs,
      // v0 has no rebalance timeout: Kafka uses the session timeout.
      rebalanceTimeoutMs:
        version >= 1 && req.rebalanceTimeoutMs >= 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      requireKnownMemberId: version >= 4,
      supportsSkipAssignment: version >= 9,
    });
    ctx.errorCode = r.errorCode;
    const res: JoinGroupResponse = {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolName: version >= 7 ? r.protocolName : (r.protocolName ?? ''),
      leader: r.leader,
      memberId: r.memberId,
      members: r.members.map((m) =>
        version >= 5 ? m : { memberId: m.memberId, metadata: m.metadata },
      ),
    };
    if (version >= 7) res.protocolType = r.protocolType;
    if (version >= 9) res.skipAssignment = r.skipAssignment;
    return res;
  },
});
