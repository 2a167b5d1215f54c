import { ErrorCode } from '../../protocol/errors.js';
import { TopicError } from '../topics/topic-registry.js';
import { noteError } from './partition-results.js';
import { specHandler } from './spec-handler.js';

export const createPartitionsHandler = specHandler(37, {
  minVersion: 0,
  maxVersion: 3,
  handle(req, ctx) {
    const broker = ctx.broker;
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results = req.topics.map((t) => {
      const fail = (errorCode: number, errorMessage: string) => {
        noteError(ctx, errorCode);
        return { name: t.name, errorCode, errorMessage };
      };
      if ((counts.get(t.name) ?? 0) > 1)
        return fail(ErrorCode.INVALID_REQUEST, 'Duplicate topic in request.');
      if (
        t.assignments?.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId)
      ) {
        return fail(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Assignments may name only broker ${broker.nodeId}.`,
        );
      }
      try {
        broker.topics.addPartitions(t.name, t.count, req.validateOnly);
        if (!req.validateOnly)
          broker.log.info({ topic: t.name, partitions: t.count }, 'partitions added');
        return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        return fail(ErrorCode[err.errorName], err.message);
      }
    });
    return { throttleTimeMs: 0, results };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      results: req.topics.map((t) => ({ name: t.name, errorCode, errorMessage: null })),
    };
  },
});
