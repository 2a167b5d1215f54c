import { DecodeError } from './decode-error.js';

const NULL_UUID = '00000000-0000-0000-0000-000000000000';

// Buffer.readBigInt64BE costs several times a plain read; on little-endian hosts (all that Node
// supports in practice) bytes are copied reversed into a scratch BigInt64Array instead.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const I64 = new BigInt64Array(1);
const I64_BYTES = new Uint8Array(I64.buffer);
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A cursor over a Buffer that decodes Kafka's primitive types (big-endian integers, varints,
 * classic and compact strings/bytes/arrays, uuids, tagged-field sections).
 *
 * Every length is checked against the bytes that remain before anything is allocated, so a hostile
 * length can never cause a large allocation: it raises {@link DecodeError} instead.
 * Byte fields are returned as views (`subarray`) into the source buffer, never copied.
 */
export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number, what = 'value'): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new DecodeError(
        `buffer ends early: ${what} needs ${n} bytes at offset ${this.offset}, ${this.end - this.offset} remain`,
        this.offset,
      );
    }
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.offset++);
  }

  uint8(): number {
    this.need(1, 'uint8');
    return this.buf[this.offset++];
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  uint16(): number {
    this.need(2, 'uint16');
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  int64(): bigint {
    this.need(8, 'int64');
    const b = this.buf;
    const o = this.offset;
    this.offset += 8;
    if (!LITTLE_ENDIAN) return b.readBigInt64BE(o);
    I64_BYTES[7] = b[o];
    I64_BYTES[6] = b[o + 1];
    I64_BYTES[5] = b[o + 2];
    I64_BYTES[4] = b[o + 3];
    I64_BYTES[3] = b[o + 4];
    I64_BYTES[2] = b[o + 5];
    I64_BYTES[1] = b[o + 6];
    I64_BYTES[0] = b[o + 7];
    return I64[0];
  }

  /** An int64 read as a JavaScript number; exact for |v| <= 2^53 (offsets, timestamps). */
  int64Number(): number {
    this.need(8, 'int64');
    const hi = this.buf.readInt32BE(this.offset);
    const lo = this.buf.readUInt32BE(this.offset + 4);
    this.offset += 8;
    return hi * 4294967296 + lo;
  }

  float64(): number {
    this.need(8, 'float64');
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  /** Unsigned LEB128 varint, at most 5 bytes (32 bits). */
  uvarint(): number {
    // Fast path: lengths, counts and tag sections are almost always a single byte.
    const o = this.offset;
    if (o < this.end) {
      const b = this.buf[o];
      if (b < 0x80) {
        this.offset = o + 1;
        return b;
      }
    }
    return this.uvarintLong();
  }

  private uvarintLong(): number {
    let result = 0;
    let shift = 0;
    const buf = this.buf;
    for (let i = 0; i < 5; i++) {
      if (this.offset >= this.end)
        throw new DecodeError('buffer ends inside a varint', this.offset);
      const b = buf[this.offset++];
      if (i === 4 && b > 0x0f) throw new DecodeError('varint is longer than 32 bits', this.offset);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new DecodeError('varint is longer than 5 bytes', this.offset);
  }

  /** Zig-zag signed varint (int32). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Unsigned LEB128 varlong, at most 10 bytes (64 bits). */
  uvarlong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end)
        throw new DecodeError('buffer ends inside a varlong', this.offset);
      const b = this.buf[this.offset++];
      if (i === 9 && b > 0x01) throw new DecodeError('varlong is longer than 64 bits', this.offset);
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new DecodeError('varlong is longer than 10 bytes', this.offset);
  }

  /** Zig-zag signed varlong (int64). */
  varlong(): bigint {
    const u = this.uvarlong();
    return (u >> 1n) ^ -(u & 1n);
  }

  /** Zig-zag signed varlong as a number; exact within ±2^53 (record timestamp deltas). */
  varlongNumber(): number {
    // Fast path: up to 7 bytes (49 bits) fits a double exactly; longer ones go through bigint.
    const start = this.offset;
    let result = 0;
    let mul = 1;
    const buf = this.buf;
    for (let i = 0; i < 7; i++) {
      if (this.offset >= this.end) {
        throw new DecodeError('buffer ends inside a varlong', this.offset);
      }
      const b = buf[this.offset++];
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      mul *= 128;
    }
    this.offset = start;
    return Number(this.varlong());
  }

  uuid(): string {
    this.need(16, 'uuid');
    const b = this.buf;
    const o = this.offset;
    this.offset += 16;
    let s = '';
    for (let i = 0; i < 16; i++) {
      s += HEX[b[o + i]];
      if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
    }
    return s === NULL_UUID ? NULL_UUID : s;
  }

  private utf8(len: number, what: string): string {
    this.need(len, what);
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  private view(len: number, what: string): Buffer {
    this.need(len, what);
    const b = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return b;
  }

  /** Classic string: int16 length. */
  string(): string {
    const len = this.int16();
    if (len < 0) throw new DecodeError(`negative string length ${len}`, this.offset - 2);
    return this.utf8(len, 'string');
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < 0) throw new DecodeError(`invalid string length ${len}`, this.offset - 2);
    return this.utf8(len, 'string');
  }

  /** Compact string: uvarint length + 1. */
  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0)
      throw new DecodeError('null compact string where a string is required', this.offset);
    return this.utf8(len, 'compact string');
  }

  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    if (len === -1) return null;
    return this.utf8(len, 'compact string');
  }

  /** Classic bytes: int32 length. */
  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw new DecodeError(`negative bytes length ${len}`, this.offset - 4);
    return this.view(len, 'bytes');
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < 0) throw new DecodeError(`invalid bytes length ${len}`, this.offset - 4);
    return this.view(len, 'bytes');
  }

  compactBytes(): Buffer {
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError('null compact bytes where bytes are required', this.offset);
    return this.view(len, 'compact bytes');
  }

  compactNullableBytes(): Buffer | null {
    const len = this.uvarint() - 1;
    if (len === -1) return null;
    return this.view(len, 'compact bytes');
  }

  /** Raw bytes of a known length (a view). */
  raw(len: number): Buffer {
    return this.view(len, 'raw bytes');
  }

  /**
   * Classic array length (int32; -1 is null). `minItemSize` is the smallest encoding of one
   * element: a count that cannot fit in the remaining bytes is rejected before any allocation.
   */
  arrayLength(minItemSize = 1): number {
    const n = this.int32();
    if (n === -1) return -1;
    if (n < 0) throw new DecodeError(`invalid array length ${n}`, this.offset - 4);
    this.checkCount(n, minItemSize);
    return n;
  }

  /** Compact array length (uvarint N+1; 0 is null, returned as -1). */
  compactArrayLength(minItemSize = 1): number {
    const n = this.uvarint() - 1;
    if (n === -1) return -1;
    this.checkCount(n, minItemSize);
    return n;
  }

  private checkCount(n: number, minItemSize: number): void {
    if (n * minItemSize > this.end - this.offset) {
      throw new DecodeError(
        `array of ${n} items cannot fit in the ${this.end - this.offset} bytes that remain`,
        this.offset,
      );
    }
  }

  /**
   * Reads a tagged-field section. `onTag(tag, reader, size)` decodes a known tag and returns true;
   * unknown tags (where it returns false or is absent) are collected raw so they can be preserved.
   */
  taggedFields(onTag?: (tag: number, size: number) => boolean): TaggedFields | undefined {
    const count = this.uvarint();
    this.checkCount(count, 2);
    let unknown: TaggedFields | undefined;
    let lastTag = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= lastTag)
        throw new DecodeError(`tagged fields out of order (tag ${tag})`, this.offset);
      lastTag = tag;
      const size = this.uvarint();
      this.need(size, `tagged field ${tag}`);
      const start = this.offset;
      if (onTag?.(tag, size)) {
        if (this.offset !== start + size) {
          throw new DecodeError(
            `tagged field ${tag} has size ${size} but decoded ${this.offset - start}`,
            start,
          );
        }
      } else {
        unknown ??= [];
        unknown.push({ tag, data: this.view(size, 'tagged field') });
      }
    }
    return unknown;
  }
}

/** Tagged fields a decoder did not know, kept raw so they survive a re-encode. */
export type TaggedFields = { tag: number; data: Buffer }[];
