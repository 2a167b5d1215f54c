import { alterResource } from './alter-topic-configs.js';
import { specHandler } from './spec-handler.js';

export const alterConfigsHandler = specHandler(33, {
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    const responses = req.resources.map((r) => {
      // AlterConfigs replaces every override of the resource with the given set.
      const result = alterResource(
        ctx.broker,
        r.resourceType,
        r.resourceName,
        () => {
          const next: Record<string, string> = {};
          for (const c of r.configs) {
            if (c.value === null) return `Null value not supported for ${c.name}`;
            next[c.name] = c.value;
          }
          return next;
        },
        req.validateOnly,
      );
      if (result.errorCode !== 0 && ctx.errorCode === 0) ctx.errorCode = result.errorCode;
      return result;
    });
    return { throttleTimeMs: 0, responses };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      responses: req.resources.map((r) => ({
        errorCode,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
      })),
    };
  },
});
