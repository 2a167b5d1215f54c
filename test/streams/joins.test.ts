/**
 * Joins compared with references written independently (plain maps and nested loops): the
 * "who viewed your profile" stream–table join, ad impressions joined with clicks within 10
 * minutes (stream–stream), and a table–table join.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JobTestDriver, streamsApp } from '../../src/streams/dsl/index.js';
import { WindowJoin } from '../../src/streams/dsl/window-join.js';
import { jsonSerde, stringSerde } from '../../src/streams/serdes/index.js';
import { InMemoryEngine } from '../../src/streams/stores/in-memory-engine.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

interface View {
  readonly viewer: string;
  readonly viewed: string;
  readonly time: number;
}
interface Profile {
  readonly name: string;
  readonly company: string;
}

/** The job: page views keyed by viewer, enriched with the viewer's profile. */
function profileViewApp() {
  const app = streamsApp({ id: 'profile-views' });
  const profiles = app.table('profiles', { key: stringSerde, value: jsonSerde<Profile>() });
  app
    .stream(
      'page-views',
      { key: stringSerde, value: jsonSerde<View>() },
      {
        timestamp: (_k, v, t) => v?.time ?? t,
      },
    )
    .join(profiles, (v, p) => `${p.name} (${p.company}) viewed ${v.viewed}`)
    .sendTo('profile-viewed', { key: stringSerde, value: stringSerde });
  return app;
}

/** An ad impression (left) or click (right) of a stream–stream join test. */
interface AdEvent {
  readonly side: 'left' | 'right';
  readonly ad: string;
  readonly id: string;
  readonly ts: number;
}

/**
 * `count` impressions and clicks on `ads` ads, time advancing by up to `stepMs` per event and
 * each event's timestamp up to `disorderMs` behind the clock (bounded disorder).
 */
function adEvents(
  rand: () => number,
  o: { count: number; stepMs: number; disorderMs: number; impressionShare: number; ads: number },
): AdEvent[] {
  const events: AdEvent[] = [];
  let clock = 0;
  for (let i = 0; i < o.count; i++) {
    clock += Math.floor(rand() * o.stepMs);
    const ts = clock - Math.floor(rand() * o.disorderMs);
    const side = rand() < o.impressionShare ? 'left' : 'right';
    events.push({ side, ad: `ad${Math.floor(rand() * o.ads)}`, id: `${side[0]}${i}`, ts });
  }
  return events;
}

/** A WindowJoin of impressions with clicks on in-memory stores, its outputs as `ad:value`. */
function adJoin(
  within: number,
  grace: number,
  got: string[],
  leftOnly?: (impression: string) => string,
): WindowJoin<string, string, string, string> {
  return new WindowJoin<string, string, string, string>({
    left: new InMemoryEngine(),
    right: new InMemoryEngine(),
    keySerde: stringSerde,
    leftSerde: stringSerde,
    rightSerde: stringSerde,
    within,
    grace,
    joiner: (imp, click) => `${imp}+${click}`,
    ...(leftOnly === undefined ? {} : { leftOnly }),
    forward: (k, v) => got.push(`${k}:${v}`),
  });
}

/**
 * Feeds `events` in order, the watermark `lagMs` behind the highest timestamp seen, expiring
 * as it goes; returns that highest timestamp.
 */
function feed(
  join: WindowJoin<string, string, string, string>,
  events: readonly AdEvent[],
  lagMs: number,
): number {
  let max = -Infinity;
  for (const [i, e] of events.entries()) {
    max = Math.max(max, e.ts);
    join.process(e.side, e.ad, e.id, e.ts, i, max - lagMs);
    join.expire(max - lagMs);
  }
  return max;
}

/** Reference: the clicks on `impression`'s ad at most `within` from it, in event order. */
function clicksFor(impression: AdEvent, events: readonly AdEvent[], within: number): AdEvent[] {
  return events.filter(
    (r) => r.side === 'right' && r.ad === impression.ad && Math.abs(impression.ts - r.ts) <= within,
  );
}

