/**
 * Typed errors of the stream processor's state layer. Each carries a stable `code` so the runtime
 * can tell a user's mistake (bad serde input, bad names) from a broken store or changelog.
 */
export type StreamsErrorCode =
  | 'SERDE'
  | 'INVALID_NAME'
  | 'STORE_CLOSED'
  | 'STORE_ENGINE'
  | 'STORE_METADATA'
  | 'CHANGELOG_INCONSISTENT'
  | 'NOT_COPARTITIONED'
  | 'READ_ONLY_STORE';

/** Base class: every error raised by `src/streams/` is one of these. */
export class StreamsError extends Error {
  override name: string = 'StreamsError';
  readonly code: StreamsErrorCode;

  constructor(code: StreamsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A value could not be serialized, or bytes could not be deserialized, by a serde. */
export class SerdeError extends StreamsError {
  override name = 'SerdeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('SERDE', message, options);
  }
}

/** A job id, store name or task name that cannot be used as a folder or topic name. */
export class InvalidNameError extends StreamsError {
  override name = 'InvalidNameError';
  constructor(message: string) {
    super('INVALID_NAME', message);
  }
}

/** A store was used after `close()`. */
export class StoreClosedError extends StreamsError {
  override name = 'StoreClosedError';
  constructor(store: string) {
    super('STORE_CLOSED', `store ${store} is closed`);
  }
}

/** The persistent engine failed (open, read, write), or the store metadata on disk is unreadable. */
export class StoreEngineError extends StreamsError {
  override name = 'StoreEngineError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_ENGINE', message, options);
  }
}

/**
 * The changelog cannot produce the checkpointed state: the checkpoint names an offset the
 * changelog does not have (topic deleted and re-created, data lost).
 */
export class ChangelogInconsistentError extends StreamsError {
  override name = 'ChangelogInconsistentError';
  constructor(message: string) {
    super('CHANGELOG_INCONSISTENT', message);
  }
}

/**
 * Inputs that must be co-partitioned (a join's two sides) have different partition counts; the
 * message says which and how to fix it.
 */
export class CopartitioningError extends StreamsError {
  override name = 'CopartitioningError';
  constructor(message: string) {
    super('NOT_COPARTITIONED', message);
  }
}

/** A task wrote to a store the runtime keeps from a topic (a table with `sourceTopic`). */
export class ReadOnlyStoreError extends StreamsError {
  override name = 'ReadOnlyStoreError';
  constructor(message: string) {
    super('READ_ONLY_STORE', message);
  }
}

/**
 * The message for two inputs of `by` that are not co-partitioned, with the fix. Shared by the
 * container's start-up check and `brook job describe`.
 */
export function notCopartitionedMessage(
  by: string,
  a: string,
  partitionsA: number,
  b: string,
  partitionsB: number,
): string {
  return (
    `${by} joins ${a} (${partitionsA} partitions) with ${b} (${partitionsB} partitions): the ` +
    `inputs of a join must be co-partitioned. Fix: give both the same partition count (brook ` +
    `topics alter --partitions) and the same key and partitioner, or re-key one side with ` +
    `partitionBy(), which repartitions through a topic with one partition per task`
  );
}
