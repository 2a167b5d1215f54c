import { ErrorCode } from '../../protocol/errors.js';
import { OffsetOutOfRangeError } from '../../storage/errors.js';
import { noteError, partitionLog, perPartition } from './partition-results.js';
import { specHandler } from './spec-handler.js';

export const deleteRecordsHandler = specHandler(21, {
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const out = {
          partitionIndex: p.partitionIndex,
          lowWatermark: -1n,
          errorCode: ErrorCode.NONE as number,
        };
        const log = partitionLog(ctx.broker, t.name, p.partitionIndex);
        if (!log) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else {
          // -1 means "up to the high watermark".
          const offset = p.offset === -1n ? log.highWatermark : Number(p.offset);
          try {
            out.lowWatermark = BigInt(log.deleteRecordsBefore(offset));
          } catch (err) {
            if (!(err instanceof OffsetOutOfRangeError)) throw err;
            out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
          }
        }
        noteError(ctx, out.errorCode);
        return out;
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: perPartition(req.topics, (p) => ({
        partitionIndex: p.partitionIndex,
        lowWatermark: -1n,
        errorCode,
      })),
    };
  },
});
