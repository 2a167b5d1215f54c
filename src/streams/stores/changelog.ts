/*
 * The changelog boundary. A store's changelog is a compacted Kafka topic
 * `<job-id>-<store>-changelog` with one partition per task; the runtime implements these two
 * interfaces with the client's producer and consumer. Offsets here are Kafka offsets of records
 * in that partition (safe integers: Kafka offsets stay below 2^53 in practice).
 */

/**
 * The offset of the last changelog record a store's state includes (Samza checkpoints this, not
 * the next offset). The state "at offset C" is what replaying every record with offset <= C gives.
 */
export type ChangelogOffset = number;

/** One changelog record: a put, or a delete (`value === null`, a tombstone). */
export interface ChangelogRecord {
  readonly offset: ChangelogOffset;
  readonly key: Buffer;
  readonly value: Buffer | null;
}

/** Appends store changes to the store's changelog partition. */
export interface ChangelogWriter {
  /** Queues one change; never blocks. The writer may batch and send in the background. */
  append(key: Buffer, value: Buffer | null): void;
  /**
   * Resolves when every change appended so far is acknowledged, with the offset of the last
   * one, or `null` when this writer has appended nothing yet.
   */
  flush(): Promise<ChangelogOffset | null>;
}

/** Reads a store's changelog partition, for restore. */
export interface ChangelogReader {
  /** The partition's log end offset (Kafka's sense: the offset the next record will get). */
  endOffset(): Promise<number>;
  /**
   * The records with `offset >= from`, in offset order, up to the log end offset as it was when
   * the call was made. Compaction leaves gaps in offsets; readers must not assume every offset.
   */
  readFrom(from: number): AsyncIterable<ChangelogRecord>;
}

/** The changelog topic of a store: `<job-id>-<store>-changelog`, as Samza names it. */
export function changelogTopic(jobId: string, store: string): string {
  return `${jobId}-${store}-changelog`;
}

/**
 * Topic configs a changelog topic is created with. Compaction keeps the last value per key, so
 * the topic stays about the size of the state. The compaction lag keeps recent records (the
 * uncheckpointed tail after a failure) uncompacted long enough for a restore to see them in
 * order; see docs/streams-state.md.
 */
export const CHANGELOG_TOPIC_CONFIGS: Readonly<Record<string, string>> = Object.freeze({
  'cleanup.policy': 'compact',
  'min.compaction.lag.ms': String(60 * 60 * 1000),
  'segment.bytes': String(128 * 1024 * 1024),
});
