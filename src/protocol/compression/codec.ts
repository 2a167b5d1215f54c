import { DecodeError } from '../primitives/decode-error.js';
import type { CompressionType } from '../record-batch/header.js';

/**
 * Largest decompressed records section accepted by default (64 MiB). Kafka's own limits are far
 * lower (message.max.bytes defaults to ~1 MiB, fetch.max.bytes to 50 MiB), so a batch that
 * inflates past this is a decompression bomb or garbage, never data we want to hold in memory.
 */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 64 * 1024 * 1024;

/**
 * One compression codec of the record batch attributes (bits 0–2).
 *
 * The synchronous methods are the default: a typical batch (16 KiB) is (de)compressed in tens of
 * microseconds, less than a thread-pool hop costs. The async methods run the native work on the
 * libuv pool (zstd excepted: zstd-napi has no async one-shot API) for large batches, where
 * blocking the event loop for milliseconds would stall every connection.
 */
export interface CompressionCodec {
  readonly type: CompressionType;
  /** Kafka's name for the codec (`compression.type`): none, gzip, snappy, lz4, zstd. */
  readonly name: string;
  /** Compresses `data` into a new Buffer in the format Kafka's Java client writes. */
  compress(data: Buffer, level?: number): Buffer;
  /**
   * Decompresses `data`. Output larger than `maxSize` bytes raises {@link DecompressionLimitError}
   * before (or, for gzip, while) it is allocated; malformed input raises {@link DecodeError}.
   */
  decompress(data: Buffer, maxSize?: number): Buffer;
  /** {@link CompressionCodec.compress} off the event loop. */
  compressAsync(data: Buffer, level?: number): Promise<Buffer>;
  /** {@link CompressionCodec.decompress} off the event loop, with the same bound and errors. */
  decompressAsync(data: Buffer, maxSize?: number): Promise<Buffer>;
}

/**
 * DecodeError declares `name` as the literal 'DecodeError', so a subclass cannot override the
 * field in TypeScript; it sets the own property instead so that stack traces name the subclass.
 */
export function setErrorName(err: Error, name: string): void {
  Object.defineProperty(err, 'name', { value: name, enumerable: false, configurable: true });
}

/** The attributes name a codec this build does not know (Kafka: UNSUPPORTED_COMPRESSION_TYPE, 76). */
export class UnsupportedCompressionError extends DecodeError {
  /** Kafka's error code for this failure (UNSUPPORTED_COMPRESSION_TYPE). */
  readonly errorCode = 76;
  /** The codec id from the attributes. */
  readonly compressionType: number;
  constructor(compressionType: number, offset = -1) {
    super(`unsupported compression type ${compressionType}`, offset);
    setErrorName(this, 'UnsupportedCompressionError');
    this.compressionType = compressionType;
  }
}

/**
 * Decompressed data would exceed the configured bound: a decompression bomb or corrupt data
 * (answered as CORRUPT_MESSAGE, whose description covers records that exceed the valid size).
 */
export class DecompressionLimitError extends DecodeError {
  readonly errorCode = 2;
  readonly limit: number;
  constructor(codec: string, limit: number, size?: number) {
    super(
      size === undefined
        ? `${codec} data would decompress to more than ${limit} bytes`
        : `${codec} data decompresses to ${size} bytes, more than the limit of ${limit}`,
    );
    this.limit = limit;
    setErrorName(this, 'DecompressionLimitError');
  }
}

/** Wraps a native codec's exception (whose type and text vary by library) into a DecodeError. */
export function corruptCompressed(codec: string, cause: unknown): DecodeError {
  if (cause instanceof DecodeError) return cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  const err = new DecodeError(`invalid ${codec} data: ${why}`);
  (err as { cause?: unknown }).cause = cause;
  return err;
}
