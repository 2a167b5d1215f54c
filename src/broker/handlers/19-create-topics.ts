import { ErrorCode } from '../../protocol/errors.js';
import type { CreateTopicsResponseCreatableTopicResult } from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { topicConfigEntries } from '../topics/topic-config.js';
import { TopicError } from '../topics/topic-registry.js';
import { noteError } from './partition-results.js';
import { specHandler } from './spec-handler.js';

export const createTopicsHandler = specHandler(19, {
  minVersion: 2,
  maxVersion: 7,
  handle(req, ctx) {
    const broker = ctx.broker;
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const topics = req.topics.map((t): CreateTopicsResponseCreatableTopicResult => {
      const fail = (errorCode: number, errorMessage: string) => {
        noteError(ctx, errorCode);
        return {
          name: t.name,
          topicId: ZERO_UUID,
          errorCode,
          errorMessage,
          topicConfigErrorCode: 0,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        };
      };
      if ((counts.get(t.name) ?? 0) > 1)
        return fail(
          ErrorCode.INVALID_REQUEST,
          `Create topics request from client ${ctx.header.clientId} contains multiple entries for the following topics: ${t.name}`,
        );
      let partitions = t.numPartitions;
      let replicationFactor = t.replicationFactor;
      if (t.assignments.length > 0) {
        if (partitions !== -1 || replicationFactor !== -1) {
          return fail(
            ErrorCode.INVALID_REQUEST,
            'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
          );
        }
        const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
        for (let i = 0; i < sorted.length; i++) {
          const a = sorted[i];
          if (a.partitionIndex !== i)
            return fail(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              'Partitions should be a consecutive 0-based integer sequence',
            );
          if (a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId) {
            return fail(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `Replica assignment ${JSON.stringify(a.brokerIds)} names brokers other than ${broker.nodeId}, the only one.`,
            );
          }
        }
        partitions = sorted.length;
        replicationFactor = 1;
      }
      const configs: Record<string, string> = {};
      for (const c of t.configs) {
        if (c.value === null)
          return fail(
            ErrorCode.INVALID_CONFIG,
            `Null value not supported for topic configs: ${c.name}`,
          );
        configs[c.name] = c.value;
      }
      try {
        let info: { topicId: string; partitions: number };
        if (req.validateOnly) {
          info = {
            topicId: ZERO_UUID,
            partitions: broker.topics.validateCreate(
              t.name,
              partitions,
              replicationFactor,
              configs,
            ),
          };
        } else {
          info = broker.topics.create(t.name, partitions, replicationFactor, configs);
          broker.log.info({ topic: t.name, partitions: info.partitions, configs }, 'topic created');
        }
        return {
          name: t.name,
          topicId: info.topicId,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          topicConfigErrorCode: 0,
          numPartitions: info.partitions,
          replicationFactor: 1,
          configs: topicConfigEntries(broker.config, configs),
        };
      } catch (err) {
        if (err instanceof TopicError) return fail(ErrorCode[err.errorName], err.message);
        throw err;
      }
    });
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        errorCode,
        errorMessage: null,
        topicId: ZERO_UUID,
        configs: null,
        numPartitions: -1,
        replicationFactor: -1,
      })),
    };
  },
});
