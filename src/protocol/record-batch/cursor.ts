import { DecodeError } from '../primitives/decode-error.js';
import type { KafkaRecord, RecordHeader } from './types.js';
import { readUtf8 } from './utf8.js';

const EMPTY = Buffer.alloc(0);
/** attributes(1) + timestampDelta(1) + offsetDelta(1) + keyLength(1) + valueLength(1) + headers(1). */
export const MIN_RECORD_BODY = 6;

/**
 * A reusable cursor over the records of one batch: `next()` parses the next record in place and
 * exposes its fields as numbers and buffer positions, allocating nothing. `key()`, `value()` and
 * `headers()` materialise views or objects on demand.
 *
 * Every record is checked as it is reached (length within the batch, varints well formed, field
 * lengths within the record, the fields filling exactly the declared length), so garbage raises
 * {@link DecodeError} and never reads outside the records.
 *
 * ```ts
 * const cursor = batch.cursor();
 * while (cursor.next()) use(cursor.offset, cursor.buffer, cursor.valueOffset, cursor.valueLength);
 * ```
 */
export class RecordCursor {
  /** The buffer that the positions refer to: the batch itself or its decompressed records. */
  buffer: Buffer = EMPTY;
  baseOffset = 0;
  baseTimestamp = 0;
  /** Records in the batch. */
  count = 0;
  /** Index of the current record in the batch (-1 before the first `next()`). */
  index = -1;

  /** Absolute offset of the current record. */
  offset = -1;
  /** Timestamp of the current record (the batch's maxTimestamp under LogAppendTime). */
  timestamp = -1;
  offsetDelta = 0;
  timestampDelta = 0;
  attributes = 0;
  /** Position of the key in `buffer`; meaningful when keyLength >= 0. */
  keyOffset = 0;
  /** Key length, -1 for a null key. */
  keyLength = -1;
  valueOffset = 0;
  /** Value length, -1 for a null value (a tombstone). */
  valueLength = -1;
  headerCount = 0;

  /** Fields of the current header during a `nextHeader()` walk. */
  headerKeyOffset = 0;
  headerKeyLength = 0;
  headerValueOffset = 0;
  headerValueLength = -1;

  private pos = 0;
  private end = 0;
  private logAppendTime = -1;
  private headersStart = 0;
  private headerPos = 0;
  private headersLeft = 0;

  /**
   * Points the cursor at `count` records in `buffer[start, end)`. `logAppendTime` >= 0 makes
   * every record's timestamp that value (Kafka's LogAppendTime semantics).
   */
  reset(
    buffer: Buffer,
    start: number,
    end: number,
    count: number,
    baseOffset: number,
    baseTimestamp: number,
    logAppendTime = -1,
  ): this {
    this.buffer = buffer;
    this.pos = start;
    this.end = end;
    this.count = count;
    this.index = -1;
    this.baseOffset = baseOffset;
    this.baseTimestamp = baseTimestamp;
    this.logAppendTime = logAppendTime;
    this.headersLeft = 0;
    return this;
  }

  private fail(message: string, at = this.pos): never {
    throw new DecodeError(`record ${this.index} of ${this.count}: ${message}`, at);
  }

