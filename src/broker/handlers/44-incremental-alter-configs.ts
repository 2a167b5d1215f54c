import { brokerDefault, TOPIC_CONFIGS } from '../topics/topic-config.js';
import { alterErrorResponse, alterResources } from './alter-topic-configs.js';
import { specHandler } from './spec-handler.js';

/** IncrementalAlterConfigs operations. */
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

export const incrementalAlterConfigsHandler = specHandler(44, {
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx) {
    return alterResources(ctx, req.resources, req.validateOnly, (r, current) => {
      const seen = new Set<string>();
      for (const c of r.configs) {
        if (seen.has(c.name)) return `Duplicate config ${c.name} in the request`;
        seen.add(c.name);
        const listType = TOPIC_CONFIGS.get(c.name)?.type === 'list';
        if (c.configOperation === SET) {
          if (c.value === null) return `Null value not supported for ${c.name}`;
          current[c.name] = c.value;
        } else if (c.configOperation === DELETE) {
          delete current[c.name];
        } else if (c.configOperation === APPEND || c.configOperation === SUBTRACT) {
          if (!listType) return `Config value append/subtract is only for list types: ${c.name}`;
          // Kafka appends to the effective value, which may be the broker's default.
          const effective = current[c.name] ?? brokerDefault(ctx.broker.config, c.name) ?? '';
          const items = effective.split(',').filter((s) => s !== '');
          const given = (c.value ?? '').split(',').filter((s) => s !== '');
          const next =
            c.configOperation === APPEND
              ? [...items, ...given.filter((g) => !items.includes(g))]
              : items.filter((i) => !given.includes(i));
          current[c.name] = next.join(',');
        } else {
          return `Unknown config operation ${c.configOperation}`;
        }
      }
      return current;
    });
  },
  errorResponse(req, _version, errorCode) {
    return alterErrorResponse(req.resources, errorCode);
  },
});
