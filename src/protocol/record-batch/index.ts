/**
 * Magic v2 record batches: encode, decode (cursor and iterator), iterate concatenated batches,
 * validate for the produce path, control records.
 */
export {
  checkBatchFrame,
  type DecodeOptions,
  decodeRecordBatch,
  MIN_BATCH_LENGTH,
  MIN_RECORD_SIZE,
  RecordBatch,
  verifyBatchCrc,
} from './batch.js';
export { iterateRecordBatches, RecordBatchIterator } from './batches.js';
export {
  type ControlBatchOptions,
  type ControlRecord,
  ControlRecordType,
  controlRecordKey,
  controlRecordValue,
  encodeControlBatch,
  parseControlRecord,
} from './control.js';
export { RecordCursor } from './cursor.js';
export { encodeRecordBatch, NO_TIMESTAMP, updateBatchCrc } from './encode.js';
export { CorruptRecordError, InvalidRecordError } from './errors.js';
export * from './header.js';
export type {
  KafkaRecord,
  RecordBatchOptions,
  RecordHeader,
  RecordHeaderInput,
  RecordInput,
} from './types.js';
export { type ValidateOptions, validateRecordBatch } from './validate.js';
