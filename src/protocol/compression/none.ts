import { CompressionType } from '../record-batch/header.js';
import { type CompressionCodec, DecompressionLimitError } from './codec.js';

/** Codec 0: the records are stored as they are; both directions return the input itself. */
function decompress(data: Buffer, maxSize = Number.POSITIVE_INFINITY): Buffer {
  if (data.length > maxSize) throw new DecompressionLimitError('none', maxSize, data.length);
  return data;
}

export const noneCodec: CompressionCodec = {
  type: CompressionType.None,
  name: 'none',
  compress: (data) => data,
  decompress,
  compressAsync: async (data) => data,
  decompressAsync: async (data, maxSize) => decompress(data, maxSize),
};
