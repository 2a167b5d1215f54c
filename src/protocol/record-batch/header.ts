/**
 * The 61-byte header of a magic v2 record batch (see ../shared/kafka-protocol/RECORD-BATCH.md):
 * field positions and accessors that read or patch one field in place, so that the storage layer
 * and the broker can work on batches without decoding them.
 */

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Size of the batch header, up to and including recordsCount. */
export const BATCH_HEADER_SIZE = 61;
/** baseOffset (8) + batchLength (4): the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
/** The CRC covers attributes..end. */
export const CRC_COVERED_FROM = ATTRIBUTES_OFFSET;

export const MAGIC_V2 = 2;

/** Attribute bits. */
export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_BIT = 0x08;
export const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;
export const DELETE_HORIZON_BIT = 0x40;

export enum CompressionType {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}

/** Field accessors over a batch that starts at `at` in `buf`. Offsets are exact below 2^53. */
export const BatchHeader = {
  baseOffset: (buf: Buffer, at = 0): number => readInt64(buf, at + BASE_OFFSET_OFFSET),
  setBaseOffset: (buf: Buffer, v: number, at = 0): void =>
    writeInt64(buf, at + BASE_OFFSET_OFFSET, v),
  batchLength: (buf: Buffer, at = 0): number => buf.readInt32BE(at + BATCH_LENGTH_OFFSET),
  /** Total bytes of the batch on the wire and on disk: batchLength + 12. */
  totalSize: (buf: Buffer, at = 0): number =>
    buf.readInt32BE(at + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD,
  partitionLeaderEpoch: (buf: Buffer, at = 0): number =>
    buf.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
  setPartitionLeaderEpoch: (buf: Buffer, v: number, at = 0): void => {
    buf.writeInt32BE(v, at + PARTITION_LEADER_EPOCH_OFFSET);
  },
  magic: (buf: Buffer, at = 0): number => buf.readInt8(at + MAGIC_OFFSET),
  crc: (buf: Buffer, at = 0): number => buf.readUInt32BE(at + CRC_OFFSET),
  attributes: (buf: Buffer, at = 0): number => buf.readInt16BE(at + ATTRIBUTES_OFFSET),
  compression: (buf: Buffer, at = 0): CompressionType =>
    buf.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_MASK,
  timestampType: (buf: Buffer, at = 0): TimestampType =>
    buf.readInt16BE(at + ATTRIBUTES_OFFSET) & TIMESTAMP_TYPE_BIT
      ? TimestampType.LogAppendTime
      : TimestampType.CreateTime,
  isTransactional: (buf: Buffer, at = 0): boolean =>
    (buf.readInt16BE(at + ATTRIBUTES_OFFSET) & TRANSACTIONAL_BIT) !== 0,
  isControl: (buf: Buffer, at = 0): boolean =>
    (buf.readInt16BE(at + ATTRIBUTES_OFFSET) & CONTROL_BIT) !== 0,
  lastOffsetDelta: (buf: Buffer, at = 0): number => buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
  lastOffset: (buf: Buffer, at = 0): number =>
    readInt64(buf, at + BASE_OFFSET_OFFSET) + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
  baseTimestamp: (buf: Buffer, at = 0): number => readInt64(buf, at + BASE_TIMESTAMP_OFFSET),
  maxTimestamp: (buf: Buffer, at = 0): number => readInt64(buf, at + MAX_TIMESTAMP_OFFSET),
  producerId: (buf: Buffer, at = 0): number => readInt64(buf, at + PRODUCER_ID_OFFSET),
  producerEpoch: (buf: Buffer, at = 0): number => buf.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
  baseSequence: (buf: Buffer, at = 0): number => buf.readInt32BE(at + BASE_SEQUENCE_OFFSET),
  recordsCount: (buf: Buffer, at = 0): number => buf.readInt32BE(at + RECORDS_COUNT_OFFSET),
} as const;
