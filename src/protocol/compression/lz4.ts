import { compressFrame, compressFrameSync, decompressFrame, decompressFrameSync } from 'lz4-napi';
import { DecodeError } from '../primitives/decode-error.js';
import { CompressionType } from '../record-batch/header.js';
import {
  type CompressionCodec,
  corruptCompressed,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  DecompressionLimitError,
} from './codec.js';

const FRAME_MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** BD bits 4–6 → block maximum size: 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB. */
const BLOCK_MAX_SIZES = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
/** LZ4's best possible ratio is just under 255:1 (one literal-less sequence per 255 bytes). */
const MAX_RATIO = 256;

/**
 * Walks the headers and block lengths of one or more LZ4 frames without decompressing and
 * returns an upper bound of the decompressed size (exact for stored blocks, `min(block max,
 * 256 × compressed)` for compressed ones). Raises DecodeError on a malformed frame.
 */
export function lz4DecompressedBound(data: Buffer): number {
  let pos = 0;
  let bound = 0;
  const need = (n: number, what: string): void => {
    if (pos + n > data.length) throw new DecodeError(`LZ4 frame cut short in ${what}`, pos);
  };
  while (pos < data.length) {
    need(4, 'magic');
    const magic = data.readUInt32LE(pos);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(8, 'skippable frame');
      pos += 8 + data.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new DecodeError('not an LZ4 frame (bad magic)', pos);
    pos += 4;
    need(3, 'frame descriptor');
    const flg = data[pos];
    const bd = data[pos + 1];
    if (flg >> 6 !== 1) throw new DecodeError(`unsupported LZ4 frame version ${flg >> 6}`, pos);
    const blockMax = BLOCK_MAX_SIZES[(bd >> 4) & 7];
    if (blockMax === 0) throw new DecodeError('invalid LZ4 block maximum size', pos + 1);
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    pos += 2 + (contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1;
    need(0, 'frame descriptor');
    for (;;) {
      need(4, 'block size');
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax)
        throw new DecodeError(`LZ4 block of ${size} bytes exceeds ${blockMax}`, pos);
      need(size + (blockChecksum ? 4 : 0), 'block');
      bound += word & 0x80000000 ? size : Math.min(blockMax, size * MAX_RATIO);
      pos += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) {
      need(4, 'content checksum');
      pos += 4;
    }
  }
  return bound;
}

/**
 * Codec 3: LZ4 frame format (not Kafka's pre-0.10 broken-checksum variant, which only magic v0
 * message sets used). lz4-napi writes FLG 0x60 (version 1, independent blocks, no checksums) with
 * a correct header checksum: the frame that Kafka's Java client and librdkafka read.
 */
export const lz4Codec: CompressionCodec = {
  type: CompressionType.Lz4,
  name: 'lz4',
  compress: (data) => compressFrameSync(data),
  decompress(data, maxSize = DEFAULT_MAX_DECOMPRESSED_SIZE) {
    if (lz4DecompressedBound(data) > maxSize) throw new DecompressionLimitError('lz4', maxSize);
    let out: Buffer;
    try {
      out = decompressFrameSync(data);
    } catch (err) {
      throw corruptCompressed('lz4', err);
    }
    if (out.length > maxSize) throw new DecompressionLimitError('lz4', maxSize, out.length);
    return out;
  },
  compressAsync: (data) => compressFrame(data),
  async decompressAsync(data, maxSize = DEFAULT_MAX_DECOMPRESSED_SIZE) {
    if (lz4DecompressedBound(data) > maxSize) throw new DecompressionLimitError('lz4', maxSize);
    let out: Buffer;
    try {
      out = await decompressFrame(data);
    } catch (err) {
      throw corruptCompressed('lz4', err);
    }
    if (out.length > maxSize) throw new DecompressionLimitError('lz4', maxSize, out.length);
    return out;
  },
};
