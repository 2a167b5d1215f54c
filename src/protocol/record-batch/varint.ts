/**
 * Varint writers and sizes over plain numbers, written for the record encoder's inner loop:
 * they write into a Buffer at a position and return the next position, with no bounds checks
 * (the encoder sizes its buffer exactly before writing).
 */

const TWO_31 = 2147483648;

/** Bytes of an unsigned varint (0 <= v < 2^32). */
export function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes of a zig-zag varint (int32). */
export function varintSize(v: number): number {
  return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0);
}

/** Bytes of a zig-zag varlong given as a number (exact within ±2^53). */
export function varlongSize(v: number): number {
  if (v >= -TWO_31 && v < TWO_31) return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0);
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 128) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

export function writeUvarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export function writeVarint(buf: Buffer, pos: number, v: number): number {
  return writeUvarint(buf, pos, ((v << 1) ^ (v >> 31)) >>> 0);
}

export function writeVarlong(buf: Buffer, pos: number, v: number): number {
  if (v >= -TWO_31 && v < TWO_31) return writeUvarint(buf, pos, ((v << 1) ^ (v >> 31)) >>> 0);
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  while (u >= 128) {
    buf[pos++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}

/** Writes an int64 given as a number (exact below 2^53) big-endian. */
export function writeInt64(buf: Buffer, pos: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(v - hi * 4294967296, pos + 4);
}
