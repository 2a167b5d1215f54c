import { createRequire } from 'node:module';
import { compress as zstdCompress } from 'zstd-napi';
import { DecodeError } from '../primitives/decode-error.js';
import { CompressionType } from '../record-batch/header.js';
import {
  type CompressionCodec,
  corruptCompressed,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  DecompressionLimitError,
} from './codec.js';

type ZstdBinding = typeof import('zstd-napi/binding.js');
// zstd-napi's low-level binding is CommonJS with a native addon: load it through require so its
// functions (frame size queries, streaming context) are reachable from ESM.
const binding = createRequire(import.meta.url)('zstd-napi/binding.js') as ZstdBinding;

let dctx: InstanceType<ZstdBinding['DCtx']> | undefined;

/**
 * The sum of the content sizes that the frames declare, or null when a frame leaves its size out
 * (streaming compressors may).
 */
function declaredSize(data: Buffer): number | null {
  let total = 0;
  let frame = data;
  while (frame.length > 0) {
    const size = binding.getFrameContentSize(frame);
    if (size === null) return null;
    total += size;
    frame = frame.subarray(binding.findFrameCompressedSize(frame));
  }
  return total;
}

function decompressBounded(data: Buffer, maxSize: number): Buffer {
  dctx ??= new binding.DCtx();
  const declared = declaredSize(data);
  if (declared !== null) {
    if (declared > maxSize) throw new DecompressionLimitError('zstd', maxSize, declared);
    const out = Buffer.allocUnsafe(declared);
    const n = dctx.decompress(out, data);
    if (n !== declared) throw new DecodeError(`zstd frame declared ${declared} bytes, gave ${n}`);
    return out;
  }
  // Unknown size: stream into chunks and stop as soon as the bound is passed.
  const chunks: Buffer[] = [];
  let total = 0;
  let input = data;
  const chunkSize = binding.dStreamOutSize();
  // `hint` is 0 once a frame is fully decoded and flushed: keep going while input remains or the
  // decoder still holds output, and call a frame that ends mid-way truncated.
  let hint = 1;
  while (input.length > 0 || hint !== 0) {
    const chunk = Buffer.allocUnsafe(chunkSize);
    const [next, produced, consumed] = dctx.decompressStream(chunk, input);
    if (produced === 0 && consumed === 0) {
      throw new DecodeError(
        input.length > 0 ? 'zstd stream makes no progress' : 'zstd frame is truncated',
      );
    }
    hint = next;
    total += produced;
    if (total > maxSize) throw new DecompressionLimitError('zstd', maxSize);
    chunks.push(chunk.subarray(0, produced));
    input = input.subarray(consumed);
  }
  return Buffer.concat(chunks, total);
}

function decompress(data: Buffer, maxSize = DEFAULT_MAX_DECOMPRESSED_SIZE): Buffer {
  try {
    return decompressBounded(data, maxSize);
  } catch (err) {
    // A failed call may leave the shared context mid-frame: the next call starts afresh.
    dctx = undefined;
    throw err instanceof DecodeError ? err : corruptCompressed('zstd', err);
  }
}

function compress(data: Buffer, level?: number): Buffer {
  return zstdCompress(data, level === undefined ? {} : { compressionLevel: level });
}

/**
 * Codec 4: Zstandard frames through zstd-napi (libzstd). zstd-napi has no asynchronous one-shot
 * API, so the async methods run synchronously.
 */
export const zstdCodec: CompressionCodec = {
  type: CompressionType.Zstd,
  name: 'zstd',
  compress,
  decompress,
  compressAsync: async (data, level) => compress(data, level),
  decompressAsync: async (data, maxSize) => decompress(data, maxSize),
};
