import { UnsupportedCompressionError } from '../../protocol/compression/codec.js';
import { ErrorCode } from '../../protocol/errors.js';
import type {
  ProduceResponse,
  ProduceResponsePartitionProduceResponse,
  ProduceResponseTopicProduceResponse,
} from '../../protocol/generated/index.js';
import { DecodeError } from '../../protocol/primitives/index.js';
import {
  ATTRIBUTES_OFFSET,
  BatchHeader,
  COMPRESSION_MASK,
  MAGIC_OFFSET,
  MAGIC_V2,
} from '../../protocol/record-batch/header.js';
import {
  CorruptRecordError,
  InvalidRecordError,
  validateRecordBatch,
} from '../../protocol/record-batch/index.js';
import { LogClosedError } from '../../storage/errors.js';
import type { AppendResult } from '../../storage/log-types.js';
import { CloseConnection } from '../net/connection.js';
import { maxMessageBytes } from '../topics/topic-config.js';
import type { TopicInfo } from '../topics/topic-registry.js';
import { noteError } from './partition-results.js';
import { specHandler } from './spec-handler.js';
import type { BrokerContext, RequestContext } from './types.js';

/** A partition's records refused before they reach the log: the error code and Kafka's message. */
class ProduceRejection extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string) {
    super(message);
    this.errorCode = errorCode;
  }
}

/**
 * Checks a partition's records as Kafka does for Produce v3+: exactly one magic v2 batch, within
 * max.message.bytes, with a valid CRC, a known codec, offsets counting from 0, and timestamps
 * inside the topic's bounds. Compressed data is inflated once to check its records, and stored as
 * sent.
 */
function validateProduce(
  broker: BrokerContext,
  topic: TopicInfo,
  records: Buffer | null,
  now: number,
): void {
  if (records === null || records.length === 0) {
    throw new ProduceRejection(ErrorCode.INVALID_RECORD, 'Produce request has no record batch');
  }
  if (records.length > MAGIC_OFFSET && records.readInt8(MAGIC_OFFSET) !== MAGIC_V2) {
    throw new ProduceRejection(
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `Record batch magic ${records.readInt8(MAGIC_OFFSET)} is not supported (only magic 2)`,
    );
  }
  const limit = maxMessageBytes(broker.config, topic.configs);
  if (records.length > limit) {
    throw new ProduceRejection(
      ErrorCode.MESSAGE_TOO_LARGE,
      `The record batch of ${records.length} bytes is larger than max.message.bytes (${limit})`,
    );
  }
  try {
    // A compressed batch is inflated and walked once here, as Kafka does: its CRC covers the
    // compressed bytes only, so a payload that does not inflate (or holds other records than it
    // declares) would otherwise be stored and fail every reader.
    const compressed =
      records.length >= ATTRIBUTES_OFFSET + 2 &&
      (records.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_MASK) !== 0;
    const batch = validateRecordBatch(records, 0, { fromProducer: true, deep: compressed });
    if (batch.sizeInBytes !== records.length) {
      throw new ProduceRejection(
        ErrorCode.INVALID_RECORD,
        'Produce requests must contain exactly one record batch per partition',
      );
    }
  } catch (err) {
    if (err instanceof ProduceRejection) throw err;
    if (err instanceof CorruptRecordError)
      throw new ProduceRejection(ErrorCode.CORRUPT_MESSAGE, err.message);
    if (err instanceof InvalidRecordError)
      throw new ProduceRejection(ErrorCode.INVALID_RECORD, err.message);
    if (err instanceof UnsupportedCompressionError)
      throw new ProduceRejection(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, err.message);
    if (err instanceof DecodeError)
      throw new ProduceRejection(ErrorCode.CORRUPT_MESSAGE, err.message);
    throw err;
  }
  const type =
    topic.configs['message.timestamp.type'] ?? broker.config.string('log.message.timestamp.type');
  if (type === 'CreateTime') {
    const after = Number(
      topic.configs['message.timestamp.after.max.ms'] ??
        broker.config.int('log.message.timestamp.after.max.ms'),
    );
    const before = Number(
      topic.configs['message.timestamp.before.max.ms'] ??
        broker.config.int('log.message.timestamp.before.max.ms'),
    );
    const maxTs = BatchHeader.maxTimestamp(records, 0);
    const baseTs = BatchHeader.baseTimestamp(records, 0);
    if (maxTs >= 0 && maxTs > now + after) {
      throw new ProduceRejection(
        ErrorCode.INVALID_TIMESTAMP,
        `Timestamp ${maxTs} is more than ${after} ms in the future`,
      );
    }
    if (baseTs >= 0 && baseTs < now - before) {
      throw new ProduceRejection(
        ErrorCode.INVALID_TIMESTAMP,
        `Timestamp ${baseTs} is more than ${before} ms in the past`,
      );
    }
  }
}

function partitionResult(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
): ProduceResponsePartitionProduceResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage,
  };
}

/**
 * Records why an append failed on the partition's result. A log closed under us belongs to a
 * topic deleted meanwhile; anything else is a storage failure, logged.
 */
