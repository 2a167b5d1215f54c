import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeGroupsResponseDescribedGroup } from '../../protocol/generated/index.js';
import { specHandler } from './spec-handler.js';

/** Kafka's "authorized operations not requested" marker. */
const NOT_REQUESTED = -2147483648;

/** DescribeGroups: state, protocol and members of each group. */
export const describeGroupsHandler = specHandler(15, {
  minVersion: 0,
  maxVersion: 6,
  handle(req, ctx) {
    const version = ctx.header.apiVersion;
    const groups = req.groups.map((id): DescribeGroupsResponseDescribedGroup => {
      const d = ctx.broker.groups.describeGroup(id);
      // v6+ reports an unknown group as GROUP_ID_NOT_FOUND; older versions as state Dead.
      const unknown = d.groupState === 'Dead' && version >= 6;
      const out: DescribeGroupsResponseDescribedGroup = {
        errorCode: unknown ? ErrorCode.GROUP_ID_NOT_FOUND : d.errorCode,
        groupId: d.groupId,
        groupState: d.groupState,
        protocolType: d.protocolType,
        protocolData: d.protocolData,
        members: d.members.map((m) => (version >= 4 ? m : { ...m, groupInstanceId: undefined })),
      };
      if (version >= 3)
        out.authorizedOperations = req.includeAuthorizedOperations ? 0 : NOT_REQUESTED;
      if (version >= 6) out.errorMessage = unknown ? `Group ${id} not found.` : null;
      return out;
    });
    return { throttleTimeMs: 0, groups };
  },
});
