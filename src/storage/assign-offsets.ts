/**
 * The append hot path's only pass over the batches: assign offsets by patching headers in place,
 * and note what the segment needs to index them. Work is per batch, never per record.
 */
import { updateBatchCrc } from '../protocol/record-batch/encode.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  BatchHeader,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  TIMESTAMP_TYPE_BIT,
} from '../protocol/record-batch/header.js';
import { CorruptRecordError } from './errors.js';

/** The result of one walk. The object and its `positions` are reused by the next walk. */
export interface AssignedBatches {
  count: number;
  /** Offset after the last batch. */
  nextOffset: number;
  maxTimestamp: number;
  records: number;
  /** Four numbers per batch: position in the buffer, size, last offset, max timestamp. */
  positions: Float64Array;
}

const assigned: AssignedBatches = {
  count: 0,
  nextOffset: 0,
  maxTimestamp: -1,
  records: 0,
  positions: new Float64Array(4 * 64),
};

// A plain function, not a closure per call: the append path allocates nothing it can avoid.
function bad(
  where: { topic: string; partition: number },
  offset: number,
  pos: number,
  why: string,
): CorruptRecordError {
  return new CorruptRecordError(where.topic, where.partition, offset, '(append)', pos, why);
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}

/**
 * Writes offsets from `firstOffset` and the leader epoch into every batch of `batches` (and, when
 * `logAppendTime` >= 0, the LogAppendTime timestamp, attribute bit and CRC). `onBatch` sees each
 * batch once its offset is set. Throws CorruptRecordError for anything but whole v2 batches.
 */
export function assignOffsets(
  batches: Buffer,
  firstOffset: number,
  epoch: number,
  logAppendTime: number,
  onBatch: ((buf: Buffer, at: number) => void) | undefined,
  where: { topic: string; partition: number },
): AssignedBatches {
  let positions = assigned.positions;
  let offset = firstOffset;
  let pos = 0;
  let count = 0;
  let maxTs = -1;
  let records = 0;
  while (pos < batches.length) {
    const left = batches.length - pos;
    const size = left >= BATCH_HEADER_SIZE ? BatchHeader.totalSize(batches, pos) : -1;
    if (size < BATCH_HEADER_SIZE || size > left || BatchHeader.magic(batches, pos) !== MAGIC_V2)
      throw bad(where, offset, pos, `not a whole magic v2 batch at byte ${pos} of the append`);
    const delta = BatchHeader.lastOffsetDelta(batches, pos);
    if (delta < 0) throw bad(where, offset, pos, `negative last offset delta ${delta}`);
    BatchHeader.setBaseOffset(batches, offset, pos);
    BatchHeader.setPartitionLeaderEpoch(batches, epoch, pos);
    if (logAppendTime >= 0) {
      batches.writeInt16BE(
        BatchHeader.attributes(batches, pos) | TIMESTAMP_TYPE_BIT,
        pos + ATTRIBUTES_OFFSET,
      );
      writeInt64(batches, pos + MAX_TIMESTAMP_OFFSET, logAppendTime);
      updateBatchCrc(batches, pos);
    }
    onBatch?.(batches, pos);
    const last = offset + delta;
    const ts = BatchHeader.maxTimestamp(batches, pos);
    if (positions.length < (count + 1) * 4) {
      const bigger = new Float64Array(positions.length * 2);
      bigger.set(positions);
      positions = assigned.positions = bigger;
    }
    positions[count * 4] = pos;
    positions[count * 4 + 1] = size;
    positions[count * 4 + 2] = last;
    positions[count * 4 + 3] = ts;
    if (ts > maxTs) maxTs = ts;
    records += BatchHeader.recordsCount(batches, pos);
    count++;
    offset = last + 1;
    pos += size;
  }
  if (count === 0) throw bad(where, offset, 0, 'empty append');
  assigned.count = count;
  assigned.nextOffset = offset;
  assigned.maxTimestamp = maxTs;
  assigned.records = records;
  return assigned;
}
