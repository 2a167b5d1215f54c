import { codecFor, DEFAULT_MAX_DECOMPRESSED_SIZE } from '../compression/index.js';
import { DecodeError } from '../primitives/decode-error.js';
import {
  type DecodeOptions,
  decodeRecordBatch,
  MIN_RECORD_SIZE,
  type RecordBatch,
} from './batch.js';
import { RecordCursor } from './cursor.js';
import { InvalidRecordError } from './errors.js';
import { BATCH_HEADER_SIZE, COMPRESSION_MASK } from './header.js';

export interface ValidateOptions extends DecodeOptions {
  /**
   * Also decompress and walk every record: counts must match, records must be well formed and
   * offset deltas must increase within lastOffsetDelta. Costs a decompression.
   */
  deep?: boolean;
  /**
   * Apply the rules for a batch fresh from a producer (the broker's produce path): at least one
   * record, lastOffsetDelta = count - 1 and, when deep, offset deltas 0, 1, 2, …
   */
  fromProducer?: boolean;
}

const reusableCursor = new RecordCursor();

/**
 * Checks one record batch for the broker's produce path without decompressing (unless `deep`):
 * the frame (length within the buffer, magic 2), the CRC-32C, a known codec, and that the record
 * count and lastOffsetDelta are plausible for the bytes. Returns the batch view.
 *
 * @throws DecodeError (malformed), CorruptRecordError (CRC), UnsupportedCompressionError,
 *   InvalidRecordError (a rule of the produce path broken).
 */
export function validateRecordBatch(
  buf: Buffer,
  at = 0,
  options: ValidateOptions = {},
): RecordBatch {
  const batch = decodeRecordBatch(buf, at, options);
  codecFor(batch.attributes & COMPRESSION_MASK);
  const count = batch.recordsCount;
  const lastOffsetDelta = batch.lastOffsetDelta;
  if (lastOffsetDelta < 0) {
    throw new InvalidRecordError(`negative lastOffsetDelta ${lastOffsetDelta}`);
  }
  if (count > 0 && lastOffsetDelta < count - 1) {
    throw new InvalidRecordError(
      `lastOffsetDelta ${lastOffsetDelta} cannot hold ${count} records with increasing offsets`,
    );
  }
  if (options.fromProducer) {
    if (count === 0) throw new InvalidRecordError('a produced batch must hold records');
    if (lastOffsetDelta !== count - 1) {
      throw new InvalidRecordError(
        `produced batch has ${count} records but lastOffsetDelta ${lastOffsetDelta}`,
      );
    }
  }
  if (batch.compression !== 0 && count > 0 && batch.sizeInBytes === BATCH_HEADER_SIZE) {
    throw new DecodeError(`compressed batch declares ${count} records but holds no data`);
  }
  // Compressed records cannot be counted without inflating them, but they can never take less
  // than MIN_RECORD_SIZE bytes each once inflated, and inflating stops at the bound.
  const maxSize = options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE;
  if (count * MIN_RECORD_SIZE > maxSize) {
    throw new DecodeError(`record count ${count} exceeds what ${maxSize} bytes can hold`);
  }
  if (options.deep) {
    const cursor = batch.cursor(reusableCursor);
    let lastDelta = -1;
    while (cursor.next()) {
      const delta = cursor.offsetDelta;
      if (options.fromProducer ? delta !== cursor.index : delta <= lastDelta) {
        throw new InvalidRecordError(
          `record ${cursor.index} has offsetDelta ${delta} after ${lastDelta}`,
        );
      }
      if (delta > lastOffsetDelta) {
        throw new InvalidRecordError(
          `record ${cursor.index} has offsetDelta ${delta} past lastOffsetDelta ${lastOffsetDelta}`,
        );
      }
      lastDelta = delta;
    }
  }
  return batch;
}
