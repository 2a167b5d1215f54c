/*
 * The job model's vocabulary, as Samza names it. A job reads input streams; each input partition
 * number becomes one task (Samza's GroupByPartition); a container runs some of the tasks; each
 * task owns one partition of every store's changelog, the partition with the task's number.
 */
import type { Serde } from './serdes/serde.js';
import type { ChangelogOffset } from './stores/changelog.js';

/** The folder `--state-dir` defaults to. */
export const DEFAULT_STATE_DIR = './brook-state';

/** A topic partition: Samza's SystemStreamPartition on the one system we have, Kafka. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A task's name, `Partition <n>` as Samza's GroupByPartition grouper names it. */
export type TaskName = string;

/** The name of the task that owns input partition `partition`. */
export function taskNameForPartition(partition: number): TaskName {
  return `Partition ${partition}`;
}

/** Which persistent engine (or none) backs a store. */
export type StoreEngineKind = 'persistent' | 'in-memory';

/** A store as a job declares it: name, serdes, engine and cache. */
export interface StoreDefinition<K, V> {
  /** The store's name: part of its changelog topic and folder, so topic-name characters only. */
  readonly name: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  readonly engine: StoreEngineKind;
  /** Entries in the write-back cache; 0 for no cache layer. */
  readonly cacheSize: number;
  /** Whether changes go to the changelog topic (without it, state does not survive a move). */
  readonly changelog: boolean;
}

/** What the task model assigns to one task. */
export interface TaskModel {
  readonly taskName: TaskName;
  /** The input partitions this task consumes (one per input topic, all with its number). */
  readonly inputPartitions: readonly TopicPartition[];
  /** The partition of every store's changelog this task writes and restores from. */
  readonly changelogPartition: number;
}

/**
 * A task's checkpoint: the input offsets to resume from and, taken at the same commit, every
 * store's changelog offset. Restoring each store to exactly its changelog offset and resuming
 * the input from the input offsets gives state that never counts a message twice or misses one.
 */
export interface Checkpoint {
  /** Per input partition, the offset of the next message to process (Kafka's committed offset). */
  readonly inputOffsets: ReadonlyMap<string, number>;
  /** Per store name, the offset of the last changelog record the state includes (`-1`: none). */
  readonly changelogOffsets: ReadonlyMap<string, ChangelogOffset>;
}
