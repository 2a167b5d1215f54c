/**
 * Windowed counts over out-of-order input with late records, for tumbling, hopping and session
 * windows in both emit modes, compared with a reference written independently: a plain
 * simulation over arrays and maps (no stores, no byte layouts, brute-force window membership).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WatermarkTracker } from '../../src/streams/dsl/watermarks.js';
import { type EmitMode, WindowAggregator } from '../../src/streams/dsl/window-aggregator.js';
import {
  hoppingWindows,
  sessionWindows,
  tumblingWindows,
  type WindowSpec,
  windowStartsFor,
} from '../../src/streams/dsl/windows.js';
import { longSerde, stringSerde } from '../../src/streams/serdes/index.js';
import { InMemoryEngine } from '../../src/streams/stores/in-memory-engine.js';
import { CachedStore } from '../../src/streams/stores/cached-store.js';

interface In {
  readonly key: string;
  readonly ts: number;
}

/** One forwarded result, as a comparable line. */
type Out = string;

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

function runImplementation(
  input: readonly In[],
  windows: WindowSpec,
  emit: EmitMode,
  outOfOrderness: number,
): { out: Out[]; late: Out[] } {
  const out: Out[] = [];
  const late: Out[] = [];
  const tracker = new WatermarkTracker({ outOfOrderness, idleTimeoutMs: 1e12, now: () => 0 });
  const aggregator = new WindowAggregator<string, number, number>({
    store: new CachedStore(new InMemoryEngine(), { cacheSize: 50 }),
    windows,
    keySerde: stringSerde,
    aggregateSerde: longSerde,
    aggregation: { init: () => 0, add: (a) => a + 1, merge: (a, b) => a + b },
    emit,
    forward: (w, v) => out.push(`${w.key}@${w.start}-${w.end}=${v}`),
    late: (k, _v, ts) => late.push(`${k}@${ts}`),
  });
  for (const r of input) {
    tracker.observe('in-0', r.ts);
    aggregator.process(r.key, 1, r.ts, tracker.watermark);
    aggregator.advance(tracker.watermark);
  }
  return { out, late };
}

/** The reference for time windows: brute-force membership, a map of counts, a closed set. */
function referenceTime(
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
function referenceSession(
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

/** Final results come out in close order, which ties may order differently: compare sorted. */
const sorted = (xs: Out[]): Out[] => [...xs].sort();

const OOO = 50;
const GRACE = 30;
const SEEDS = [1, 2, 3, 7, 42, 99, 1234, 2026];

describe('windowStartsFor', () => {
  test('matches brute force membership, negative times included', () => {
    for (const [size, advance] of [
      [10, 10],
      [10, 3],
      [7, 7],
      [100, 25],
    ] as const) {
      const spec = hoppingWindows(size, advance);
      for (let ts = -50; ts < 250; ts++) {
        const brute: number[] = [];
        for (let s = -2100; s <= ts; s += advance) if (ts >= s && ts < s + size) brute.push(s);
        assert.deepEqual(windowStartsFor(spec, ts), brute, `ts=${ts} size=${size} adv=${advance}`);
      }
    }
  });
});

for (const emit of ['update', 'final'] as const) {
  describe(`windowed counts, emit ${emit}`, () => {
    test('tumbling windows equal the reference', () => {
      for (const seed of SEEDS) {
        const input = outOfOrderInput(seed, 400, 5, 300);
        const got = runImplementation(input, tumblingWindows(100, { grace: GRACE }), emit, OOO);
        const want = referenceTime(input, 100, 100, GRACE, emit, OOO);
        assert.ok(want.late.length > 0, 'the input has late records');
        assert.ok(want.out.length > 20, 'the reference has results');
        assert.deepEqual(got.late, want.late);
        if (emit === 'update') assert.deepEqual(got.out, want.out);
        else assert.deepEqual(sorted(got.out), sorted(want.out));
      }
    });

    test('hopping windows equal the reference', () => {
      for (const seed of SEEDS) {
        const input = outOfOrderInput(seed, 400, 5, 300);
        const got = runImplementation(input, hoppingWindows(100, 30, { grace: GRACE }), emit, OOO);
        const want = referenceTime(input, 100, 30, GRACE, emit, OOO);
        assert.ok(want.out.length > 20, 'the reference has results');
        assert.deepEqual(got.late, want.late);
        if (emit === 'update') assert.deepEqual(got.out, want.out);
        else assert.deepEqual(sorted(got.out), sorted(want.out));
      }
    });

    test('session windows equal the reference', () => {
      for (const seed of SEEDS) {
        const input = outOfOrderInput(seed, 400, 8, 300);
        const got = runImplementation(input, sessionWindows(60, { grace: GRACE }), emit, OOO);
        const want = referenceSession(input, 60, GRACE, emit, OOO);
        assert.ok(want.late.length > 0, 'the input has late records');
        assert.ok(want.out.length > 20, 'the reference has results');
        assert.deepEqual(got.late, want.late);
        if (emit === 'update') assert.deepEqual(got.out, want.out);
        else assert.deepEqual(sorted(got.out), sorted(want.out));
      }
    });
  });
}

describe('window state', () => {
  test('closed windows are removed at close, or after retainAfterClose', () => {
    for (const retain of [0, 200]) {
      const store = new InMemoryEngine();
      const aggregator = new WindowAggregator<string, number, number>({
        store,
        windows: tumblingWindows(100, { grace: 10, retainAfterClose: retain }),
        keySerde: stringSerde,
        aggregateSerde: longSerde,
        aggregation: { init: () => 0, add: (a) => a + 1 },
        emit: 'final',
        forward: () => {},
      });
      aggregator.process('a', 1, 5, 0);
      aggregator.advance(109);
      assert.equal(aggregator.fetch('a', 0, 100), 1, 'open until end + grace');
      aggregator.advance(110);
      assert.equal(aggregator.fetch('a', 0, 100), retain === 0 ? undefined : 1);
      aggregator.advance(110 + retain);
      assert.equal(aggregator.fetch('a', 0, 100), undefined);
      assert.equal(store.approximateCount(), 0, 'no data or index entry is left');
    }
  });

  test('the watermark is the minimum over partitions; idle partitions stop holding it', () => {
    let now = 0;
    const tracker = new WatermarkTracker({
      outOfOrderness: 10,
      idleTimeoutMs: 1000,
      now: () => now,
    });
    tracker.register('a');
    tracker.register('b');
    tracker.observe('a', 500);
    assert.equal(tracker.watermark < 0, true, 'b has seen nothing: held back');
    tracker.observe('b', 300);
    assert.equal(tracker.watermark, 290);
    tracker.observe('a', 900);
    assert.equal(tracker.watermark, 290);
    now = 1500;
    tracker.observe('a', 1000);
    assert.equal(tracker.watermark, 990, 'b idle: a alone');
    tracker.observe('b', 400);
    assert.equal(tracker.watermark, 990, 'never backwards');
  });

  test('the watermark resumes from its state after a restart', () => {
    const state = new Map<string, number>();
    const t1 = new WatermarkTracker({ outOfOrderness: 5, idleTimeoutMs: 1e9, now: () => 0 }, state);
    t1.observe('p', 100);
    const t2 = new WatermarkTracker({ outOfOrderness: 5, idleTimeoutMs: 1e9, now: () => 0 }, state);
    t2.register('p');
    assert.equal(t2.watermark, 95);
  });
});