/** A job with the `impressions` and `clicks` streams, and the windowed join's options. */
function adStreams(id: string) {
  const app = streamsApp({ id });
  const impressions = app.stream('impressions', { key: stringSerde, value: stringSerde });
  const clicks = app.stream('clicks', { key: stringSerde, value: stringSerde });
  const options = {
    within: 600_000,
    serdes: { key: stringSerde, left: stringSerde, right: stringSerde },
  };
  return { app, impressions, clicks, options };
}

describe('stream–table join', () => {
  test('who viewed your profile: equal to a reference, profile updates show in later joins', () => {
    for (const seed of [1, 5, 9]) {
      const rand = lcg(seed);
      const driver = new JobTestDriver(profileViewApp().toJob());
      const table = new Map<string, Profile>();
      const want: string[] = [];
      for (let i = 0; i < 500; i++) {
        const member = `m${Math.floor(rand() * 20)}`;
        if (rand() < 0.3) {
          const profile = { name: `name-${member}`, company: `c${Math.floor(rand() * 5)}` };
          table.set(member, profile);
          driver.pipe('profiles', member, profile, i);
        } else if (rand() < 0.05) {
          table.delete(member);
          driver.pipe('profiles', member, null, i);
        } else {
          const view = { viewer: member, viewed: `m${Math.floor(rand() * 20)}`, time: i };
          driver.pipe('page-views', member, view, i);
          const p = table.get(member);
          if (p !== undefined)
            want.push(`${member}:${p.name} (${p.company}) viewed ${view.viewed}`);
        }
      }
      const got = driver.output('profile-viewed').map((o) => `${o.key}:${o.value}`);
      assert.ok(want.length > 100);
      assert.deepEqual(got, want);
    }
  });

  test('a crash and restart from the stores gives the same outputs', () => {
    const driver = new JobTestDriver(profileViewApp().toJob());
    driver.pipe('profiles', 'a', { name: 'Ann', company: 'X' }, 1);
    driver.start(); // a new task instance over the same stores
    driver.pipe('page-views', 'a', { viewer: 'a', viewed: 'b', time: 2 }, 2);
    assert.deepEqual(
      driver.output('profile-viewed').map((o) => o.value),
      ['Ann (X) viewed b'],
    );
  });
});

describe('stream–stream join', () => {
  test('impressions with clicks within 10 minutes equal a nested-loop reference', () => {
    const within = 10 * 60_000;
    const ooo = 60_000;
    for (const seed of [2, 3, 4, 11]) {
      const got: string[] = [];
      const join = adJoin(within, ooo, got);
      const events = adEvents(lcg(seed), {
        count: 600,
        stepMs: 30_000,
        disorderMs: ooo,
        impressionShare: 0.6,
        ads: 6,
      });
      feed(join, events, ooo);
      // Reference: every impression/click pair of an ad at most `within` apart.
      const want: string[] = [];
      for (const l of events.filter((e) => e.side === 'left'))
        for (const r of clicksFor(l, events, within)) want.push(`${l.ad}:${l.id}+${r.id}`);
      assert.ok(want.length > 50);
      assert.deepEqual([...got].sort(), want.sort());
      // Buffers are bounded: old records expired.
      let buffered = 0;
      for (let a = 0; a < 6; a++)
        buffered += join.buffered('left', `ad${a}`) + join.buffered('right', `ad${a}`);
      assert.ok(buffered < 200, `${buffered} buffered of 600`);
    }
  });

  test('left join: unjoined impressions come out alone once they can no longer join', () => {
    const within = 60_000;
    const grace = 30_000;
    for (const seed of [5, 6, 8]) {
      const got: string[] = [];
      const join = adJoin(within, grace, got, (imp) => `${imp}+none`);
      const events = adEvents(lcg(seed), {
        count: 500,
        stepMs: 20_000,
        disorderMs: grace,
        impressionShare: 0.7,
        ads: 8,
      });
      const max = feed(join, events, 0);
      // Reference: pairs within the window, and every impression without one that has expired
      // by the final watermark (time + 2 x within + grace).
      const want: string[] = [];
      for (const l of events) {
        if (l.side !== 'left') continue;
        const clicks = clicksFor(l, events, within);
        for (const r of clicks) want.push(`${l.ad}:${l.id}+${r.id}`);
        if (clicks.length === 0 && l.ts + 2 * within + grace <= max) {
          want.push(`${l.ad}:${l.id}+none`);
        }
      }
      assert.ok(want.filter((w) => w.endsWith('+none')).length > 20);
      assert.deepEqual([...got].sort(), want.sort());
    }
  });

  test('compiled: both sides through the job', () => {
    const { app, impressions, clicks, options } = adStreams('ads');
    impressions
      .joinWindowed(clicks, (i, c) => `${i}/${c}`, options)
      .sendTo('ad-clicks', { value: stringSerde });
    const driver = new JobTestDriver(app.toJob());
    driver.pipe('impressions', 'ad1', 'i1', 1_000);
    driver.pipe('clicks', 'ad1', 'c1', 500_000);
    driver.pipe('clicks', 'ad1', 'c2', 700_000);
    driver.pipe('impressions', 'ad2', 'i2', 701_000);
    assert.deepEqual(
      driver.output('ad-clicks').map((o) => o.value),
      ['i1/c1'],
    );
  });
});

