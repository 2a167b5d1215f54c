/**
 * A small seeded pseudo-random generator shared by the example generators, so that a seed fixes
 * every generated record and tests can compute their references from the same sequence.
 */

/** Returns a function yielding floats in [0, 1) from `seed` (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An index in [0, n) with Zipf-like skew (index 0 most likely), from a uniform `u` in [0, 1). */
export function skewedIndex(u: number, n: number): number {
  // Weight 1/(i+1): invert the cumulative weight approximately via the harmonic numbers' log.
  const i = Math.floor(Math.exp(u * Math.log(n + 1)) - 1);
  return Math.min(n - 1, Math.max(0, i));
}
