import { promisify } from 'node:util';
import { constants, gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { CompressionType } from '../record-batch/header.js';
import {
  type CompressionCodec,
  corruptCompressed,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  DecompressionLimitError,
} from './codec.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

function failure(err: unknown, maxSize: number): Error {
  if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
    return new DecompressionLimitError('gzip', maxSize);
  }
  return corruptCompressed('gzip', err);
}

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
      throw failure(err, maxSize);
    }
  },
  compressAsync: (data, level = constants.Z_DEFAULT_COMPRESSION) => gzipAsync(data, { level }),
  async decompressAsync(data, maxSize = DEFAULT_MAX_DECOMPRESSED_SIZE) {
    try {
      return await gunzipAsync(data, { maxOutputLength: Math.max(1, maxSize) });
    } catch (err) {
      throw failure(err, maxSize);
    }
  },
};
