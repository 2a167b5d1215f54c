import { codecFor } from '../compression/index.js';
import { crc32c } from '../crc32c.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_MASK,
  CompressionType,
  CONTROL_BIT,
  CRC_OFFSET,
  DELETE_HORIZON_BIT,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_BIT,
  TimestampType,
  TRANSACTIONAL_BIT,
} from './header.js';
import type { RecordBatchOptions, RecordInput } from './types.js';
import { utf8Length, writeUtf8 } from './utf8.js';
import {
  uvarintSize,
  varintSize,
  varlongSize,
  writeInt64,
  writeVarint,
  writeVarlong,
} from './varint.js';

/** Kafka's "no timestamp" (an empty batch, a record without one in old formats). */
export const NO_TIMESTAMP = -1;

// Body sizes of the records being encoded, kept between the sizing and the writing pass. Reused
// across calls (encoding is synchronous) so that a batch costs no per-record allocation.
let bodySizes = new Int32Array(1024);
// Scratch space for the uncompressed records of a compressed batch, grown as needed.
let scratch = Buffer.allocUnsafe(64 * 1024);

// Batches up to SLAB_MAX bytes are cut from a shared slab, like Buffer's own pool does for small
// buffers: a fresh ArrayBuffer per 16 KiB batch (and its collection) cost a third or more of the
// encode time. A live batch keeps its slab alive, as with Buffer's pool.
const SLAB_SIZE = 256 * 1024;
const SLAB_MAX = 64 * 1024;
let slab = Buffer.allocUnsafe(0);
let slabUsed = 0;

