import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeConfigsResponseDescribeConfigsResult } from '../../protocol/generated/index.js';
import {
  type DescribedConfig,
  describeBrokerConfigs,
  describeTopicConfigs,
  ResourceType,
} from '../topics/config-resources.js';
import { noteError } from './partition-results.js';
import { specHandler } from './spec-handler.js';

export const describeConfigsHandler = specHandler(32, {
  minVersion: 1,
  maxVersion: 4,
  handle(req, ctx) {
    const broker = ctx.broker;
    const results = req.resources.map((r): DescribeConfigsResponseDescribeConfigsResult => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const fail = (errorCode: number, errorMessage: string) => {
        noteError(ctx, errorCode);
        return { ...base, errorCode, errorMessage, configs: [] };
      };
      let configs: DescribedConfig[];
      if (r.resourceType === ResourceType.TOPIC) {
        const topic = broker.topics.get(r.resourceName);
        if (!topic)
          return fail(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `Topic ${r.resourceName} does not exist.`,
          );
        configs = describeTopicConfigs(broker.config, topic.configs, req.includeSynonyms);
      } else if (r.resourceType === ResourceType.BROKER) {
        if (r.resourceName !== '' && r.resourceName !== String(broker.nodeId)) {
          return fail(
            ErrorCode.INVALID_REQUEST,
            `Unexpected broker id, expected ${broker.nodeId} but received ${r.resourceName}`,
          );
        }
        configs = describeBrokerConfigs(broker.config, req.includeSynonyms);
      } else {
        return fail(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${r.resourceType}`);
      }
      const keys = r.configurationKeys;
      if (keys !== null) configs = configs.filter((c) => keys.includes(c.name));
      if (!req.includeDocumentation) for (const c of configs) c.documentation = null;
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
    });
    return { throttleTimeMs: 0, results };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      results: req.resources.map((r) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        errorCode,
        errorMessage: null,
        configs: [],
      })),
    };
  },
});
