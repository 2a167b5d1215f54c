/**
 * How big the fault scenarios run. `scripts/test-faults.mjs` sets `BROOK_FAULTS_MODE`:
 * `ci` (the default, also under `npm test`): bounded, a few minutes for the whole folder;
 * `long` (`--long`): more cycles and data; `soak` (`--soak`): the soak alone, for minutes.
 */
export type FaultsMode = 'ci' | 'long' | 'soak';

/** The mode of this run, from `BROOK_FAULTS_MODE` (anything unknown is refused, not guessed). */
export function faultsMode(): FaultsMode {
  const mode = process.env.BROOK_FAULTS_MODE ?? 'ci';
  if (mode === 'ci' || mode === 'long' || mode === 'soak') return mode;
  throw new Error(`BROOK_FAULTS_MODE must be ci, long or soak, not ${JSON.stringify(mode)}`);
}

/**
 * Picks a size for the current mode: `scale(3, 20)` is 3 cycles in CI and 20 in long mode.
 * Soak mode uses `soak` when given, else the long value.
 */
export function scale<T>(ci: T, long: T, soak: T = long): T {
  const mode = faultsMode();
  return mode === 'ci' ? ci : mode === 'long' ? long : soak;
}
