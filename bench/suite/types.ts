/**
 * The shape of a benchmark suite run as written to `bench-results/<date>.json`: the machine, the
 * versions, every case with its figures (median, min and max of several runs, and every parameter
 * that shaped them) or the reason it was skipped, and the goals of issue 10 beside the figures.
 */

/** The JSON format's name and version, so that readers can refuse what they do not know. */
export const RESULT_SCHEMA = 'brook-bench/1';

/** One measured figure: several runs of the same workload. */
export interface Figure {
  /** What was measured, readable on its own ("brook client, 100 B, 6 partitions, acks=1, none"). */
  readonly name: string;
  /** The system under load: 'brook', 'kafka-mock', 'redis-streams', 'machine', ... */
  readonly system: string;
  /** 'records/s', 'MB/s', 'ms', 'appends/s', 'MB', ... */
  readonly unit: string;
  /** Median of `runs` (the upper one of an even count). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Every run's value, in run order. */
  readonly runs: readonly number[];
  /** Payload megabytes (10^6 bytes) per second at the median, for record throughputs. */
  readonly mbPerSec?: number;
  /** The broker's peak resident memory (MB, 10^6 bytes) sampled from /proc during these runs. */
  readonly brokerRssMb?: number;
  /** The durability setting in force, in the system's own words. */
  readonly durability?: string;
  /** Every parameter that shaped the figure (record size, batch size, linger, acks, ...). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly note?: string;
}

/** A part of a case that could not run (a missing tool, a peer not installed, a failure). */
export interface Skip {
  readonly name: string;
  readonly reason: string;
}

/** One case of the suite. */
export interface CaseResult {
  readonly name: string;
  readonly title: string;
  /** ok: every part ran; partial: some parts skipped; skipped: nothing ran; failed: it threw. */
  readonly status: 'ok' | 'partial' | 'skipped' | 'failed';
  /** Why, when the status is not ok. */
  readonly reason?: string;
  readonly seconds: number;
  readonly figures: readonly Figure[];
  readonly skips: readonly Skip[];
}

/** The machine the figures were taken on. */
export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryMb: number;
  readonly kernel: string;
  readonly platform: string;
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd: readonly number[];
  /** Filesystem of the temporary directory the data directories live in. */
  readonly tmpFilesystem: string;
}

/** One goal of issue 10 with the figure it is judged on. */
export interface GoalResult {
  readonly goal: string;
  readonly target: string;
  /** The figure compared, as text ("812,345 records/s"), or null when it was not measured. */
  readonly actual: string | null;
  /** null when the figures it needs are missing from this run. */
  readonly met: boolean | null;
  readonly detail: string;
}

/** A whole run. */
export interface SuiteResult {
  readonly schema: typeof RESULT_SCHEMA;
  readonly mode: 'quick' | 'full';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly argv: readonly string[];
  /** Free text from --note (e.g. "machine shared with other builds"). */
  readonly note: string | null;
  readonly machine: MachineInfo;
  readonly versions: Readonly<Record<string, string>>;
  /** How the Brook broker ran and with which settings (besides each topic's own config). */
  readonly broker: { readonly runtime: string; readonly settings: readonly string[] };
  readonly cases: readonly CaseResult[];
  readonly goals: readonly GoalResult[];
}
