/**
 * Brook's Kafka client: producer, consumer and admin, usable against any Kafka cluster.
 */
export {
  Admin,
  type ConfigEntry,
  type ConfigOp,
  ConfigResourceType,
  type GroupDescription,
  type GroupMemberDescription,
  type GroupPartitionLag,
  type NewTopic,
  type ResetSpec,
} from './admin.js';
export {
  type BrokerInfo,
  type ClientOptions,
  Cluster,
  type PartitionInfo,
  parseBootstrap,
  type TopicInfo,
} from './cluster.js';
export { Connection, type ConnectionOptions, type RequestOptions } from './connection.js';
export {
  type Assignor,
  type AssignorMember,
  ASSIGNORS,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from './consumer/assignors.js';
export {
  ConsumerBatch,
  type ConsumerBatchReader,
  type ConsumerRecord,
} from './consumer/consumer-batch.js';
export {
  CommitFailedError,
  Consumer,
  type ConsumerGroupMetadata,
  type ConsumerOptions,
  type RebalanceListener,
} from './consumer/consumer.js';
export type { TopicPartition, TopicPartitionOffset } from './consumer/offsets.js';
export { ClientClosedError, ConnectionError, KafkaError, TimeoutError } from './errors.js';
export type { Bytes, ProducerHeader } from './producer/batch-builder.js';
export type { RecordCursor } from '../protocol/record-batch/cursor.js';
export {
  DefaultPartitioner,
  murmur2,
  type Partitioner,
  partitionForKey,
  toPositive,
} from './producer/partitioner.js';
export {
  type CompressionOption,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
} from './producer/producer.js';
