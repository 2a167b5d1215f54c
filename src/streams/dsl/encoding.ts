/*
 * Byte layouts of the keys the high-level API keeps in its stores. Every layout starts with a
 * one-byte family tag so one store can hold several families (data and time index) and range
 * scans stay within one. User keys are length-prefixed so that no key's bytes are a prefix of
 * another's, and times are written so that byte order equals numeric order (also for negative
 * times), which is what makes "every window closing before t" one range scan.
 */

/**
 * Offset added to a time so that every time in [-2^52, 2^52) becomes a non-negative integer
 * below 2^53, exactly representable (timestamps are ~2^41 ms today).
 */
const TIME_BIAS = 2 ** 52;
const TWO_32 = 2 ** 32;

/** Writes `time` as 8 bytes whose byte order is numeric order. */
export function writeTime(out: Buffer, offset: number, time: number): void {
  // Bounds clamp (a watermark of "nothing seen yet" is far below any timestamp).
  const u = Math.min(Math.max(time, -TIME_BIAS), TIME_BIAS - 1) + TIME_BIAS;
  out.writeUInt32BE(Math.floor(u / TWO_32), offset);
  out.writeUInt32BE(u % TWO_32, offset + 4);
}

/** Reads a time written by `writeTime`. */
export function readTime(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset) * TWO_32 + bytes.readUInt32BE(offset + 4) - TIME_BIAS;
}

/** `tag`, then the length-prefixed user key: the prefix of every entry of that key. */
export function keyPrefix(tag: number, key: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + key.length);
  out[0] = tag;
  out.writeUInt32BE(key.length, 1);
  key.copy(out, 5);
  return out;
}

/** `tag`, the length-prefixed key, then the given times. */
export function keyWithTimes(tag: number, key: Buffer, ...times: number[]): Buffer {
  const out = Buffer.allocUnsafe(5 + key.length + 8 * times.length);
  out[0] = tag;
  out.writeUInt32BE(key.length, 1);
  key.copy(out, 5);
  let at = 5 + key.length;
  for (const t of times) {
    writeTime(out, at, t);
    at += 8;
  }
  return out;
}

/** The user key inside a `keyPrefix`/`keyWithTimes` layout starting at `offset`. */
export function readKey(bytes: Buffer, offset: number): { key: Buffer; end: number } {
  const length = bytes.readUInt32BE(offset);
  const start = offset + 4;
  return { key: bytes.subarray(start, start + length), end: start + length };
}

/** `tag` then one time: the bound of a time-ordered range scan. */
export function timeBound(tag: number, time: number): Buffer {
  const out = Buffer.allocUnsafe(9);
  out[0] = tag;
  writeTime(out, 1, time);
  return out;
}

/** `tag`, a time, then `rest`: an entry of a time-ordered index. */
export function timeIndexKey(tag: number, time: number, rest: Buffer): Buffer {
  const out = Buffer.allocUnsafe(9 + rest.length);
  out[0] = tag;
  writeTime(out, 1, time);
  rest.copy(out, 9);
  return out;
}

/** The smallest time `writeTime` accepts. */
export const MIN_TIME = -TIME_BIAS;
