/**
 * Independent references for windowed counts (plain maps and arrays, brute-force window
 * membership) and the deterministic out-of-order input they are checked on; shared by the unit
 * tests and the end-to-end tests.
 */
import type { EmitMode } from '../../src/streams/dsl/window-aggregator.js';

export interface In {
  readonly key: string;
  readonly ts: number;
}

/** One forwarded result, as a comparable line. */
export type Out = string;

/** Deterministic input: mostly ordered, some records far behind (late beyond grace). */
export function outOfOrderInput(seed: number, n: number, keys: number, maxBehind: number): In[] {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const out: In[] = [];
  let clock = 1_000;
  for (let i = 0; i < n; i++) {
    clock += Math.floor(rand() * 40);
    const behind = rand() < 0.2 ? Math.floor(rand() * maxBehind) : 0;
    out.push({ key: `k${Math.floor(rand() * keys)}`, ts: clock - behind });
  }
  return out;
}

/** The reference for time windows: brute-force membership, a map of counts, a closed set. */
export function referenceTime(
  input: readonly In[],
  size: number,
  advance: number,
  grace: number,
  emit: EmitMode,
  ooo: number,
): { out: Out[]; late: Out[] } {
  const out: Out[] = [];
  const late: Out[] = [];
  const counts = new Map<string, { key: string; start: number; count: number; done: boolean }>();
  let max = -Infinity;
  for (const r of input) {
    max = Math.max(max, r.ts);
    const wm = max - ooo;
    let missed = false;
    for (
      let start = Math.floor((r.ts - 3 * size) / advance) * advance;
      start <= r.ts;
      start += advance
    ) {
      if (!(start <= r.ts && r.ts < start + size)) continue;
      if (wm >= start + size + grace) {
        missed = true;
        continue;
      }
      const id = `${r.key}@${start}`;
      const w = counts.get(id) ?? { key: r.key, start, count: 0, done: false };
      w.count++;
      counts.set(id, w);
      if (emit === 'update') out.push(`${r.key}@${start}-${start + size}=${w.count}`);
    }
    if (missed) late.push(`${r.key}@${r.ts}`);
    for (const w of counts.values()) {
      if (!w.done && wm >= w.start + size + grace) {
        w.done = true;
        if (emit === 'final') out.push(`${w.key}@${w.start}-${w.start + size}=${w.count}`);
      }
    }
  }
  return { out, late };
}

/** The reference for sessions: a list of sessions per key, scanned linearly. */
export function referenceSession(
  input: readonly In[],
  gap: number,
  grace: number,
  emit: EmitMode,
  ooo: number,
): { out: Out[]; late: Out[] } {
  const out: Out[] = [];
  const late: Out[] = [];
  const sessions: { key: string; start: number; end: number; count: number; done: boolean }[] = [];
  let max = -Infinity;
  const closed = (s: { end: number }, wm: number): boolean => wm >= s.end + gap + grace;
  for (const r of input) {
    max = Math.max(max, r.ts);
    const wm = max - ooo;
    if (wm >= r.ts + gap + grace) {
      late.push(`${r.key}@${r.ts}`);
    } else {
      const touching = sessions
        .filter((s) => s.key === r.key && !s.done && !closed(s, wm))
        .filter((s) => r.ts >= s.start - gap && r.ts <= s.end + gap)
        .sort((a, b) => a.start - b.start);
      const merged = {
        key: r.key,
        start: Math.min(r.ts, ...touching.map((s) => s.start)),
        end: Math.max(r.ts, ...touching.map((s) => s.end)),
        count: 1 + touching.reduce((n, s) => n + s.count, 0),
        done: false,
      };
      for (const s of touching) {
        sessions.splice(sessions.indexOf(s), 1);
        if (emit === 'update' && (s.start !== merged.start || s.end !== merged.end)) {
          out.push(`${s.key}@${s.start}-${s.end}=null`);
        }
      }
      sessions.push(merged);
      if (emit === 'update') out.push(`${r.key}@${merged.start}-${merged.end}=${merged.count}`);
    }
    for (const s of sessions) {
      if (!s.done && closed(s, wm)) {
        s.done = true;
        if (emit === 'final') out.push(`${s.key}@${s.start}-${s.end}=${s.count}`);
      }
    }
  }
  return { out, late };
}
