import { DecodeError } from '../primitives/decode-error.js';
import {
  type DecodeOptions,
  decodeRecordBatch,
  MIN_BATCH_LENGTH,
  type RecordBatch,
} from './batch.js';
import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET, MAGIC_V2 } from './header.js';

/**
 * Iterates the record batches of a buffer that holds several back to back: a `.log` segment
 * slice or a Fetch response's records field. A partial batch at the end (Kafka cuts a fetch at
 * maxBytes mid-batch) ends the iteration cleanly; {@link RecordBatchIterator.position} then says
 * where it starts and {@link RecordBatchIterator.partialBytes} how much of it arrived.
 *
 * Whole batches are validated like {@link decodeRecordBatch} (CRC included unless turned off).
 */
export class RecordBatchIterator implements IterableIterator<RecordBatch> {
  readonly buffer: Buffer;
  /** Position of the next batch (after the iteration: of the partial batch, or the end). */
  position: number;
  private readonly end: number;
  private readonly options: DecodeOptions;

  constructor(buffer: Buffer, options: DecodeOptions = {}, start = 0, end = buffer.length) {
    this.buffer = buffer;
    this.position = start;
    this.end = end;
    this.options = options;
  }

  /** Bytes of a trailing partial batch (0 when the buffer ends on a batch boundary). */
  get partialBytes(): number {
    return this.end - this.position;
  }

  /** Size of the next whole batch at `position`, or 0 when what remains is a partial batch. */
  private nextSize(): number {
    const remaining = this.end - this.position;
    if (remaining < LOG_OVERHEAD) return 0;
    const batchLength = this.buffer.readInt32BE(this.position + BATCH_LENGTH_OFFSET);
    if (remaining > MAGIC_OFFSET) {
      const magic = this.buffer.readInt8(this.position + MAGIC_OFFSET);
      if (magic !== MAGIC_V2) {
        throw new DecodeError(
          `unsupported record batch magic ${magic} (only 2 is supported)`,
          this.position,
        );
      }
    }
    if (batchLength < MIN_BATCH_LENGTH) {
      throw new DecodeError(
        `record batch length ${batchLength} is below ${MIN_BATCH_LENGTH}`,
        this.position,
      );
    }
    if (batchLength > remaining - LOG_OVERHEAD) return 0;
    return batchLength + LOG_OVERHEAD;
  }

  next(): IteratorResult<RecordBatch> {
    const size = this.nextSize();
    if (size === 0) return { done: true, value: undefined };
    const slice = this.buffer.subarray(0, this.position + size);
    const batch = decodeRecordBatch(slice, this.position, this.options);
    this.position += size;
    return { done: false, value: batch };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/** Iterates the whole record batches in `buffer`, stopping cleanly at a partial trailing one. */
export function iterateRecordBatches(
  buffer: Buffer,
  options: DecodeOptions = {},
): RecordBatchIterator {
  return new RecordBatchIterator(buffer, options);
}
