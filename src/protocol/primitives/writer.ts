import type { TaggedFields } from './reader.js';

// Buffer.writeBigInt64BE costs several times a plain write; on little-endian hosts (all that
// Node supports in practice) the value goes through a scratch BigInt64Array, copied reversed.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const I64 = new BigInt64Array(1);
const I64_BYTES = new Uint8Array(I64.buffer);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/**
 * A growable buffer that encodes Kafka's primitive types. It doubles its storage when full, so a
 * message is encoded with a handful of allocations; `finish()` returns a view of what was written.
 */
export class Writer {
  buf: Buffer;
  offset = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.offset + n;
    if (need <= this.buf.length) return;
    // Start from at least 64 bytes so that a writer created empty still grows.
    let size = Math.max(this.buf.length * 2, 64);
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  /** The bytes written so far (a view; copy it if the writer is reused). */
  finish(): Buffer {
    return this.buf.subarray(0, this.offset);
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.offset++);
    return this;
  }

  uint8(v: number): this {
    this.ensure(1);
    this.buf[this.offset++] = v;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.ensure(2);
    this.offset = this.buf.writeInt16BE(v, this.offset);
    return this;
  }

  uint16(v: number): this {
    this.ensure(2);
    this.offset = this.buf.writeUInt16BE(v, this.offset);
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.offset = this.buf.writeInt32BE(v, this.offset);
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.offset = this.buf.writeUInt32BE(v >>> 0, this.offset);
    return this;
  }

  int64(v: bigint): this {
    this.ensure(8);
    if (!LITTLE_ENDIAN) {
      this.offset = this.buf.writeBigInt64BE(v, this.offset);
      return this;
    }
    // A typed array would wrap an out-of-range value silently; Buffer would throw, so do we.
    if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`int64 out of range: ${v}`);
    I64[0] = v;
    const b = this.buf;
    const o = this.offset;
    b[o] = I64_BYTES[7];
    b[o + 1] = I64_BYTES[6];
    b[o + 2] = I64_BYTES[5];
    b[o + 3] = I64_BYTES[4];
    b[o + 4] = I64_BYTES[3];
    b[o + 5] = I64_BYTES[2];
    b[o + 6] = I64_BYTES[1];
    b[o + 7] = I64_BYTES[0];
    this.offset = o + 8;
    return this;
  }

  /** An int64 from a JavaScript number (exact for |v| <= 2^53). */
  int64Number(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    const lo = v - hi * 4294967296;
    this.buf.writeInt32BE(hi, this.offset);
    this.buf.writeUInt32BE(lo, this.offset + 4);
    this.offset += 8;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.offset = this.buf.writeDoubleBE(v, this.offset);
    return this;
  }

  uvarint(v: number): this {
    this.ensure(5);
    const buf = this.buf;
    v >>>= 0;
    while (v >= 0x80) {
      buf[this.offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.offset++] = v;
    return this;
  }

  varint(v: number): this {
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  uvarlong(v: bigint): this {
    this.ensure(10);
    v = BigInt.asUintN(64, v);
    while (v >= 0x80n) {
      this.buf[this.offset++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.offset++] = Number(v);
    return this;
  }

  varlong(v: bigint): this {
    return this.uvarlong((v << 1n) ^ (v >> 63n));
  }

  /** Zig-zag varlong from a number (exact within ±2^53). */
  varlongNumber(v: number): this {
    // Zig-zag doubles the magnitude; beyond ±2^52 that is no longer exact in a double.
    if (v >= 4503599627370496 || v < -4503599627370496) return this.varlong(BigInt(v));
    let u = v >= 0 ? v * 2 : -v * 2 - 1;
    this.ensure(10);
    const buf = this.buf;
    while (u >= 0x80) {
      buf[this.offset++] = (u % 128) | 0x80;
      u = Math.floor(u / 128);
    }
    buf[this.offset++] = u;
    return this;
  }

  uuid(v: string): this {
    if (!UUID_RE.test(v)) throw new TypeError(`not a UUID: ${v}`);
    this.ensure(16);
    this.offset += this.buf.write(v.replace(/-/g, ''), this.offset, 16, 'hex');
    return this;
  }

  private utf8(v: string): void {
    this.ensure(Buffer.byteLength(v));
    this.offset += this.buf.write(v, this.offset, 'utf8');
  }

  string(v: string): this {
    const len = Buffer.byteLength(v);
    if (len > 0x7fff) throw new RangeError(`string of ${len} bytes exceeds int16 length`);
    this.int16(len);
    this.utf8(v);
    return this;
  }

  nullableString(v: string | null): this {
    if (v === null) return this.int16(-1);
    return this.string(v);
  }

  compactString(v: string): this {
    this.uvarint(Buffer.byteLength(v) + 1);
    this.utf8(v);
    return this;
  }

  compactNullableString(v: string | null): this {
    if (v === null) return this.uvarint(0);
    return this.compactString(v);
  }

  raw(v: Uint8Array): this {
    this.ensure(v.length);
    this.buf.set(v, this.offset);
    this.offset += v.length;
    return this;
  }

  bytes(v: Uint8Array): this {
    this.int32(v.length);
    return this.raw(v);
  }

  nullableBytes(v: Uint8Array | null): this {
    if (v === null) return this.int32(-1);
    return this.bytes(v);
  }

  compactBytes(v: Uint8Array): this {
    this.uvarint(v.length + 1);
    return this.raw(v);
  }

  compactNullableBytes(v: Uint8Array | null): this {
    if (v === null) return this.uvarint(0);
    return this.compactBytes(v);
  }

  arrayLength(n: number): this {
    return this.int32(n);
  }

  compactArrayLength(n: number): this {
    return this.uvarint(n + 1);
  }

  /**
   * Writes a tagged-field section from already-encoded known fields (tag → bytes) and unknown ones
   * carried over from decoding. Tags are written in ascending order as the protocol requires.
   */
  taggedFields(known: { tag: number; data: Uint8Array }[], unknown?: TaggedFields): this {
    const all = unknown && unknown.length > 0 ? [...known, ...unknown] : known;
    if (all.length > 1) all.sort((a, b) => a.tag - b.tag);
    this.uvarint(all.length);
    for (const f of all) {
      this.uvarint(f.tag);
      this.uvarint(f.data.length);
      this.raw(f.data);
    }
    return this;
  }

  /** Reserves `n` bytes to fill in later (e.g. a length prefix); returns their position. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.offset;
    this.offset += n;
    return at;
  }
}

/** Bytes a value takes as an unsigned varint. */
export function uvarintSize(v: number): number {
  v >>>= 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes a value takes as a zig-zag varint. */
export function varintSize(v: number): number {
  return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0);
}
