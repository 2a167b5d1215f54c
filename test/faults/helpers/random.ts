/**
 * Seeded randomness for fault scenarios: every scenario prints its seed, and
 * `BROOK_FAULTS_SEED=<n>` replays it (kill moments, cut positions and flipped bytes).
 */

/** A small deterministic generator (mulberry32): fast, 32-bit state, good enough for tests. */
export class SeededRandom {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
}

/**
 * The generator for one scenario: seeded from `BROOK_FAULTS_SEED` when set, else from the clock.
 * The seed is printed with the scenario's name so that a failure can be replayed.
 */
export function scenarioRandom(scenario: string): SeededRandom {
  const fromEnv = process.env.BROOK_FAULTS_SEED;
  const seed =
    fromEnv !== undefined && fromEnv !== ''
      ? Number.parseInt(fromEnv, 10) >>> 0
      : (Date.now() ^ (process.pid << 16)) >>> 0;
  console.log(`[faults] ${scenario}: seed ${seed} (replay with BROOK_FAULTS_SEED=${seed})`);
  return new SeededRandom(seed);
}
