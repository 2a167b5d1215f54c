/**
 * Caps the V8 young generation of the `brook start` process.
 *
 * Under produce load V8 grows the new space to its maximum (16 MiB per semi-space on Node 20,
 * 33.6 MB for the two) and resident memory counts both semi-spaces; the broker's requests die
 * young, so a few MiB per semi-space collect them as cheaply. Measured on the kcat produce load
 * (100 B records, 6 partitions, acks=1): new space 33.6 MB → 8.4 MB, peak RSS about 10 MB lower,
 * CPU per record unchanged within the machine's noise; pinning it at the initial 1 MiB saves
 * 8 MB more but cost up to a fifth more CPU per record in some runs.
 *
 * `--max-semi-space-size` is only read when the heap is set up, so it cannot be applied from
 * inside the process (and a re-exec would put the broker in a child process that tools watching
 * `brook start`'s pid would not see). What V8 does read at run time is the factor by which it
 * grows the new space: below the cap the broker sets the factor that reaches the cap in one step
 * (1 → 4 MiB per semi-space: 4) and sets it to 1 while the new space is at the cap. A user who passes their own semi-space flag
 * (`node --max-semi-space-size=N`, or in NODE_OPTIONS) keeps it: the cap stays off.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Semi-space size the broker stops the young generation at, in MiB (new space is twice this). */
export const YOUNG_GENERATION_SEMI_SPACE_MIB = 4;

/** How often the new space's size is checked; growth needs a semi-space of survivors first. */
const CHECK_MS = 100;

/** The growth factor last set, 0 before any. */
let factor = 0;
let capped = false;

function setFactor(f: number): void {
  if (f === factor) return;
  factor = f;
  setFlagsFromString(`--semi-space-growth-factor=${f}`);
}

/** Whether the user chose the young generation's size themselves. */
function userChoseSemiSpace(): boolean {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return /semi[-_]space/.test(flags);
}

function newSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/**
 * Stops the young generation from growing at all, for start-up: parsing the CLI's modules grows
 * it to 8 MiB per semi-space before any of them runs (so this must be called before they are
 * imported: bin/brook imports this module first, then the CLI), and V8 does not shrink it again
 * while the process is busy. {@link capYoungGeneration} lets it grow to the cap afterwards.
 */
export function pinYoungGeneration(): void {
  if (!userChoseSemiSpace()) setFactor(1);
}

/**
 * Keeps the young generation at about {@link YOUNG_GENERATION_SEMI_SPACE_MIB} MiB per
 * semi-space for the life of the process (a timer that does not keep it alive). Returns false,
 * doing nothing, when the user set a semi-space flag.
 */
export function capYoungGeneration(semiSpaceMiB = YOUNG_GENERATION_SEMI_SPACE_MIB): boolean {
  if (userChoseSemiSpace()) return false;
  if (capped) return true;
  capped = true;
  const cap = 2 * semiSpaceMiB * 2 ** 20; // the new space is two semi-spaces
  const check = () => {
    const now = newSpaceBytes();
    // Below the cap, the factor that reaches it in one growth step; at the cap, no growth.
    setFactor(now >= cap || now <= 0 ? 1 : Math.max(2, Math.round(cap / now)));
  };
  check();
  setInterval(check, CHECK_MS).unref();
  return true;
}

// bin/brook imports this module on its own before the rest of the CLI, so that `brook start`
// pins the young generation before the other modules are parsed.
if (process.argv[2] === 'start') pinYoungGeneration();
