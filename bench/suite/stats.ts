/**
 * Summaries of repeated runs and of latency samples.
 */
import { median } from '../common.js';

/** Median (the upper one of an even count), min and max of `runs`. */
export function summarize(runs: readonly number[]): { median: number; min: number; max: number } {
  if (runs.length === 0) throw new RangeError('summarize needs at least one run');
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs) };
}

/**
 * The `q` quantile (0..1) of `sorted` (ascending) by the nearest-rank method: the smallest sample
 * that at least q of the samples do not exceed, so p99.9 of 1,000 samples is the largest one.
 */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no samples');
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