function appendFailed(
  ctx: RequestContext,
  result: ProduceResponsePartitionProduceResponse,
  err: unknown,
  topic: string,
  partition: number,
): void {
  const code =
    err instanceof LogClosedError
      ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      : ErrorCode.KAFKA_STORAGE_ERROR;
  if (code === ErrorCode.KAFKA_STORAGE_ERROR) {
    ctx.log.error({ err, topic, partition }, 'append failed');
  }
  result.errorCode = code;
  result.errorMessage = err instanceof Error ? err.message : String(err);
  result.baseOffset = -1n;
  result.logAppendTimeMs = -1n;
  result.logStartOffset = -1n;
  noteError(ctx, code);
}

/** The answer once every append is done: none at all for acks=0. */
function produceResponse(
  acks: number,
  ctx: RequestContext,
  responses: ProduceResponseTopicProduceResponse[],
): ProduceResponse | null {
  // acks=0: the client expects no response at all. As Kafka does, a failure closes the
  // connection instead, which is the only way such a client can notice it.
  if (acks === 0) {
    if (ctx.errorCode !== 0) {
      throw new CloseConnection(`acks=0 produce failed with error code ${ctx.errorCode}`);
    }
    return null;
  }
  return { responses, throttleTimeMs: 0 };
}

export const produceHandler = specHandler(0, {
  minVersion: 3,
  maxVersion: 13,
  // Synchronous unless a partition syncs every append (flush.policy=always): the data is in the
  // OS when appendToOs returns, so the common case costs no promise, closure or microtask.
  handle(req, ctx) {
    const broker = ctx.broker;
    const version = ctx.header.apiVersion;
    const now = Date.now();
    const acksValid = req.acks === 0 || req.acks === 1 || req.acks === -1;
    const responses: ProduceResponseTopicProduceResponse[] = [];
    let pending: Promise<void>[] | undefined;
    // Every append happens synchronously, in request order, before anything is awaited: two
    // pipelined requests to the same partition land in the log in the order they were sent.
    for (const td of req.topicData) {
      const topic = version >= 13 ? broker.topics.byId(td.topicId) : broker.topics.get(td.name);
      const out: ProduceResponseTopicProduceResponse = {
        name: td.name,
        topicId: td.topicId,
        partitionResponses: [],
      };
      responses.push(out);
      for (const pd of td.partitionData) {
        if (!acksValid) {
          noteError(ctx, ErrorCode.INVALID_REQUIRED_ACKS);
          out.partitionResponses.push(partitionResult(pd.index, ErrorCode.INVALID_REQUIRED_ACKS));
          continue;
        }
        const log = topic ? broker.topics.log(topic, pd.index) : undefined;
        if (!topic || !log) {
          const code =
            version >= 13 && !topic
              ? ErrorCode.UNKNOWN_TOPIC_ID
              : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          noteError(ctx, code);
          out.partitionResponses.push(partitionResult(pd.index, code));
          continue;
        }
        try {
          validateProduce(broker, topic, pd.records, now);
        } catch (err) {
          if (!(err instanceof ProduceRejection)) throw err;
          noteError(ctx, err.errorCode);
          ctx.log.debug(
            { topic: topic.name, partition: pd.index, err: err.message },
            'produce refused',
          );
          out.partitionResponses.push(partitionResult(pd.index, err.errorCode, err.message));
          continue;
        }
        // Idempotent producers: a retried batch gets its original offset, a bad sequence an error.
        const idem = broker.producers.checkAppend(log, pd.records as Buffer, req.transactionalId);
        if (idem.errorCode !== ErrorCode.NONE || idem.duplicateOffset >= 0) {
          noteError(ctx, idem.errorCode);
          const r = partitionResult(pd.index, idem.errorCode, idem.message);
          if (idem.duplicateOffset >= 0) r.baseOffset = BigInt(idem.duplicateOffset);
          out.partitionResponses.push(r);
          continue;
        }
        const result = partitionResult(pd.index, ErrorCode.NONE);
        out.partitionResponses.push(result);
        let appended: AppendResult;
        try {
          appended = log.appendToOs(pd.records as Buffer, idem.appendOptions);
        } catch (err) {
          appendFailed(ctx, result, err, topic.name, pd.index);
          continue;
        }
        result.baseOffset = BigInt(appended.baseOffset);
        result.logAppendTimeMs = BigInt(appended.logAppendTime);
        result.logStartOffset = BigInt(appended.logStartOffset);
        if (!log.syncsEveryAppend) {
          broker.appends.notify(topic.name, pd.index);
          continue;
        }
        const name = topic.name;
        const index = pd.index;
        pending ??= [];
        pending.push(
          log.waitForDurable(appended.lastOffset + 1).then(
            () => broker.appends.notify(name, index),
            (err: unknown) => appendFailed(ctx, result, err, name, index),
          ),
        );
      }
    }
    if (pending === undefined) return produceResponse(req.acks, ctx, responses);
    return Promise.all(pending).then(() => produceResponse(req.acks, ctx, responses));
  },
  errorResponse(req, _version, errorCode) {
    return {
      responses: req.topicData.map((td) => ({
        name: td.name,
        topicId: td.topicId,
        partitionResponses: td.partitionData.map((pd) => partitionResult(pd.index, errorCode)),
      })),
      throttleTimeMs: 0,
    };
  },
});
