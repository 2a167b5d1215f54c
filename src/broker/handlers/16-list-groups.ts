import { specHandler } from './spec-handler.js';

/** ListGroups: every group, optionally filtered by state (v4+) and type (v5+; all are classic). */
export const listGroupsHandler = specHandler(16, {
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx) {
    const version = ctx.header.apiVersion;
    const types = version >= 5 ? req.typesFilter.map((t) => t.toLowerCase()) : [];
    const listed =
      types.length > 0 && !types.includes('classic')
        ? []
        : ctx.broker.groups.listGroups(version >= 4 ? req.statesFilter : []);
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: listed.map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        ...(version >= 4 ? { groupState: g.groupState } : {}),
        ...(version >= 5 ? { groupType: 'classic' } : {}),
      })),
    };
  },
});
