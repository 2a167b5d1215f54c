/*
 * The stream processor's public surface so far: serdes, the store API and its layers, the
 * changelog boundary, restore, and the job-model types.
 */
export * from './errors.js';
export * from './serdes/index.js';
export { CachedStore, type CacheOptions } from './stores/cached-store.js';
export {
  CHANGELOG_TOPIC_CONFIGS,
  type ChangelogOffset,
  type ChangelogReader,
  type ChangelogRecord,
  type ChangelogWriter,
  changelogTopic,
} from './stores/changelog.js';
export { InMemoryEngine } from './stores/in-memory-engine.js';
export type {
  BytesStore,
  Entry,
  KeyValueIterator,
  KeyValueStore,
} from './stores/key-value-store.js';
export { LMDB_MAX_KEY_SIZE, LmdbEngine } from './stores/lmdb-engine.js';
export { LoggedStore, type LoggedStoreOptions } from './stores/logged-store.js';
export {
  type ChangelogPartition,
  type LocalStateOffset,
  OFFSET_FILE,
  OffsetFile,
} from './stores/offset-file.js';
export {
  planRestore,
  type RestoredStore,
  type RestoreOptions,
  type RestorePlan,
  type RestoreProgress,
  replayChangelog,
} from './stores/restore.js';
export { restoreStore } from './stores/restore.js';
export { SerializedStore } from './stores/serialized-store.js';
export { storeDirectory, taskFolderName, validateStoreNames } from './stores/state-dir.js';
export * from './types.js';
// The job model and the container runtime (`brook job run`).
export {
  type AnyJob,
  defineJob,
  type Envelope,
  type IncomingEnvelope,
  type InputSpec,
  type Inputs,
  type JobDefinition,
  type MessageCollector,
  type OutgoingMessage,
  type OutputSpec,
  type Outputs,
  type StoreSpec,
  type Stores,
  type StreamTask,
  type TaskContext,
  type TaskCoordinator,
  type TaskMetrics,
} from './job.js';
export { Container, type ContainerOptions } from './runtime/container.js';
export { JobLoadError, loadJob } from './runtime/load-job.js';
export { TASK_ASSIGNOR_NAME, taskAssignor } from './runtime/task-assignor.js';
// The high-level API, compiled onto the same runtime.
export * from './dsl/index.js';
export * from './query/index.js';
