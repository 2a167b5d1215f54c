/**
 * Record batch compression codecs (attributes bits 0–2), looked up by {@link CompressionType}.
 */
import { CompressionType } from '../record-batch/header.js';
import { type CompressionCodec, UnsupportedCompressionError } from './codec.js';
import { gzipCodec } from './gzip.js';
import { lz4Codec } from './lz4.js';
import { noneCodec } from './none.js';
import { snappyCodec } from './snappy.js';
import { zstdCodec } from './zstd.js';

export {
  type CompressionCodec,
  corruptCompressed,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  DecompressionLimitError,
  UnsupportedCompressionError,
} from './codec.js';
export { gzipCodec } from './gzip.js';
export { lz4Codec, lz4DecompressedBound } from './lz4.js';
export { noneCodec } from './none.js';
export {
  compressXerial,
  isXerialFramed,
  snappyCodec,
  snappyUncompressedLength,
  XERIAL_BLOCK_SIZE,
  XERIAL_MAGIC,
} from './snappy.js';
export { zstdCodec } from './zstd.js';
export { CompressionType };

/** Every codec, indexed by its CompressionType id. */
export const codecs: readonly CompressionCodec[] = [
  noneCodec,
  gzipCodec,
  snappyCodec,
  lz4Codec,
  zstdCodec,
];

/** The codec for a compression id from the attributes; UnsupportedCompressionError otherwise. */
export function codecFor(type: number): CompressionCodec {
  const codec = codecs[type];
  if (codec === undefined) throw new UnsupportedCompressionError(type);
  return codec;
}

/** The codec for Kafka's `compression.type` name (none, gzip, snappy, lz4, zstd). */
export function codecByName(name: string): CompressionCodec {
  const codec = codecs.find((c) => c.name === name);
  if (codec === undefined) throw new RangeError(`unknown compression type "${name}"`);
  return codec;
}
