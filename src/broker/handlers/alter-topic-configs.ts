import { ErrorCode } from '../../protocol/errors.js';
import { ResourceType } from '../topics/config-resources.js';
import { TopicError } from '../topics/topic-registry.js';
import { noteError } from './partition-results.js';
import type { BrokerContext, RequestContext } from './types.js';

/** One resource's outcome in AlterConfigs / IncrementalAlterConfigs. */
export interface AlterResult {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

/**
 * Applies new config overrides to a topic resource (the part AlterConfigs and
 * IncrementalAlterConfigs share). Broker resources are refused: Brook's broker configuration is
 * static, set at start-up.
 */
export function alterResource(
  broker: BrokerContext,
  resourceType: number,
  resourceName: string,
  compute: (current: Record<string, string>) => Record<string, string> | string,
  validateOnly: boolean,
): AlterResult {
  const base = { resourceType, resourceName };
  if (resourceType === ResourceType.BROKER) {
    return {
      ...base,
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: 'Brook broker configs are static: restart the broker with --set key=value',
    };
  }
  if (resourceType !== ResourceType.TOPIC) {
    return {
      ...base,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unsupported resource type ${resourceType}`,
    };
  }
  const topic = broker.topics.get(resourceName);
  if (!topic) {
    return {
      ...base,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `Topic ${resourceName} does not exist.`,
    };
  }
  const next = compute({ ...topic.configs });
  if (typeof next === 'string')
    return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: next };
  try {
    broker.topics.setConfigs(resourceName, next, validateOnly);
    if (!validateOnly)
      broker.log.info({ topic: resourceName, configs: next }, 'topic configs changed');
  } catch (err) {
    if (!(err instanceof TopicError)) throw err;
    return { ...base, errorCode: ErrorCode[err.errorName], errorMessage: err.message };
  }
  return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
}

/** A resource as AlterConfigs and IncrementalAlterConfigs requests name it. */
interface AlterResource {
  resourceType: number;
  resourceName: string;
}

/**
 * The response body of both APIs: `alterResource` over every resource, with `compute` giving the
 * resource's new overrides; the first failure is the request's error code in the metrics.
 */
export function alterResources<R extends AlterResource>(
  ctx: RequestContext,
  resources: readonly R[],
  validateOnly: boolean,
  compute: (resource: R, current: Record<string, string>) => Record<string, string> | string,
): { throttleTimeMs: number; responses: AlterResult[] } {
  const responses = resources.map((r) => {
    const result = alterResource(
      ctx.broker,
      r.resourceType,
      r.resourceName,
      (current) => compute(r, current),
      validateOnly,
    );
    noteError(ctx, result.errorCode);
    return result;
  });
  return { throttleTimeMs: 0, responses };
}

/** The response of both APIs that reports `errorCode` for every resource. */
export function alterErrorResponse(
  resources: readonly AlterResource[],
  errorCode: number,
): { throttleTimeMs: number; responses: AlterResult[] } {
  return {
    throttleTimeMs: 0,
    responses: resources.map((r) => ({
      errorCode,
      errorMessage: null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    })),
  };
}
