/**
 * What a benchmark case gets to work with: the run's sizes, the shared Brook broker, temporary
 * directories that are removed at the end, and the way to record figures and skips (each figure
 * is printed as a table row the moment it is recorded).
 */
import type { BrookBroker } from './brook.js';
import type { Figure } from './types.js';

/** Workload sizes: --quick shrinks every one so that the whole suite fits in a few minutes. */
export interface Sizes {
  /** Runs per figure (the median, min and max are over these). */
  readonly rounds: number;
  /** Records per produce/consume run, by record size in bytes. */
  readonly records: Readonly<Record<number, number>>;
  /** Records per run over the 1,000-partition topic. */
  readonly scaleRecords: number;
  /** Records per peer run, by record size (peers are slower: fewer records, same shape). */
  readonly peerRecords: Readonly<Record<number, number>>;
  /** 100-byte records per run of the durability-parity case (Brook and every peer alike). */
  readonly durabilityRecords: number;
  /** Seconds of each fixed-rate latency run. */
  readonly latencySeconds: number;
  /** Fixed rates of the latency case, records/s. */
  readonly latencyRates: readonly number[];
  /** Bytes per run of the machine-limit cases. */
  readonly loopbackBytes: number;
  readonly appendBytes: number;
  /** Appends of 4 KiB, each followed by fdatasync, per run. */
  readonly syncedAppends: number;
  /** Messages per stream-processing run. */
  readonly streamMessages: number;
  /** Records per client-comparison run. */
  readonly clientRecords: number;
}

/** Sized so that a full run takes about half an hour on a busy 2-core machine. */
export const FULL: Sizes = {
  rounds: 3,
  records: { 100: 200_000, 1024: 40_000 },
  scaleRecords: 50_000,
  peerRecords: { 100: 50_000, 1024: 10_000 },
  durabilityRecords: 50_000,
  latencySeconds: 5,
  latencyRates: [1000, 10_000, 100_000],
  loopbackBytes: 256 * 2 ** 20,
  appendBytes: 128 * 2 ** 20,
  syncedAppends: 500,
  streamMessages: 500_000,
  clientRecords: 50_000,
};

export const QUICK: Sizes = {
  rounds: 1,
  records: { 100: 20_000, 1024: 4000 },
  scaleRecords: 5000,
  peerRecords: { 100: 5000, 1024: 1000 },
  durabilityRecords: 5000,
  latencySeconds: 1,
  latencyRates: [1000, 10_000, 100_000],
  loopbackBytes: 32 * 2 ** 20,
  appendBytes: 16 * 2 ** 20,
  syncedAppends: 100,
  streamMessages: 5000,
  clientRecords: 5000,
};

/** A figure as a case reports it; the suite computes median, min, max and MB/s. */
export interface FigureInput {
  readonly name: string;
  readonly system: string;
  readonly unit: string;
  readonly runs: readonly number[];
  readonly params: Readonly<Record<string, unknown>>;
  /** For record throughputs: payload bytes per record, to derive MB/s. */
  readonly recordSize?: number;
  readonly brokerRssMb?: number;
  readonly durability?: string;
  readonly note?: string;
}

/** The handle a case runs with. */
export interface CaseContext {
  readonly quick: boolean;
  readonly sizes: Sizes;
  /** The shared Brook broker (started on first use, stopped when the suite ends). */
  brook(): Promise<BrookBroker>;
  /** Records a figure and prints its row. */
  figure(f: FigureInput): Figure;
  /** Records that a part of the case could not run, and why. */
  skip(name: string, reason: string): void;
  /** Shows what is running now (the progress line). */
  progress(text: string): void;
  /** A fresh temporary directory, removed when the suite ends. */
  tempDir(prefix: string): string;
  /** Registers clean-up to run when the suite ends (servers the case could not stop itself). */
  onCleanup(fn: () => Promise<void> | void): void;
}

/** One case of the suite, selectable with --case NAME. */
export interface BenchCase {
  readonly name: string;
  readonly title: string;
  /** One line for --help. */
  readonly summary: string;
  run(ctx: CaseContext): Promise<void>;
}

/** Runs `fn` `rounds` times, reporting progress as "label (round i/n)"; returns each result. */
export async function repeat<T>(
  ctx: CaseContext,
  label: string,
  fn: (round: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (let r = 0; r < ctx.sizes.rounds; r++) {
    ctx.progress(`${label} (run ${r + 1}/${ctx.sizes.rounds})`);
    out.push(await fn(r));
  }
  return out;
}
