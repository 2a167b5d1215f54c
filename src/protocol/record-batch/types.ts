import type { CompressionType, TimestampType } from './header.js';

/** A record header as the encoder takes it: the key is UTF-8 text, the value any bytes or null. */
export interface RecordHeaderInput {
  key: string;
  value: Uint8Array | null;
}

/** A decoded record header; the value is a view into the batch (or its decompressed records). */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** One record to encode. Missing key/value mean null; a null value is a tombstone. */
export interface RecordInput {
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: readonly RecordHeaderInput[];
  /** Milliseconds since the epoch; defaults to the batch's `timestamp` option (or now). */
  timestamp?: number;
  /**
   * Offset relative to the batch's baseOffset; defaults to the record's index. Only compacted
   * batches have gaps; deltas must increase.
   */
  offsetDelta?: number;
}

/** Everything a magic v2 record batch carries besides its records. */
export interface RecordBatchOptions {
  records: readonly RecordInput[];
  /** Offset of the first record (the broker assigns it on append). Default 0. */
  baseOffset?: number;
  /** Default -1 (what producers send; the leader writes its epoch). */
  partitionLeaderEpoch?: number;
  /** Default -1: not idempotent. */
  producerId?: number;
  /** Default -1. */
  producerEpoch?: number;
  /** Default -1. */
  baseSequence?: number;
  /** Default CompressionType.None. */
  compression?: CompressionType;
  /** Codec level (gzip 1–9, zstd 1–22); the codec's default when absent. */
  compressionLevel?: number;
  /** Default CreateTime. */
  timestampType?: TimestampType;
  transactional?: boolean;
  /** A control batch (transaction markers); usually built with `encodeControlBatch`. */
  control?: boolean;
  /**
   * Sets the delete-horizon attribute (bit 6): the batch's baseTimestamp is then this horizon and
   * record timestamps are stored relative to it, as the log cleaner writes them.
   */
  deleteHorizonMs?: number;
  /** Timestamp for records that carry none. Default Date.now() at encode time. */
  timestamp?: number;
  /** Overrides the computed maxTimestamp (the broker writes its append time with LogAppendTime). */
  maxTimestamp?: number;
  /** Overrides lastOffsetDelta (a compacted batch keeps the delta of its removed last record). */
  lastOffsetDelta?: number;
}

/** A decoded record, for casual use; the hot path reads a {@link RecordCursor} instead. */
export interface KafkaRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  offsetDelta: number;
  timestampDelta: number;
  /** Record-level attributes (unused by Kafka, always 0 when written by it). */
  attributes: number;
}
