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
import {
  type In,
  type Out,
  outOfOrderInput,
  referenceSession,
  referenceTime,
} from './windows-reference.js';

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
        const got = runImplementation(
          input,
          hoppingWindows(100, 30, { grace: GRACE, retainAfterClose: 70 }),
          emit,
          OOO,
        );
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
      assert.deepEqual([...aggregator.fetchAll('a')], [], 'no window is left');
      assert.ok(store.approximateCount() <= 1, 'nothing but the close mark is left');
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

  test('the watermark resumes from the state its last checkpoint wrote', () => {
    const state = new Map<string, number>();
    const t1 = new WatermarkTracker({ outOfOrderness: 5, idleTimeoutMs: 1e9, now: () => 0 }, state);
    t1.observe('p', 100);
    assert.equal(state.size, 0, 'nothing written per record');
    t1.persist();
    assert.deepEqual([...state].sort(), [
      ['*', 95],
      ['p', 100],
    ]);
    t1.observe('p', 200);
    t1.observe('p', 150);
    const t2 = new WatermarkTracker({ outOfOrderness: 5, idleTimeoutMs: 1e9, now: () => 0 }, state);
    t2.register('p');
    assert.equal(t2.watermark, 95, 'what the checkpoint held, not what came after it');
    t1.persist();
    t1.persist();
    const t3 = new WatermarkTracker({ outOfOrderness: 5, idleTimeoutMs: 1e9, now: () => 0 }, state);
    t3.register('p');
    assert.equal(t3.watermark, 195);
  });
});
