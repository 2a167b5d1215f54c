/** The types of the Log's API (see log.ts). */
import type { LogConfig } from './config.js';
import type { Log } from './log.js';
import type { SegmentIo } from './segment.js';

/** How to open a log. The LogManager fills these from its checkpoints. */
export interface LogOptions {
  dir: string;
  topic: string;
  partition: number;
  config: LogConfig;
  /** Offsets below this were flushed with their indexes; recovery scans from here. */
  recoveryPoint?: number;
  /** From the log-start-offset checkpoint. */
  logStartOffset?: number;
  /** The data dir was shut down cleanly: skip the recovery scan. */
  cleanShutdown?: boolean;
  /** Fault injection for tests. */
  io?: SegmentIo;
  /** Clock (ms since epoch); tests pass their own. */
  now?: () => number;
  /** Called (synchronously) when DeleteRecords moves the log start offset, to checkpoint it. */
  onLogStartOffsetChange?: (log: Log) => void;
}

/** Per-append options. */
export interface AppendOptions {
  /** Leader epoch stamped into each batch (default: the latest epoch, or 0). */
  leaderEpoch?: number;
  /**
   * Called for each batch after its offset is assigned and before anything is written: the hook
   * for producer state (producerId/epoch/sequence at fixed header positions). Throwing aborts the
   * whole append; nothing is written and no offset is used.
   */
  onBatch?: (buf: Buffer, at: number) => void;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker's time for LogAppendTime topics, else -1. */
  logAppendTime: number;
  logStartOffset: number;
  /** Number of batches appended. */
  batchCount: number;
}

/** A slice of a `.log` file holding whole batches. The fd stays valid for `file.delete.delay.ms`. */
export interface FileRange {
  file: string;
  fd: number;
  position: number;
  length: number;
}

export interface ReadResult {
  ranges: FileRange[];
  /** Total bytes in `ranges`. */
  size: number;
  /** Base offset of the first batch returned (-1 when nothing is returned). */
  firstOffset: number;
  /** Last offset of the last batch returned (-1 when nothing is returned). */
  lastOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
}

export interface ReadOptions {
  /** Exclusive upper bound: only batches whose last offset is below it (e.g. the high watermark). */
  maxOffset?: number;
  /** Return the first batch even when it is bigger than maxBytes (default true, as Kafka). */
  minOneBatch?: boolean;
}
