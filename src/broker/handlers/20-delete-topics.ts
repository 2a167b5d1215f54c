import { ErrorCode } from '../../protocol/errors.js';
import type { DeleteTopicsResponseDeletableTopicResult } from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { TopicError } from '../topics/topic-registry.js';
import { noteError } from './partition-results.js';
import { specHandler } from './spec-handler.js';

export const deleteTopicsHandler = specHandler(20, {
  minVersion: 1,
  maxVersion: 6,
  async handle(req, ctx) {
    const broker = ctx.broker;
    // v6+ names topics by name or id; before, by name only.
    const wanted =
      ctx.header.apiVersion >= 6
        ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: DeleteTopicsResponseDeletableTopicResult[] = [];
    for (const w of wanted) {
      const byId = w.topicId !== ZERO_UUID;
      const topic = byId ? broker.topics.byId(w.topicId) : broker.topics.get(w.name ?? '');
      const result: DeleteTopicsResponseDeletableTopicResult = {
        name: topic?.name ?? w.name ?? null,
        topicId: topic?.topicId ?? w.topicId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
      };
      responses.push(result);
      const fail = (code: number, message: string) => {
        result.errorCode = code;
        result.errorMessage = message;
        noteError(ctx, code);
      };
      if (!broker.config.bool('delete.topic.enable')) {
        fail(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
        continue;
      }
      if (!topic) {
        if (byId) fail(ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.');
        else
          fail(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            'This server does not host this topic-partition.',
          );
        continue;
      }
      try {
        await broker.topics.delete(topic.name);
        broker.log.info({ topic: topic.name }, 'topic deleted');
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        fail(ErrorCode[err.errorName], err.message);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
  errorResponse(req, version, errorCode) {
    const names = version >= 6 ? req.topics.map((t) => t.name ?? null) : req.topicNames;
    return { throttleTimeMs: 0, responses: names.map((name) => ({ name, errorCode })) };
  },
});
