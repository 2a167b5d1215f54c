import { ErrorCode } from '../../protocol/errors.js';
import type { ListOffsetsResponseListOffsetsPartitionResponse } from '../../protocol/generated/index.js';
import { DecodeError } from '../../protocol/primitives/index.js';
import { decodeRecordBatch } from '../../protocol/record-batch/index.js';
import type { Log } from '../../storage/log.js';
import { readRange } from '../fetch/read-range.js';
import { noteError, partitionLog, perPartition } from './partition-results.js';
import { specHandler } from './spec-handler.js';

/** Kafka's special ListOffsets timestamps. */
const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;
const EARLIEST_PENDING_UPLOAD = -6;

/**
 * The first record whose timestamp is at least `timestamp`: the log finds the batch, and the
 * batch's records are walked to the exact offset (as Kafka answers).
 */
async function offsetForTimestamp(
  log: Log,
  timestamp: number,
): Promise<{ offset: number; timestamp: number } | undefined> {
  const found = log.offsetForTimestamp(timestamp);
  if (!found) return undefined;
  const r = log.read(found.offset, 1, { minOneBatch: true });
  if (r.ranges.length === 0) return { offset: found.offset, timestamp: found.timestamp };
  const buf = await readRange(r.ranges[0]);
  try {
    const batch = decodeRecordBatch(buf, 0);
    const cursor = batch.cursor();
    while (cursor.next()) {
      if (cursor.offset >= found.offset && cursor.timestamp >= timestamp) {
        return { offset: cursor.offset, timestamp: cursor.timestamp };
      }
    }
  } catch (err) {
    // A stored batch whose records cannot be read (a payload that does not inflate): the
    // index's answer is the best there is; readers of that batch get the error themselves.
    if (!(err instanceof DecodeError)) throw err;
  }
  return { offset: found.offset, timestamp: found.timestamp };
}

export const listOffsetsHandler = specHandler(2, {
  minVersion: 1,
  maxVersion: 11,
  async handle(req, ctx) {
    const broker = ctx.broker;
    const topics = await Promise.all(
      req.topics.map(async (t) => {
        const partitions = await Promise.all(
          t.partitions.map(async (p): Promise<ListOffsetsResponseListOffsetsPartitionResponse> => {
            const out = {
              partitionIndex: p.partitionIndex,
              errorCode: 0,
              timestamp: -1n,
              offset: -1n,
              leaderEpoch: -1,
            };
            const log = partitionLog(broker, t.name, p.partitionIndex);
            if (!log) {
              out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
              noteError(ctx, out.errorCode);
              return out;
            }
            const ts = Number(p.timestamp);
            let found: { offset: number; timestamp: number } | undefined;
            if (ts === LATEST) found = { offset: log.highWatermark, timestamp: -1 };
            else if (ts === EARLIEST || ts === EARLIEST_LOCAL)
              found = { offset: log.logStartOffset, timestamp: -1 };
            else if (ts === MAX_TIMESTAMP) found = log.maxTimestamp();
            else if (ts === LATEST_TIERED || ts === EARLIEST_PENDING_UPLOAD)
              found = undefined; // no tiered storage
            else if (ts >= 0) found = await offsetForTimestamp(log, ts);
            else {
              out.errorCode = ErrorCode.INVALID_REQUEST;
              return out;
            }
            if (found) {
              out.offset = BigInt(found.offset);
              out.timestamp = BigInt(found.timestamp);
              // The partition leader epoch exists on the wire from v4.
              if (ctx.header.apiVersion >= 4) out.leaderEpoch = 0;
            }
            return out;
          }),
        );
        return { name: t.name, partitions };
      }),
    );
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: perPartition(req.topics, (p) => ({
        partitionIndex: p.partitionIndex,
        errorCode,
        timestamp: -1n,
        offset: -1n,
      })),
    };
  },
});
