/**
 * A producer batch under construction: records are written straight into the batch's buffer as
 * they are sent (no record object is kept), after a 61-byte gap for the batch header that
 * {@link BatchBuilder.build} fills in once the producer id, epoch and sequence are known.
 */
import { codecFor } from '../../protocol/compression/index.js';
import { crc32c } from '../../protocol/crc32c.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  CompressionType,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  TRANSACTIONAL_BIT,
} from '../../protocol/record-batch/header.js';
import {
  varintSize,
  varlongSize,
  writeInt64,
  writeVarint,
  writeVarlong,
} from '../../protocol/record-batch/varint.js';

/** Record key, value or header value as the producer accepts it. */
export type Bytes = Buffer | Uint8Array | string | null | undefined;

/** A record header as the producer accepts it. */
export interface ProducerHeader {
  key: string;
  value: Bytes;
}

/** Who waits for which records of a batch: one entry per run of records from one `send` call. */
export interface BatchWaiter {
  /** Called with the batch's base offset (or an error) once the batch is acknowledged. */
  done(batch: BatchBuilder, baseOffset: number, logAppendTime: number, err?: Error): void;
  /** Index of the run's first record in the batch. */
  first: number;
  /** Index of the run's first record in the caller's list. */
  callIndex: number;
  count: number;
}

function byteLength(v: Bytes): number {
  if (v === null || v === undefined) return -1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  return v.length;
}

function writeBytes(buf: Buffer, pos: number, v: Bytes, len: number): number {
  if (len < 0) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, len);
  if (typeof v === 'string') buf.write(v, pos, len, 'utf8');
  else buf.set(v as Uint8Array, pos);
  return pos + len;
}

/** What a batch allocates at first: Kafka's default batch.size. */
export const INITIAL_BATCH_BYTES = 16 * 1024;

/** A batch of one partition being filled. */
export class BatchBuilder {
  readonly topic: string;
  readonly partition: number;
  /** Records written so far. */
  count = 0;
  /** When the first record was appended (for lingerMs). */
  readonly createdAt: number;
  /** Bytes the batch may grow to (batchSize; a first record larger than that gets its size). */
  readonly limit: number;
  /** Bytes of the producer's buffer memory counted for this batch (kept by the accumulator). */
  reserved = 0;
  baseTimestamp = 0;
  maxTimestamp = 0;
  readonly waiters: BatchWaiter[] = [];
  /** Set once sent: the sequence and producer fields are then fixed, even across retries. */
  built: Buffer | undefined;
  baseSequence = -1;
  /** Attempts so far (for retry backoff). */
  attempts = 0;
  /** Earliest time of the next attempt. */
  retryAt = 0;
  private buf: Buffer;
  private pos = BATCH_HEADER_SIZE;
  private closed = false;

  /**
   * `initial`: bytes to allocate at first (at least Kafka's default batch.size, at most `limit`);
   * the accumulator passes what the partition's last batch took.
   */
  constructor(
    topic: string,
    partition: number,
    limit: number,
    now: number,
    initial = INITIAL_BATCH_BYTES,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.limit = limit;
    // Start small and grow: with linger.ms, most batches close long before a large batchSize,
    // and allocating all of it up front churns external memory (and with it, the GC).
    this.buf = Buffer.allocUnsafe(
      Math.min(limit, Math.max(INITIAL_BATCH_BYTES, Math.ceil(initial))),
    );
    this.createdAt = now;
  }

  /** Bytes allocated for the batch so far. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Bytes written (header gap included). */
  get sizeInBytes(): number {
    return this.pos;
  }

  /** True when no more records will be appended. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops appends; the batch is then ready to send. */
  close(): void {
    this.closed = true;
  }

