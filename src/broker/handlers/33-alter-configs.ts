import { alterErrorResponse, alterResources } from './alter-topic-configs.js';
import { specHandler } from './spec-handler.js';

export const alterConfigsHandler = specHandler(33, {
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    // AlterConfigs replaces every override of the resource with the given set.
    return alterResources(ctx, req.resources, req.validateOnly, (r) => {
      const next: Record<string, string> = {};
      for (const c of r.configs) {
        if (c.value === null) return `Null value not supported for ${c.name}`;
        next[c.name] = c.value;
      }
      return next;
    });
  },
  errorResponse(req, _version, errorCode) {
    return alterErrorResponse(req.resources, errorCode);
  },
});
