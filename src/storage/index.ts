/**
 * Brook's storage engine: partition logs in Kafka's on-disk layout. The broker uses the
 * LogManager (one per data dir) and the Log of each partition; the rest is exported for tools
 * and tests.
 */
export {
  type CleanupPolicy,
  DEFAULT_LOG_CONFIG,
  type FlushPolicy,
  InvalidConfigError,
  isCompacted,
  isDeleteRetained,
  type LogConfig,
  logConfig,
} from './config.js';
export {
  CorruptRecordError,
  LogClosedError,
  OffsetOutOfRangeError,
  StorageError,
} from './errors.js';
export {
  type AppendOptions,
  type AppendResult,
  type FileRange,
  Log,
  type LogOptions,
  type ReadOptions,
  type ReadResult,
  type TimestampAndOffset,
} from './log.js';
export {
  CLEAN_SHUTDOWN_FILE,
  LogManager,
  type LogManagerConfig,
  type PartitionSize,
} from './log-manager.js';
export { Cleaner, type CleanableSection, type CleanerStats } from './cleaner.js';
export { type EpochEntry, LeaderEpochCache } from './leader-epoch-cache.js';
export { readFileRange } from './read-range.js';
export type { LogSegment, SegmentIo } from './segment.js';
