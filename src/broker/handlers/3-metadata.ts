import { ErrorCode } from '../../protocol/errors.js';
import type {
  MetadataResponseMetadataResponsePartition,
  MetadataResponseMetadataResponseTopic,
} from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import type { TopicInfo } from '../topics/topic-registry.js';
import { TopicError } from '../topics/topic-registry.js';
import { isInternalTopic, topicNameProblem } from '../topics/topic-names.js';
import { specHandler } from './spec-handler.js';
import type { BrokerContext } from './types.js';

/** Kafka's "authorized operations not requested" marker. */
const OPERATIONS_OMITTED = -2147483648;

/** Metadata of one topic as the single broker (node 0 leads every partition) describes it. */
export function describeTopic(
  broker: BrokerContext,
  t: TopicInfo,
): MetadataResponseMetadataResponseTopic {
  const partitions: MetadataResponseMetadataResponsePartition[] = [];
  for (let p = 0; p < t.partitions; p++) {
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p,
      leaderId: broker.nodeId,
      leaderEpoch: 0,
      replicaNodes: [broker.nodeId],
      isrNodes: [broker.nodeId],
      offlineReplicas: [],
    });
  }
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.internal,
    partitions,
    topicAuthorizedOperations: OPERATIONS_OMITTED,
  };
}

function topicError(
  errorCode: number,
  name: string | null,
  topicId = ZERO_UUID,
): MetadataResponseMetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: OPERATIONS_OMITTED,
  };
}

/** Creates a topic Metadata asked for, as auto.create.topics.enable allows. */
function autoCreate(broker: BrokerContext, name: string): MetadataResponseMetadataResponseTopic {
  const problem = topicNameProblem(name);
  if (problem) return topicError(ErrorCode.INVALID_TOPIC_EXCEPTION, name);
  const partitions =
    name === '__consumer_offsets'
      ? broker.config.int('offsets.topic.num.partitions')
      : name === '__transaction_state'
        ? broker.config.int('transaction.state.log.num.partitions')
        : -1;
  const configs: Record<string, string> = isInternalTopic(name)
    ? {
        'cleanup.policy': 'compact',
        'segment.bytes': String(broker.config.int('offsets.topic.segment.bytes')),
      }
    : {};
  try {
    const t = broker.topics.create(name, partitions, -1, configs);
    broker.log.info({ topic: name, partitions: t.partitions }, 'topic auto-created');
    return describeTopic(broker, t);
  } catch (err) {
    if (!(err instanceof TopicError)) throw err;
    if (err.errorName === 'TOPIC_ALREADY_EXISTS') {
      const t = broker.topics.get(name);
      if (t) return describeTopic(broker, t);
    }
    return topicError(ErrorCode[err.errorName], name);
  }
}

export const metadataHandler = specHandler(3, {
  minVersion: 0,
  maxVersion: 13,
  handle(req, ctx) {
    const broker = ctx.broker;
    const version = ctx.header.apiVersion;
    // v0: an empty list means every topic; v1+: null means every topic.
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    const allowCreate =
      broker.config.bool('auto.create.topics.enable') && req.allowAutoTopicCreation;
    let topics: MetadataResponseMetadataResponseTopic[];
    if (all || req.topics === null) {
      topics = broker.topics.all().map((t) => describeTopic(broker, t));
    } else {
      topics = req.topics.map((wanted) => {
        if (wanted.name === null || wanted.name === '') {
          if (wanted.topicId && wanted.topicId !== ZERO_UUID) {
            const t = broker.topics.byId(wanted.topicId);
            return t
              ? describeTopic(broker, t)
              : topicError(ErrorCode.UNKNOWN_TOPIC_ID, null, wanted.topicId);
          }
          return topicError(ErrorCode.INVALID_REQUEST, wanted.name);
        }
        const t = broker.topics.get(wanted.name);
        if (t) return describeTopic(broker, t);
        if (allowCreate) return autoCreate(broker, wanted.name);
        const problem = topicNameProblem(wanted.name);
        return topicError(
          problem ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          wanted.name,
        );
      });
    }
    return {
      throttleTimeMs: 0,
      brokers: [
        {
          nodeId: broker.nodeId,
          host: broker.advertised.host,
          port: broker.advertised.port,
          rack: null,
        },
      ],
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      topics,
      clusterAuthorizedOperations: OPERATIONS_OMITTED,
    };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      brokers: [],
      clusterId: null,
      controllerId: -1,
      topics: (req.topics ?? []).map((t) => topicError(errorCode, t.name, t.topicId)),
    };
  },
});
