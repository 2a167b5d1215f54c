/*
 * Event-time watermarks of one task. Each input partition's watermark is the largest timestamp
 * seen on it minus the allowed out-of-orderness; the task's watermark is the minimum over its
 * partitions, so no partition's records are declared late because another ran ahead. A
 * partition that has had no record for `idleTimeoutMs` (wall clock) stops counting, so an idle
 * input does not stall windows forever; it counts again with its next record. The task's
 * watermark never goes backwards. The maxima and the watermark reach the state store when a
 * checkpoint is taken ({@link WatermarkTracker.persist}), so a restored task resumes with the
 * watermark of its checkpoint.
 */

/** Where the tracker keeps its maxima so that a restored task resumes with the same watermark. */
export interface WatermarkState {
  get(partition: string): number | undefined;
  set(partition: string, maxTimestamp: number): void;
}

/** Tracker options. */
export interface WatermarkOptions {
  /** Allowed out-of-orderness, ms. */
  readonly outOfOrderness: number;
  /** After this many ms without records a partition no longer holds the watermark back. */
  readonly idleTimeoutMs: number;
  /** Wall clock, ms (tests pass their own). */
  readonly now?: () => number;
}

/** The lowest possible watermark: nothing seen yet. */
export const NO_WATERMARK = Number.MIN_SAFE_INTEGER;

/** The state key of the task watermark itself (it may be ahead of the minimum after idling). */
const WATERMARK_KEY = '*';

interface PartitionState {
  max: number;
  lastActive: number;
  /** The maximum moved since it was last written to the state. */
  dirty: boolean;
}

/** Per-partition maxima and the task watermark derived from them. */
export class WatermarkTracker {
  readonly #options: Required<WatermarkOptions>;
  readonly #state: WatermarkState | undefined;
  readonly #partitions = new Map<string, PartitionState>();
  #watermark = NO_WATERMARK;
  #watermarkDirty = false;

  constructor(options: WatermarkOptions, state?: WatermarkState) {
    this.#options = { now: Date.now, ...options };
    this.#state = state;
    this.#watermark = state?.get(WATERMARK_KEY) ?? NO_WATERMARK;
  }

  /** Declares a partition the task reads: until it has records or idles, it holds the watermark. */
  register(partition: string): void {
    if (this.#partitions.has(partition)) return;
    const max = this.#state?.get(partition) ?? NO_WATERMARK;
    this.#partitions.set(partition, { max, lastActive: this.#options.now(), dirty: false });
    this.#recompute();
  }

  /**
   * Notes a record's timestamp; returns whether the task watermark moved forward. The state is
   * written by {@link WatermarkTracker.persist}, not per record.
   */
  observe(partition: string, timestamp: number): boolean {
    let p = this.#partitions.get(partition);
    if (p === undefined) {
      this.register(partition);
      p = this.#partitions.get(partition)!;
    }
    p.lastActive = this.#options.now();
    // Only a higher maximum can move the watermark: a partition coming back from idle can only
    // lower the minimum, and the watermark never goes backwards.
    if (timestamp <= p.max) return false;
    p.max = timestamp;
    p.dirty = true;
    return this.#recompute();
  }

  /** Writes the maxima and the watermark that moved since the last call to the state. */
  persist(): void {
    const state = this.#state;
    if (state === undefined) return;
    for (const [partition, p] of this.#partitions) {
      if (!p.dirty) continue;
      state.set(partition, p.max);
      p.dirty = false;
    }
    if (this.#watermarkDirty) {
      state.set(WATERMARK_KEY, this.#watermark);
      this.#watermarkDirty = false;
    }
  }

  /** Re-evaluates idleness (call periodically); returns whether the watermark moved forward. */
  tick(): boolean {
    return this.#recompute();
  }

  /** The task's watermark: records at or before it are in the past. */
  get watermark(): number {
    return this.#watermark;
  }

  #recompute(): boolean {
    const now = this.#options.now();
    let active = Number.POSITIVE_INFINITY;
    let all = NO_WATERMARK;
    for (const p of this.#partitions.values()) {
      const w = p.max === NO_WATERMARK ? NO_WATERMARK : p.max - this.#options.outOfOrderness;
      if (w > all) all = w;
      if (now - p.lastActive < this.#options.idleTimeoutMs && w < active) active = w;
    }
    // Every partition idle: nothing holds the watermark back but what was seen.
    const next = active === Number.POSITIVE_INFINITY ? all : active;
    if (next > this.#watermark) {
      this.#watermark = next;
      this.#watermarkDirty = true;
      return true;
    }
    return false;
  }
}
