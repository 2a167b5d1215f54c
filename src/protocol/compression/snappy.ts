import { compress, compressSync, uncompress, uncompressSync } from 'snappy';
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

/**
 * Walks the xerial chunk lengths and sums the sizes the blocks declare, so that nothing is
 * decompressed (or allocated) when the total is out of bounds or a chunk runs past the end.
 * Returns the total and the [start, end) of every raw block.
 */
function xerialBlocks(data: Buffer, maxSize: number): { total: number; blocks: number[] } {
  let total = 0;
  const blocks: number[] = [];
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new DecodeError('xerial snappy chunk length cut short', pos);
    const len = data.readInt32BE(pos);
    if (len < 0 || pos + 4 + len > data.length) {
      throw new DecodeError(`xerial snappy chunk of ${len} bytes runs past the end`, pos);
    }
    total += snappyUncompressedLength(data, pos + 4, pos + 4 + len);
    if (total > maxSize) throw new DecompressionLimitError('snappy', maxSize, total);
    blocks.push(pos + 4, pos + 4 + len);
    pos += 4 + len;
  }
  return { total, blocks };
}

function concatInto(total: number, chunks: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const chunk of chunks) {
    if (at + chunk.length > total) throw new DecodeError('snappy block longer than it declares');
    out.set(chunk, at);
    at += chunk.length;
  }
  return at === total ? out : out.subarray(0, at);
}

function decompressXerial(data: Buffer, maxSize: number): Buffer {
  const { total, blocks } = xerialBlocks(data, maxSize);
  const chunks: Buffer[] = [];
  for (let i = 0; i < blocks.length; i += 2)
    chunks.push(rawBlock(data.subarray(blocks[i], blocks[i + 1])));
  return concatInto(total, chunks);
}

async function rawBlockAsync(block: Buffer): Promise<Buffer> {
  try {
    return (await uncompress(block, { asBuffer: true })) as Buffer;
  } catch (err) {
    throw corruptCompressed('snappy', err);
  }
}

async function decompressAsync(data: Buffer, maxSize: number): Promise<Buffer> {
  if (!isXerialFramed(data)) {
    const size = snappyUncompressedLength(data);
    if (size > maxSize) throw new DecompressionLimitError('snappy', maxSize, size);
    return rawBlockAsync(data);
  }
  const { total, blocks } = xerialBlocks(data, maxSize);
  const pending: Promise<Buffer>[] = [];
  for (let i = 0; i < blocks.length; i += 2) {
    pending.push(rawBlockAsync(data.subarray(blocks[i], blocks[i + 1])));
  }
  return concatInto(total, await Promise.all(pending));
}

function xerialHeader(): Buffer {
  const header = Buffer.allocUnsafe(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  return header;
}

function frame(blocks: Buffer[]): Buffer {
  const parts: Buffer[] = [xerialHeader()];
  let size = XERIAL_HEADER_SIZE;
  for (const block of blocks) {
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
    size += 4 + block.length;
  }
  return Buffer.concat(parts, size);
}

/** Compresses into the xerial framing, as Kafka's Java producer does. */
export function compressXerial(data: Buffer): Buffer {
  const blocks: Buffer[] = [];
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    blocks.push(compressSync(data.subarray(pos, Math.min(data.length, pos + XERIAL_BLOCK_SIZE))));
  }
  return frame(blocks);
}

async function compressXerialAsync(data: Buffer): Promise<Buffer> {
  const pending: Promise<Buffer>[] = [];
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    pending.push(compress(data.subarray(pos, Math.min(data.length, pos + XERIAL_BLOCK_SIZE))));
  }
  return frame(await Promise.all(pending));
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
  compressAsync: (data) => compressXerialAsync(data),
  decompressAsync: (data, maxSize = DEFAULT_MAX_DECOMPRESSED_SIZE) =>
    decompressAsync(data, maxSize),
};
