/**
 * The consumer's settings, with Kafka's names and the Java client's defaults, and its rebalance
 * listener.
 */
import type { ClientOptions } from '../cluster.js';
import type { Assignor } from './assignors.js';
import type { TopicPartition } from './offsets.js';

/** Rebalance listeners. */
export interface RebalanceListener {
  onAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  onRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions taken away without a clean revoke (session expired, fenced): do not commit them. */
  onLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** Consumer settings; names and defaults follow the Java client's. */
export interface ConsumerOptions extends ClientOptions {
  groupId?: string;
  /** Static membership (KIP-345). */
  groupInstanceId?: string;
  /** Where to start without a committed offset. Default 'latest'. */
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  /** Default true (needs groupId). */
  enableAutoCommit?: boolean;
  autoCommitIntervalMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Longest time between two polls (asking for the next batch) before the member leaves. Default 300000. */
  maxPollIntervalMs?: number;
  /** Assignors by preference; names or objects. Default ['range', 'cooperative-sticky'] as Java. */
  partitionAssignors?: Array<Assignor | 'range' | 'roundrobin' | 'cooperative-sticky'>;
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  fetchMinBytes?: number;
  fetchMaxBytes?: number;
  fetchMaxWaitMs?: number;
  maxPartitionFetchBytes?: number;
  /** Batches kept ready per partition ahead of the user. Default 2. */
  prefetchBatches?: number;
  rebalanceListener?: RebalanceListener;
}