  /**
   * Appends a record. Returns false (writing nothing) when the record does not fit and the
   * batch already has records; a first record always fits (the batch was sized for it).
   */
  tryAppend(
    key: Bytes,
    value: Bytes,
    headers: readonly ProducerHeader[] | undefined,
    timestamp: number,
  ): boolean {
    if (this.closed) return false;
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    }
    const tsDelta = timestamp - this.baseTimestamp;
    const offsetDelta = this.count;
    const keyLen = byteLength(key);
    const valueLen = byteLength(value);
    let size =
      1 +
      varlongSize(tsDelta) +
      varintSize(offsetDelta) +
      (keyLen < 0 ? 1 : varintSize(keyLen) + keyLen) +
      (valueLen < 0 ? 1 : varintSize(valueLen) + valueLen);
    let headerLens: number[] | undefined;
    if (headers === undefined || headers.length === 0) {
      size += 1;
    } else {
      headerLens = new Array(headers.length * 2);
      size += varintSize(headers.length);
      for (let i = 0; i < headers.length; i++) {
        const kl = Buffer.byteLength(headers[i].key, 'utf8');
        const vl = byteLength(headers[i].value);
        headerLens[i * 2] = kl;
        headerLens[i * 2 + 1] = vl;
        size += varintSize(kl) + kl + (vl < 0 ? 1 : varintSize(vl) + vl);
      }
    }
    const total = varintSize(size) + size;
    const needed = this.pos + total;
    if (needed > this.buf.length) {
      if (needed > this.limit && this.count > 0) return false;
      const grown =
        needed > this.limit ? needed : Math.min(this.limit, Math.max(needed, this.buf.length * 2));
      const bigger = Buffer.allocUnsafe(grown);
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
    const buf = this.buf;
    let pos = writeVarint(buf, this.pos, size);
    buf[pos++] = 0; // record attributes: unused
    pos = writeVarlong(buf, pos, tsDelta);
    pos = writeVarint(buf, pos, offsetDelta);
    pos = writeBytes(buf, pos, key, keyLen);
    pos = writeBytes(buf, pos, value, valueLen);
    if (headers === undefined || headerLens === undefined) {
      buf[pos++] = 0;
    } else {
      pos = writeVarint(buf, pos, headers.length);
      for (let i = 0; i < headers.length; i++) {
        pos = writeBytes(buf, pos, headers[i].key, headerLens[i * 2]);
        pos = writeBytes(buf, pos, headers[i].value, headerLens[i * 2 + 1]);
      }
    }
    this.pos = pos;
    this.count++;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    return true;
  }

  /**
   * The finished batch: header filled, records compressed when asked, CRC computed. Built once;
   * retries resend the same bytes (same sequence), as idempotence requires.
   */
  build(
    producerId: number,
    producerEpoch: number,
    baseSequence: number,
    compression: CompressionType,
    transactional = false,
  ): Buffer {
    if (this.built) return this.built;
    this.closed = true;
    this.baseSequence = baseSequence;
    let out: Buffer;
    if (compression === CompressionType.None) {
      out = this.buf.subarray(0, this.pos);
    } else {
      const compressed = codecFor(compression).compress(
        this.buf.subarray(BATCH_HEADER_SIZE, this.pos),
      );
      out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + compressed.length);
      compressed.copy(out, BATCH_HEADER_SIZE);
    }
    writeInt64(out, BASE_OFFSET_OFFSET, 0);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    out.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET);
    out[MAGIC_OFFSET] = MAGIC_V2;
    out.writeInt16BE(compression | (transactional ? TRANSACTIONAL_BIT : 0), ATTRIBUTES_OFFSET);
    out.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET);
    writeInt64(out, BASE_TIMESTAMP_OFFSET, this.baseTimestamp);
    writeInt64(out, MAX_TIMESTAMP_OFFSET, this.maxTimestamp);
    writeInt64(out, PRODUCER_ID_OFFSET, producerId);
    out.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET);
    out.writeInt32BE(this.count, RECORDS_COUNT_OFFSET);
    out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    this.built = out;
    return out;
  }

  /** Forgets the built bytes so the batch is rebuilt (after a producer epoch bump). */
  unbuild(): void {
    if (!this.built) return;
    this.built = undefined;
    this.baseSequence = -1;
  }

  /** Tells every waiter the outcome. */
  complete(baseOffset: number, logAppendTime: number, err?: Error): void {
    for (const w of this.waiters) w.done(this, baseOffset, logAppendTime, err);
    this.waiters.length = 0;
  }
}
