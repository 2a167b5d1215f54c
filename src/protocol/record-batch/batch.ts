import { codecFor, DEFAULT_MAX_DECOMPRESSED_SIZE } from '../compression/index.js';
import { crc32c } from '../crc32c.js';
import { DecodeError } from '../primitives/decode-error.js';
import { MIN_RECORD_BODY, RecordCursor } from './cursor.js';
import { CorruptRecordError } from './errors.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  BatchHeader,
  COMPRESSION_MASK,
  CompressionType,
  CONTROL_BIT,
  CRC_OFFSET,
  DELETE_HORIZON_BIT,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_BIT,
  TimestampType,
  TRANSACTIONAL_BIT,
} from './header.js';
import type { KafkaRecord } from './types.js';

/** Smallest batchLength: the header after baseOffset and batchLength, with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;
/** Smallest encoded record: a one-byte length varint and the minimal body. */
export const MIN_RECORD_SIZE = 1 + MIN_RECORD_BODY;

export interface DecodeOptions {
  /** Check the CRC-32C (default true). Turn off only for bytes already verified. */
  verifyCrc?: boolean;
  /** Bound on the decompressed records section (default 64 MiB). */
  maxDecompressedSize?: number;
}

/**
 * Checks that a whole magic v2 batch starts at `at` (header present, batchLength sane and within
 * the buffer, magic 2) and returns its total size in bytes.
 */
export function checkBatchFrame(buf: Buffer, at = 0): number {
  const remaining = buf.length - at;
  if (remaining < BATCH_HEADER_SIZE) {
    throw new DecodeError(
      `record batch needs ${BATCH_HEADER_SIZE} header bytes, ${remaining} remain`,
      at,
    );
  }
  const magic = buf.readInt8(at + MAGIC_OFFSET);
  if (magic !== MAGIC_V2) {
    throw new DecodeError(`unsupported record batch magic ${magic} (only 2 is supported)`, at);
  }
  const batchLength = buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new DecodeError(`record batch length ${batchLength} is below ${MIN_BATCH_LENGTH}`, at);
  }
  if (batchLength > remaining - LOG_OVERHEAD) {
    throw new DecodeError(
      `record batch length ${batchLength} runs past the end (${remaining - LOG_OVERHEAD} bytes remain)`,
      at,
    );
  }
  return batchLength + LOG_OVERHEAD;
}

/** Throws CorruptRecordError unless the stored CRC matches the batch `buf[at, at + size)`. */
export function verifyBatchCrc(buf: Buffer, at: number, size: number): void {
  const stored = buf.readUInt32BE(at + CRC_OFFSET);
  const actual = crc32c(buf.subarray(at + ATTRIBUTES_OFFSET, at + size));
  if (stored !== actual) {
    throw new CorruptRecordError(
      `record batch at offset ${BatchHeader.baseOffset(buf, at)} is corrupt: stored CRC ${stored}, computed ${actual}`,
      stored,
      actual,
      at,
    );
  }
}

/**
 * A view over one magic v2 record batch (the Buffer is not copied). Header fields are read on
 * demand; records are reached through {@link RecordBatch.cursor} (no allocation per record) or
 * iteration (one object per record). Compressed records are decompressed once, on first use.
 */
export class RecordBatch {
  /** Exactly the bytes of this batch (a view into the buffer it was decoded from). */
  readonly buffer: Buffer;
  private readonly maxDecompressedSize: number;
  private records: Buffer | undefined;

  /** Use {@link decodeRecordBatch}, which validates; this trusts its input. */
  constructor(buffer: Buffer, maxDecompressedSize = DEFAULT_MAX_DECOMPRESSED_SIZE) {
    this.buffer = buffer;
    this.maxDecompressedSize = maxDecompressedSize;
  }

