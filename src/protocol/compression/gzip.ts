import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { CompressionType } from '../record-batch/header.js';
import {
  type CompressionCodec,
  corruptCompressed,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  DecompressionLimitError,
} from './codec.js';

/**
 * Codec 1: gzip (RFC 1952) through node:zlib. zlib's `maxOutputLength` stops inflation at the
 * bound, so a bomb never allocates more than the limit.
 */
export const gzipCodec: CompressionCodec = {
  type: CompressionType.Gzip,
  name: 'gzip',
  compress(data, level = constants.Z_DEFAULT_COMPRESSION) {
    return gzipSync(data, { level });
  },
  decompress(data, maxSize = DEFAULT_MAX_DECOMPRESSED_SIZE) {
    try {
      return gunzipSync(data, { maxOutputLength: Math.max(1, maxSize) });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DecompressionLimitError('gzip', maxSize);
      }
      throw corruptCompressed('gzip', err);
    }
  },
};
