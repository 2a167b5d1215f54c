import { ErrorCode } from '../../protocol/errors.js';
import { ResourceType } from '../topics/config-resources.js';
import { TopicError } from '../topics/topic-registry.js';
import type { BrokerContext } from './types.js';

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
