import { compressSync, uncompressSync } from 'snappy';
import { DecodeError } from '../primitives/decode-error.js';
import { CompressionType } from '../record-batch/header.js';
import {
  type CompressionCodec,
  corruptCompressed,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  DecompressionLimitError,
} from './codec.js';

/**
 * The xerial snappy-java stream header that Kafka's Java client writes: magic "\x82SNAPPY\0",
 * then int32 version 1 and int32 compatible version 1, then chunks of int32 length + raw block.
 */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
/** snappy-java's default block size: the Java client compresses 32 KiB of input per chunk. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;

/** True when `data` starts with the xerial framing header. */
export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0;
}

/**
 * The uncompressed length a raw snappy block declares in its preamble (a uvarint of at most
 * 32 bits), read without decompressing so that a bound can be checked first.
 */
export function snappyUncompressedLength(block: Buffer, start = 0, end = block.length): number {
  let result = 0;
  let mul = 1;
  for (let i = start; i < end && i < start + 5; i++) {
    const b = block[i];
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return result;
    mul *= 128;
  }
  throw new DecodeError('invalid snappy block: bad length preamble', start);
}

function rawBlock(block: Buffer): Buffer {
  try {
    return uncompressSync(block, { asBuffer: true }) as Buffer;
  } catch (err) {
    throw corruptCompressed('snappy', err);
  }
}

function decompressRaw(data: Buffer, maxSize: number): Buffer {
  const size = snappyUncompressedLength(data);
  if (size > maxSize) throw new DecompressionLimitError('snappy', maxSize, size);
  return rawBlock(data);
}

function decompressXerial(data: Buffer, maxSize: number): Buffer {
  // First pass: walk the chunk lengths and sum the declared sizes, so that nothing is
  // decompressed (or allocated) when the total is out of bounds or a chunk runs past the end.
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new DecodeError('xerial snappy chunk length cut short', pos);
    const len = data.readInt32BE(pos);
    if (len < 0 || pos + 4 + len > data.length) {
      throw new DecodeError(`xerial snappy chunk of ${len} bytes runs past the end`, pos);
    }
    total += snappyUncompressedLength(data, pos + 4, pos + 4 + len);
    if (total > maxSize) throw new DecompressionLimitError('snappy', maxSize, total);
    pos += 4 + len;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    const len = data.readInt32BE(pos);
    const chunk = rawBlock(data.subarray(pos + 4, pos + 4 + len));
    out.set(chunk, at);
    at += chunk.length;
    pos += 4 + len;
  }
  return at === total ? out : out.subarray(0, at);
}

/** Compresses into the xerial framing, as Kafka's Java producer does. */
export function compressXerial(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  parts.push(header);
  let size = XERIAL_HEADER_SIZE;
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    const block = compressSync(data.subarray(pos, Math.min(data.length, pos + XERIAL_BLOCK_SIZE)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
    size += 4 + block.length;
  }
  return Buffer.concat(parts, size);
}

/**
 * Codec 2: snappy. Writes the xerial framing (what the Java client writes and every client
 * reads); reads both the xerial framing and a bare raw snappy block (some clients write that).
 */
export const snappyCodec: CompressionCodec = {
  type: CompressionType.Snappy,
  name: 'snappy',
  compress: (data) => compressXerial(data),
  decompress(data, maxSize = DEFAULT_MAX_DECOMPRESSED_SIZE) {
    return isXerialFramed(data) ? decompressXerial(data, maxSize) : decompressRaw(data, maxSize);
  },
};