/** A new Buffer of `size` bytes for a batch (a slice of the slab when small). */
function allocBatch(size: number): Buffer {
  if (size > SLAB_MAX) return Buffer.allocUnsafe(size);
  if (slab.length - slabUsed < size) {
    slab = Buffer.allocUnsafe(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  // Keep slices 8-byte aligned so that typed-array views of a batch stay possible.
  slabUsed = (slabUsed + size + 7) & ~7;
  return out;
}

function checkBytes(v: unknown, what: string): void {
  if (v !== null && v !== undefined && !(v instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a Buffer, a Uint8Array or null`);
  }
}

function headersSize(record: RecordInput): number {
  const headers = record.headers;
  if (headers === undefined) return 1;
  let size = uvarintSize(headers.length * 2);
  for (let j = 0; j < headers.length; j++) {
    const h = headers[j];
    if (typeof h.key !== 'string') throw new TypeError('header key must be a string');
    checkBytes(h.value, 'header value');
    const k = utf8Length(h.key);
    size += uvarintSize(k * 2) + k;
    const v = h.value;
    size += v === null || v === undefined ? 1 : uvarintSize(v.length * 2) + v.length;
  }
  return size;
}

/**
 * Writes the records (length-prefixed, as in the batch) into `buf` from `pos`, using the body
 * sizes of the sizing pass; returns the end position.
 */
function writeRecords(
  buf: Buffer,
  pos: number,
  records: readonly RecordInput[],
  baseTimestamp: number,
  defaultTimestamp: number,
): number {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    pos = writeVarint(buf, pos, bodySizes[i]);
    buf[pos++] = 0; // record attributes: unused
    pos = writeVarlong(buf, pos, (r.timestamp ?? defaultTimestamp) - baseTimestamp);
    pos = writeVarint(buf, pos, r.offsetDelta ?? i);
    const key = r.key;
    if (key === null || key === undefined) {
      buf[pos++] = 1; // zig-zag -1
    } else {
      pos = writeVarint(buf, pos, key.length);
      buf.set(key, pos);
      pos += key.length;
    }
    const value = r.value;
    if (value === null || value === undefined) {
      buf[pos++] = 1;
    } else {
      pos = writeVarint(buf, pos, value.length);
      buf.set(value, pos);
      pos += value.length;
    }
    const headers = r.headers;
    if (headers === undefined || headers.length === 0) {
      buf[pos++] = 0;
    } else {
      pos = writeVarint(buf, pos, headers.length);
      for (let j = 0; j < headers.length; j++) {
        const h = headers[j];
        const k = utf8Length(h.key);
        pos = writeUtf8(buf, writeVarint(buf, pos, k), h.key, k);
        const v = h.value;
        if (v === null || v === undefined) {
          buf[pos++] = 1;
        } else {
          pos = writeVarint(buf, pos, v.length);
          buf.set(v, pos);
          pos += v.length;
        }
      }
    }
  }
  return pos;
}

/**
 * Encodes a magic v2 record batch into one new Buffer: computes lastOffsetDelta, base and max
 * timestamps and the CRC-32C, compresses the records with the chosen codec.
 *
 * Uncompressed batches are sized first and written straight into their final buffer; compressed
 * ones are written into a reused scratch buffer and compressed from there.
 *
 * @throws TypeError / RangeError when the options are not a valid batch (wrong types, offset
 *   deltas that do not increase, more than 2^31 - 1 bytes).
 */
export function encodeRecordBatch(options: RecordBatchOptions): Buffer {
  const records = options.records;
  const n = records.length;
  const compression = options.compression ?? CompressionType.None;
  const codec = codecFor(compression);
  const defaultTimestamp = options.timestamp ?? Date.now();

  let baseTimestamp = NO_TIMESTAMP;
  let maxTimestamp = NO_TIMESTAMP;
  if (n > 0) {
    baseTimestamp = records[0].timestamp ?? defaultTimestamp;
    maxTimestamp = baseTimestamp;
  }
  if (options.deleteHorizonMs !== undefined) baseTimestamp = options.deleteHorizonMs;

  if (bodySizes.length < n) bodySizes = new Int32Array(Math.max(n, bodySizes.length * 2));
  let recordsSize = 0;
  let lastDelta = -1;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    const ts = r.timestamp ?? defaultTimestamp;
    if (!Number.isFinite(ts)) throw new TypeError(`record ${i}: timestamp must be a number`);
    if (ts > maxTimestamp) maxTimestamp = ts;
    const delta = r.offsetDelta ?? i;
    if (!Number.isInteger(delta) || delta <= lastDelta || delta > 0x7fffffff) {
      throw new RangeError(
        `record ${i}: offsetDelta ${delta} must be an integer above ${lastDelta}`,
      );
    }
    lastDelta = delta;
    const key = r.key;
    const value = r.value;
    checkBytes(key, `record ${i}: key`);
    checkBytes(value, `record ${i}: value`);
    const body =
      1 +
      varlongSize(ts - baseTimestamp) +
      varintSize(delta) +
      (key === null || key === undefined ? 1 : varintSize(key.length) + key.length) +
      (value === null || value === undefined ? 1 : varintSize(value.length) + value.length) +
      headersSize(r);
    bodySizes[i] = body;
    recordsSize += varintSize(body) + body;
  }
  if (options.maxTimestamp !== undefined) maxTimestamp = options.maxTimestamp;
  const lastOffsetDelta = options.lastOffsetDelta ?? (n > 0 ? lastDelta : 0);

  let out: Buffer;
  if (compression === CompressionType.None) {
    checkSize(BATCH_HEADER_SIZE + recordsSize);
    out = allocBatch(BATCH_HEADER_SIZE + recordsSize);
    writeRecords(out, BATCH_HEADER_SIZE, records, baseTimestamp, defaultTimestamp);
  } else if (n === 0) {
    // Like Kafka's empty batches (kept by compaction for producer state): no records bytes at all.
    out = allocBatch(BATCH_HEADER_SIZE);
  } else {
    if (scratch.length < recordsSize) {
      checkSize(recordsSize);
      scratch = Buffer.allocUnsafe(Math.max(recordsSize, scratch.length * 2));
    }
    writeRecords(scratch, 0, records, baseTimestamp, defaultTimestamp);
    const compressed = codec.compress(scratch.subarray(0, recordsSize), options.compressionLevel);
    checkSize(BATCH_HEADER_SIZE + compressed.length);
    out = allocBatch(BATCH_HEADER_SIZE + compressed.length);
    out.set(compressed, BATCH_HEADER_SIZE);
  }

  let attributes = compression & COMPRESSION_MASK;
  if (options.timestampType === TimestampType.LogAppendTime) attributes |= TIMESTAMP_TYPE_BIT;
  if (options.transactional) attributes |= TRANSACTIONAL_BIT;
  if (options.control) attributes |= CONTROL_BIT;
  if (options.deleteHorizonMs !== undefined) attributes |= DELETE_HORIZON_BIT;

  writeInt64(out, BASE_OFFSET_OFFSET, options.baseOffset ?? 0);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt32BE(options.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
  out[MAGIC_OFFSET] = MAGIC_V2;
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  out.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(out, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  writeInt64(out, PRODUCER_ID_OFFSET, options.producerId ?? -1);
  out.writeInt16BE(options.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  out.writeInt32BE(options.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  out.writeInt32BE(n, RECORDS_COUNT_OFFSET);
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return out;
}

function checkSize(size: number): void {
  if (size > 0x7fffffff) throw new RangeError(`record batch of ${size} bytes exceeds 2 GiB`);
}

/** Recomputes and stores the CRC of a batch after its covered fields were patched in place. */
export function updateBatchCrc(buf: Buffer, at = 0): void {
  const end = at + buf.readInt32BE(at + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  buf.writeUInt32BE(crc32c(buf.subarray(at + ATTRIBUTES_OFFSET, end)), at + CRC_OFFSET);
}