  get sizeInBytes(): number {
    return this.buffer.length;
  }
  get baseOffset(): number {
    return BatchHeader.baseOffset(this.buffer);
  }
  get batchLength(): number {
    return BatchHeader.batchLength(this.buffer);
  }
  get partitionLeaderEpoch(): number {
    return BatchHeader.partitionLeaderEpoch(this.buffer);
  }
  get magic(): number {
    return BatchHeader.magic(this.buffer);
  }
  get crc(): number {
    return BatchHeader.crc(this.buffer);
  }
  get attributes(): number {
    return BatchHeader.attributes(this.buffer);
  }
  get compression(): CompressionType {
    return this.attributes & COMPRESSION_MASK;
  }
  get timestampType(): TimestampType {
    return this.attributes & TIMESTAMP_TYPE_BIT
      ? TimestampType.LogAppendTime
      : TimestampType.CreateTime;
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_BIT) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_BIT) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & DELETE_HORIZON_BIT) !== 0;
  }
  /** The delete horizon (ms) written by the log cleaner, or -1 when the bit is unset. */
  get deleteHorizonMs(): number {
    return this.hasDeleteHorizon ? this.baseTimestamp : -1;
  }
  get lastOffsetDelta(): number {
    return BatchHeader.lastOffsetDelta(this.buffer);
  }
  get lastOffset(): number {
    return BatchHeader.lastOffset(this.buffer);
  }
  /** The offset after this batch: where the next batch of the partition starts. */
  get nextOffset(): number {
    return this.lastOffset + 1;
  }
  get baseTimestamp(): number {
    return BatchHeader.baseTimestamp(this.buffer);
  }
  get maxTimestamp(): number {
    return BatchHeader.maxTimestamp(this.buffer);
  }
  get producerId(): number {
    return BatchHeader.producerId(this.buffer);
  }
  get producerEpoch(): number {
    return BatchHeader.producerEpoch(this.buffer);
  }
  get baseSequence(): number {
    return BatchHeader.baseSequence(this.buffer);
  }
  get recordsCount(): number {
    return BatchHeader.recordsCount(this.buffer);
  }

  /**
   * The records section, decompressed when the batch is compressed (cached). For uncompressed
   * batches this is a view of the batch from byte 61.
   * @throws DecodeError for an unknown codec, corrupt compressed data or a decompression bomb.
   */
  recordsBuffer(): Buffer {
    if (this.records !== undefined) return this.records;
    const data = this.buffer.subarray(BATCH_HEADER_SIZE);
    if (this.compression === CompressionType.None) return (this.records = data);
    if (this.recordsCount === 0) return (this.records = Buffer.alloc(0));
    return this.checkDecompressed(
      codecFor(this.compression).decompress(data, this.maxDecompressedSize),
    );
  }

  /**
   * Decompresses the records off the event loop (see CompressionCodec.decompressAsync) and caches
   * them, so that the cursor and iterators that follow do no blocking work. Worth it for large
   * compressed batches; a no-op for uncompressed ones.
   */
  async decompressAsync(): Promise<Buffer> {
    if (this.records !== undefined) return this.records;
    if (this.compression === CompressionType.None || this.recordsCount === 0) {
      return this.recordsBuffer();
    }
    const codec = codecFor(this.compression);
    const out = await codec.decompressAsync(
      this.buffer.subarray(BATCH_HEADER_SIZE),
      this.maxDecompressedSize,
    );
    return this.checkDecompressed(out);
  }

  private checkDecompressed(out: Buffer): Buffer {
    const count = this.recordsCount;
    if (count > out.length / MIN_RECORD_SIZE) {
      throw new DecodeError(
        `record batch declares ${count} records but decompresses to ${out.length} bytes`,
        0,
      );
    }
    this.records = out;
    return out;
  }

  /**
   * Points `cursor` (a new one by default; pass one to reuse it) at this batch's records.
   * Decompresses on first use.
   */
  cursor(cursor: RecordCursor = new RecordCursor()): RecordCursor {
    // Uncompressed records are walked in the batch itself, so that positions are batch offsets
    // (and no view of the records section is made).
    const inBatch = this.compression === CompressionType.None;
    const buf = inBatch ? this.buffer : this.recordsBuffer();
    return cursor.reset(
      buf,
      inBatch ? BATCH_HEADER_SIZE : 0,
      buf.length,
      this.recordsCount,
      this.baseOffset,
      this.baseTimestamp,
      this.timestampType === TimestampType.LogAppendTime ? this.maxTimestamp : -1,
    );
  }

  /** Every record as an object; key/value/header values are views. */
  *[Symbol.iterator](): IterableIterator<KafkaRecord> {
    const cursor = this.cursor();
    while (cursor.next()) yield cursor.record();
  }

  /** Same as iterating the batch. */
  recordsIterator(): IterableIterator<KafkaRecord> {
    return this[Symbol.iterator]();
  }

  /** All records as an array. */
  toArray(): KafkaRecord[] {
    return [...this];
  }
}

/**
 * Decodes the record batch at `buf[at]`: checks its frame (length within the buffer, magic 2)
 * and CRC-32C, and returns a {@link RecordBatch} view. Records are parsed lazily as they are read.
 *
 * @throws DecodeError for a malformed batch; CorruptRecordError for a CRC mismatch.
 */
export function decodeRecordBatch(buf: Buffer, at = 0, options: DecodeOptions = {}): RecordBatch {
  const size = checkBatchFrame(buf, at);
  if (options.verifyCrc !== false) verifyBatchCrc(buf, at, size);
  const count = buf.readInt32BE(at + RECORDS_COUNT_OFFSET);
  if (count < 0) throw new DecodeError(`negative record count ${count}`, at + RECORDS_COUNT_OFFSET);
  const compressed = (buf.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_MASK) !== 0;
  if (!compressed && count > (size - BATCH_HEADER_SIZE) / MIN_RECORD_SIZE) {
    throw new DecodeError(
      `record batch declares ${count} records in ${size - BATCH_HEADER_SIZE} bytes`,
      at + RECORDS_COUNT_OFFSET,
    );
  }
  const maxSize = options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE;
  if (compressed && count * MIN_RECORD_SIZE > maxSize) {
    throw new DecodeError(
      `record batch declares ${count} records, more than ${maxSize} decompressed bytes can hold`,
      at + RECORDS_COUNT_OFFSET,
    );
  }
  // A buffer that is exactly one batch (a produced partition's records) is its own view.
  const view = at === 0 && size === buf.length ? buf : buf.subarray(at, at + size);
  return new RecordBatch(view, maxSize);
}
