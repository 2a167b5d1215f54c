import { ErrorCode } from '../../protocol/errors.js';
import type {
  FetchResponseFetchableTopicResponse,
  FetchResponsePartitionData,
} from '../../protocol/generated/index.js';
import { CorruptRecordError } from '../../storage/errors.js';
import { OffsetOutOfRangeError } from '../../storage/errors.js';
import type { FileRange, Log } from '../../storage/log.js';
import { AppendWatchers } from '../fetch/append-watchers.js';
import { readRange } from '../fetch/read-range.js';
import { specHandler } from './spec-handler.js';

const EMPTY = Buffer.alloc(0);

interface Planned {
  out: FetchResponsePartitionData;
  ranges: FileRange[];
}

export const fetchHandler = specHandler(1, {
  minVersion: 4,
  maxVersion: 18,
  spliceRecords: true,
  async handle(req, ctx) {
    const broker = ctx.broker;
    const version = ctx.header.apiVersion;
    // Brook keeps no fetch sessions: answering session id 0 tells the client to send full
    // requests (KIP-227 lets a broker decline); an incremental request is told to start over.
    if ((req.sessionId ?? 0) !== 0) {
      ctx.errorCode = ErrorCode.FETCH_SESSION_ID_NOT_FOUND;
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
      };
    }
    const readCommitted = req.isolationLevel === 1;
    const maxBytes = req.maxBytes ?? 0x7fffffff;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    const keys: string[] = [];
    for (const t of req.topics) {
      const name = version >= 13 ? broker.topics.byId(t.topicId ?? '')?.name : t.topic;
      if (name) for (const p of t.partitions) keys.push(AppendWatchers.key(name, p.partition));
    }

    const plan = () => {
      let total = 0;
      let hasError = false;
      const planned: Planned[] = [];
      const responses: FetchResponseFetchableTopicResponse[] = req.topics.map((t) => {
        const topic =
          version >= 13 ? broker.topics.byId(t.topicId ?? '') : broker.topics.get(t.topic ?? '');
        return {
          topic: topic?.name ?? t.topic ?? '',
          topicId: t.topicId,
          partitions: t.partitions.map((p) => {
            const out: FetchResponsePartitionData = {
              partitionIndex: p.partition,
              errorCode: ErrorCode.NONE,
              highWatermark: -1n,
              lastStableOffset: -1n,
              logStartOffset: -1n,
              abortedTransactions: readCommitted ? [] : null,
              preferredReadReplica: -1,
              records: EMPTY,
            };
            const log: Log | undefined = topic ? broker.topics.log(topic, p.partition) : undefined;
            if (!topic || !log) {
              out.errorCode =
                version >= 13 && !topic
                  ? ErrorCode.UNKNOWN_TOPIC_ID
                  : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
              hasError = true;
              return out;
            }
            out.highWatermark = BigInt(log.highWatermark);
            // Without transactions the last stable offset is the high watermark.
            out.lastStableOffset = BigInt(log.highWatermark);
            out.logStartOffset = BigInt(log.logStartOffset);
            const room = Math.min(p.partitionMaxBytes, maxBytes - total);
            if (room <= 0 && total > 0) return out;
            try {
              const r = log.read(Number(p.fetchOffset), Math.max(room, 0), {
                maxOffset: log.highWatermark,
                // As Kafka: the first partition with data returns at least one whole batch, so that
                // a batch bigger than the limits cannot stall the consumer.
                minOneBatch: total === 0,
              });
              if (r.size > 0) {
                total += r.size;
                planned.push({ out, ranges: r.ranges });
              }
            } catch (err) {
              hasError = true;
              if (err instanceof OffsetOutOfRangeError)
                out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
              else if (err instanceof CorruptRecordError) out.errorCode = ErrorCode.CORRUPT_MESSAGE;
              else {
                ctx.log.error(
                  { err, topic: topic.name, partition: p.partition },
                  'fetch read failed',
                );
                out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
              }
            }
            return out;
          }),
        };
      });
      return { total, hasError, planned, responses };
    };

    let result = plan();
    // Long poll: wait for data until min_bytes is reached or max_wait passes.
    while (
      !result.hasError &&
      result.total < req.minBytes &&
      Date.now() < deadline &&
      !broker.appends.closed
    ) {
      await broker.appends.wait(keys, deadline - Date.now());
      result = plan();
    }
    await Promise.all(
      result.planned.map(async ({ out, ranges }) => {
        const parts = await Promise.all(ranges.map(readRange));
        out.records = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      }),
    );
    for (const t of result.responses) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0 && ctx.errorCode === 0) ctx.errorCode = p.errorCode;
      }
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId: 0,
      responses: result.responses,
    };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      sessionId: 0,
      responses: req.topics.map((t) => ({
        topic: t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition,
          errorCode,
          highWatermark: -1n,
          abortedTransactions: null,
          records: EMPTY,
        })),
      })),
    };
  },
});
