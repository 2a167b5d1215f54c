/**
 * CPU profiles for the benchmarks: a V8 profile summarised by self time, and a profiler started
 * inside this process around one phase of a benchmark (the load, not the set-up).
 */
import { Session } from 'node:inspector/promises';

const ROOT = new URL('../', import.meta.url).pathname;

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Now on the monotonic clock V8's profiler stamps samples with, in microseconds. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Self time per function and per file of a V8 CPU profile, the biggest first, counting only the
 * samples taken between `fromUs` and `toUs` (monotonic microseconds: the load, not start-up).
 */
export function summariseProfile(
  profile: CpuProfile,
  fromUs: number,
  toUs: number,
  top = 15,
): string[] {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const selfById = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i];
    selfById.set(id, (selfById.get(id) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfById) {
    const f = frames.get(id);
    if (!f) continue;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const file = f.url === '' ? '(native)' : f.url.replace(`file://${ROOT}`, '');
    const fn = `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const rank = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s; self time as a share of busy time`,
    '  by function:',
    ...rank(byFunction, top).map(([k, us]) => `  ${pct(us)}  ${k}`),
    '  by file:',
    ...rank(byFile, 10).map(([k, us]) => `  ${pct(us)}  ${k}`),
  ];
}

/**
 * Profiles this process while `fn` runs (sampling every `intervalUs`) and returns its result
 * with the summary lines of what ran meanwhile.
 */
export async function profileWhile<T>(
  fn: () => Promise<T>,
  intervalUs = 200,
): Promise<{ result: T; summary: string[] }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    const from = monotonicUs();
    const result = await fn();
    const to = monotonicUs();
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    return { result, summary: summariseProfile(profile, from, to, 30) };
  } finally {
    session.disconnect();
  }
}
