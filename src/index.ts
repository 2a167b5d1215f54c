/**
 * Brook's public API: the Kafka client (producer, consumer, admin), the stream processor (jobs,
 * serdes, stores, the high-level API), Kafka's error codes, and record batches.
 * The broker is a program (`brook start`); its internals are not part of this API.
 */
export * from './client/index.js';
// Both the client and the stream processor name a { topic, partition } pair; they are the same shape.
export type { TopicPartition } from './client/index.js';
export * from './protocol/errors.js';
export * as records from './protocol/record-batch/index.js';
export * from './streams/index.js';
export { BROOK_VERSION } from './version.js';