  /** Zig-zag varint (int32) at `pos`, not reading past `limit`. */
  private varint(limit: number): number {
    const buf = this.buffer;
    let p = this.pos;
    let u = 0;
    let shift = 0;
    for (;;) {
      if (p >= limit) this.fail('varint runs past the end of the record', p);
      const b = buf[p++];
      if (shift === 28) {
        if (b > 0x0f) this.fail('varint is longer than 32 bits', p);
        u |= b << 28;
        break;
      }
      u |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    this.pos = p;
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag varlong as a number (exact within ±2^53). */
  private varlong(limit: number): number {
    const buf = this.buffer;
    let p = this.pos;
    let u = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= limit) this.fail('varlong runs past the end of the record', p);
      const b = buf[p++];
      u |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = p;
        return (u >>> 1) ^ -(u & 1);
      }
    }
    // Beyond 28 bits: continue in floating point (timestamps rarely get here).
    let v = u;
    let mul = 268435456;
    for (let i = 4; i < 10; i++) {
      if (p >= limit) this.fail('varlong runs past the end of the record', p);
      const b = buf[p++];
      if (i === 9 && b > 0x01) this.fail('varlong is longer than 64 bits', p);
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = p;
        return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
      }
      mul *= 128;
    }
    return this.fail('varlong is longer than 10 bytes', p);
  }

  /**
   * Moves to the next record; false when all `count` records were read.
   * @throws DecodeError when the record is malformed or bytes remain after the last record.
   */
  next(): boolean {
    if (this.index + 1 >= this.count) {
      if (this.index + 1 === this.count && this.pos !== this.end) {
        this.index = this.count;
        this.fail(`${this.end - this.pos} bytes remain after the last record`);
      }
      this.index = this.count;
      return false;
    }
    this.index++;
    const end = this.end;
    const len = this.varint(end);
    if (len < MIN_RECORD_BODY || len > end - this.pos) {
      this.fail(`record length ${len} does not fit the ${end - this.pos} bytes that remain`);
    }
    const recEnd = this.pos + len;
    this.attributes = this.buffer[this.pos++];
    const timestampDelta = this.varlong(recEnd);
    const offsetDelta = this.varint(recEnd);

    const keyLength = this.varint(recEnd);
    if (keyLength < -1 || keyLength > recEnd - this.pos)
      this.fail(`invalid key length ${keyLength}`);
    this.keyOffset = this.pos;
    this.keyLength = keyLength;
    if (keyLength > 0) this.pos += keyLength;

    const valueLength = this.varint(recEnd);
    if (valueLength < -1 || valueLength > recEnd - this.pos) {
      this.fail(`invalid value length ${valueLength}`);
    }
    this.valueOffset = this.pos;
    this.valueLength = valueLength;
    if (valueLength > 0) this.pos += valueLength;

    const headerCount = this.varint(recEnd);
    if (headerCount < 0 || headerCount * 2 > recEnd - this.pos) {
      this.fail(`invalid header count ${headerCount}`);
    }
    this.headerCount = headerCount;
    this.headersStart = this.pos;
    // Walk the headers now so that a malformed record is caught here, not when (or if) someone
    // reads its headers; with no headers this costs nothing.
    for (let i = 0; i < headerCount; i++) {
      const k = this.varint(recEnd);
      if (k < 0 || k > recEnd - this.pos) this.fail(`invalid header key length ${k}`);
      this.pos += k;
      const v = this.varint(recEnd);
      if (v < -1 || v > recEnd - this.pos) this.fail(`invalid header value length ${v}`);
      if (v > 0) this.pos += v;
    }
    if (this.pos !== recEnd) this.fail(`record declares ${len} bytes but its fields end early`);
    this.headerPos = this.headersStart;
    this.headersLeft = headerCount;

    this.offsetDelta = offsetDelta;
    this.timestampDelta = timestampDelta;
    this.offset = this.baseOffset + offsetDelta;
    this.timestamp =
      this.logAppendTime >= 0 ? this.logAppendTime : this.baseTimestamp + timestampDelta;
    return true;
  }

  /** The key as a view into `buffer`, or null. */
  key(): Buffer | null {
    return this.keyLength < 0
      ? null
      : this.buffer.subarray(this.keyOffset, this.keyOffset + this.keyLength);
  }

  /** The value as a view into `buffer`, or null (a tombstone). */
  value(): Buffer | null {
    return this.valueLength < 0
      ? null
      : this.buffer.subarray(this.valueOffset, this.valueOffset + this.valueLength);
  }

  /**
   * Moves to the next header of the current record (the walk restarts at each `next()`), setting
   * headerKeyOffset/Length and headerValueOffset/Length; false after the last one.
   */
  nextHeader(): boolean {
    if (this.headersLeft === 0) return false;
    this.headersLeft--;
    // Already validated by next(): read without limits beyond the buffer's own.
    const saved = this.pos;
    this.pos = this.headerPos;
    const k = this.varint(this.end);
    this.headerKeyOffset = this.pos;
    this.headerKeyLength = k;
    this.pos += k;
    const v = this.varint(this.end);
    this.headerValueOffset = this.pos;
    this.headerValueLength = v;
    if (v > 0) this.pos += v;
    this.headerPos = this.pos;
    this.pos = saved;
    return true;
  }

  /** Key of the current header (during a `nextHeader()` walk), decoded as UTF-8. */
  headerKey(): string {
    return readUtf8(this.buffer, this.headerKeyOffset, this.headerKeyLength);
  }

  /** Value of the current header as a view, or null. */
  headerValue(): Buffer | null {
    return this.headerValueLength < 0
      ? null
      : this.buffer.subarray(
          this.headerValueOffset,
          this.headerValueOffset + this.headerValueLength,
        );
  }

  /** All headers of the current record as objects (restarts the header walk). */
  headers(): RecordHeader[] {
    this.headerPos = this.headersStart;
    this.headersLeft = this.headerCount;
    const out: RecordHeader[] = [];
    while (this.nextHeader()) out.push({ key: this.headerKey(), value: this.headerValue() });
    return out;
  }

  /** The current record as a plain object (allocates: for casual use). */
  record(): KafkaRecord {
    return {
      offset: this.offset,
      timestamp: this.timestamp,
      key: this.key(),
      value: this.value(),
      headers: this.headerCount === 0 ? [] : this.headers(),
      offsetDelta: this.offsetDelta,
      timestampDelta: this.timestampDelta,
      attributes: this.attributes,
    };
  }
}
