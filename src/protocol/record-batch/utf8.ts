/**
 * UTF-8 helpers for header keys, the only strings in a record batch. Header keys are short and
 * repeat from record to record ("trace-id", "content-type"), while Buffer's string functions cost
 * a native call each (~200 ns): short ASCII keys are measured and written in JavaScript, and
 * decoded keys come from a small cache keyed by their bytes.
 */

const FAST_MAX = 64;

/** UTF-8 byte length of `s`. */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n <= FAST_MAX) {
    let i = 0;
    while (i < n && s.charCodeAt(i) < 0x80) i++;
    if (i === n) return n;
  }
  return Buffer.byteLength(s, 'utf8');
}

/** Writes `s` (whose UTF-8 length is `byteLength`) at `pos`; returns the position after it. */
export function writeUtf8(buf: Buffer, pos: number, s: string, byteLength: number): number {
  if (byteLength === s.length && byteLength <= FAST_MAX) {
    // Equal lengths mean every character is ASCII.
    for (let i = 0; i < byteLength; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + byteLength;
  }
  return pos + buf.write(s, pos, byteLength, 'utf8');
}

// A direct-mapped cache of decoded keys: slot → bytes (in one pool) and string.
const SLOTS = 512;
const SLOT_BYTES = 32;
const cacheData = new Uint8Array(SLOTS * SLOT_BYTES);
const cacheLength = new Int16Array(SLOTS).fill(-1);
const cacheString: string[] = new Array<string>(SLOTS).fill('');

/** Decodes `buf[start, start + length)` as UTF-8, reusing the string of an earlier equal key. */
export function readUtf8(buf: Buffer, start: number, length: number): string {
  if (length > SLOT_BYTES) return buf.toString('utf8', start, start + length);
  let h = length;
  for (let i = 0; i < length; i++) h = (Math.imul(h, 31) + buf[start + i]) | 0;
  const slot = (h ^ (h >>> 9)) & (SLOTS - 1);
  const base = slot * SLOT_BYTES;
  if (cacheLength[slot] === length) {
    let i = 0;
    while (i < length && cacheData[base + i] === buf[start + i]) i++;
    if (i === length) return cacheString[slot];
  }
  const s = buf.toString('utf8', start, start + length);
  for (let i = 0; i < length; i++) cacheData[base + i] = buf[start + i];
  cacheLength[slot] = length;
  cacheString[slot] = s;
  return s;
}