describe('left join compiled', () => {
  test('leftJoinWindowed passes unjoined records on with null', () => {
    const { app, impressions, clicks, options } = adStreams('ads-left');
    impressions
      .leftJoinWindowed(clicks, (i, c) => `${i}/${c ?? 'none'}`, options)
      .sendTo('ad-clicks', { value: stringSerde });
    const driver = new JobTestDriver(app.toJob());
    driver.pipe('impressions', 'ad1', 'i1', 1_000);
    driver.pipe('impressions', 'ad2', 'i2', 2_000);
    driver.pipe('clicks', 'ad1', 'c1', 3_000);
    driver.pipe('clicks', 'ad3', 'c3', 2_000_000);
    // The watermark is the minimum of both inputs: this record moves it past the expiries.
    driver.pipe('impressions', 'ad3', 'i3', 2_000_000);
    assert.deepEqual(
      driver.output('ad-clicks').map((o) => o.value),
      ['i1/c1', 'i3/c3', 'i2/none'],
    );
  });
});

describe('table–table join', () => {
  test('the joined table equals the join of the final tables', () => {
    const app = streamsApp({ id: 'tt' });
    const a = app.table('a', { key: stringSerde, value: stringSerde });
    const b = app.table('b', { key: stringSerde, value: stringSerde });
    a.join(b, (x, y) => `${x}|${y}`)
      .toStream()
      .sendTo('ab', { key: stringSerde, value: stringSerde });
    const driver = new JobTestDriver(app.toJob());
    const rand = lcg(7);
    const ta = new Map<string, string>();
    const tb = new Map<string, string>();
    for (let i = 0; i < 400; i++) {
      const k = `k${Math.floor(rand() * 15)}`;
      const v = rand() < 0.15 ? null : `v${i}`;
      const [topic, t] = rand() < 0.5 ? (['a', ta] as const) : (['b', tb] as const);
      if (v === null) t.delete(k);
      else t.set(k, v);
      driver.pipe(topic, k, v, i);
    }
    const got = new Map<string, unknown>();
    for (const o of driver.output('ab')) got.set(o.key as string, o.value);
    for (const k of [...got.keys()]) if (got.get(k) === null) got.delete(k);
    const want = new Map<string, string>();
    for (const [k, x] of ta) if (tb.has(k)) want.set(k, `${x}|${tb.get(k)}`);
    assert.deepEqual(got, want);
  });
});
