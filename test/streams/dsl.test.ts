/**
 * The high-level API compiled into a job, driven in memory: stateless operators, grouping,
 * windowed counts with watermarks through the compiled task, repartition with replay dedup, and
 * a restart of the task over its stores.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import {
  describeJob,
  JobTestDriver,
  sessionWindows,
  streamsApp,
  tumblingWindows,
  type Windowed,
  windowedSerde,
} from '../../src/streams/dsl/index.js';
import { longSerde, stringSerde } from '../../src/streams/serdes/index.js';

describe('stateless operators', () => {
  test('map, filter, flatMap, branch, merge, peek and sink', () => {
    const app = streamsApp({ id: 'ops' });
    const seen: string[] = [];
    const words = app
      .stream('lines', { key: stringSerde, value: stringSerde })
      .flatMap((_k, line) => line.split(' ').map((w) => [w, w.length] as const))
      .filter((w) => w !== '');
    const [short, long] = words.branch(
      (_w, n) => n <= 3,
      () => true,
    );
    short!
      .map((w, n) => [w.toUpperCase(), n] as const)
      .merge(long!.peek((w) => seen.push(w)))
      .sink((k, v) => seen.push(`${k}=${v}`));
    const driver = new JobTestDriver(app.toJob());
    driver.pipe('lines', null, 'a quick fox jumps', 1);
    assert.deepEqual(seen, ['A=1', 'quick', 'quick=5', 'FOX=3', 'jumps', 'jumps=5']);
  });
});

describe('aggregations', () => {
  test('groupBy + count repartitions; a replayed record is not counted twice', () => {
    const app = streamsApp({ id: 'wc' });
    app
      .stream('lines', { key: stringSerde, value: stringSerde })
      .flatMap((_k, line) => line.split(' ').map((w) => [w, w] as const))
      .groupBy((_k, w) => w, { key: stringSerde, value: stringSerde }, 'by-word')
      .count({ name: 'counts' })
      .toStream()
      .sendTo('counts', { key: stringSerde, value: longSerde });
    const job = app.toJob();
    assert.equal(job.outputs['by-word'].topic, 'wc-by-word-repartition');
    const driver = new JobTestDriver(job);
    driver.pipe('lines', null, 'a b a', 1);
    // The repartition topic's records, fed back as the broker would deliver them, twice.
    const sent = driver.output('wc-by-word-repartition');
    assert.equal(sent.length, 3);
    const headers = (i: number) => [
      { key: 'brook.position', value: Buffer.from(`lines:0:0:${i}`) },
    ];
    for (let round = 0; round < 2; round++) {
      for (const [i, r] of sent.entries()) {
        driver.pipe('wc-by-word-repartition', r.key, r.value, 1, headers(i));
      }
    }
    assert.equal(driver.store<Buffer, Buffer>('counts').approximateCount(), 2);
    const last = new Map(driver.output('counts').map((o) => [o.key, o.value]));
    assert.deepEqual(
      last,
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
  });

  test('windowed count through the compiled task: final results when the watermark passes', () => {
    const app = streamsApp({ id: 'wcount', outOfOrderness: 10 });
    const counts = app
      .stream('clicks', { key: stringSerde, value: stringSerde })
      .groupByKey()
      .windowedBy(tumblingWindows(100, { grace: 20 }))
      .count({ emit: 'final', name: 'per-window' });
    counts.toStream().sendTo('click-counts', { key: windowedSerde(stringSerde), value: longSerde });
    counts.late().sendTo('late-clicks', { key: stringSerde, value: stringSerde });
    const driver = new JobTestDriver(app.toJob());
    for (const [k, t] of [
      ['a', 5],
      ['a', 50],
      ['b', 99],
      ['a', 120],
      ['a', 90], // out of order, within grace
      ['a', 135], // watermark 125: window [0,100) closes at 120
      ['a', 60], // late: its window closed
    ] as const) {
      driver.pipe('clicks', k, 'x', t);
    }
    const out = driver.output('click-counts').map((o) => {
      const w = o.key as Windowed<string>;
      return `${w.key}@${w.start}=${o.value}`;
    });
    assert.deepEqual(out.sort(), ['a@0=3', 'b@0=1']);
    assert.deepEqual(
      driver.output('late-clicks').map((o) => o.key),
      ['a'],
    );
    // A restart over the same stores continues where it was: same watermark, same windows.
    driver.start();
    driver.pipe('clicks', 'a', 'x', 240);
    assert.deepEqual(
      driver
        .output('click-counts')
        .slice(2)
        .map((o) => `${(o.key as Windowed<string>).start}=${o.value}`),
      ['100=2'],
    );
  });
});

describe('more aggregations and joins', () => {
  test('reduce, aggregate, mapValues and a left stream–table join', () => {
    const app = streamsApp({ id: 'more' });
    const names = app.table('names', { key: stringSerde, value: stringSerde });
    const amounts = app.stream('amounts', { key: stringSerde, value: longSerde });
    amounts
      .groupByKey()
      .reduce((a, b) => Math.max(a, b), { name: 'max' })
      .toStream()
      .sendTo('max', { key: stringSerde, value: longSerde });
    amounts
      .groupByKey()
      .aggregate(
        () => '',
        (acc, v) => `${acc}${v},`,
        stringSerde,
        { name: 'list' },
      )
      .toStream()
      .sendTo('list', { key: stringSerde, value: stringSerde });
    amounts
      .mapValues((v) => v * 2)
      .join(names, (v, n) => `${n ?? '?'}:${v}`, { left: true })
      .sendTo('named', { value: stringSerde });
    const driver = new JobTestDriver(app.toJob());
    driver.pipe('amounts', 'a', 3, 1);
    driver.pipe('names', 'a', 'Ann', 2);
    driver.pipe('amounts', 'a', 1, 3);
    driver.pipe('amounts', 'b', 7, 4);
    driver.pipe('amounts', 'a', 5, 5);
    assert.deepEqual(
      driver.output('max').map((o) => `${o.key}=${o.value}`),
      ['a=3', 'a=3', 'b=7', 'a=5'],
    );
    assert.deepEqual(driver.output('list').at(-2)?.value, '7,');
    assert.deepEqual(driver.output('list').at(-1)?.value, '3,1,5,');
    assert.deepEqual(
      driver.output('named').map((o) => o.value),
      ['?:6', 'Ann:2', '?:14', 'Ann:10'],
    );
  });

  test('session aggregations without a merge function are refused', () => {
    const app = streamsApp({ id: 's' });
    const grouped = app.stream('x', { key: stringSerde, value: stringSerde }).groupByKey();
    assert.throws(
      () =>
        grouped.windowedBy(sessionWindows(10)).aggregate(
          () => 0,
          (a) => a + 1,
          longSerde,
        ),
      /session windows need a merge function/,
    );
  });
});

describe('event time', () => {
  test("a table's topic does not hold the watermark back", () => {
    const app = streamsApp({ id: 'tw', idleTimeoutMs: 1e9 });
    const names = app.table('names', { key: stringSerde, value: stringSerde });
    const clicks = app.stream('clicks', { key: stringSerde, value: stringSerde });
    clicks
      .join(names, (c, n) => `${n}:${c}`, { left: true })
      .sendTo('named', { value: stringSerde });
    clicks
      .groupByKey()
      .windowedBy(tumblingWindows(100))
      .count({ emit: 'final' })
      .toStream()
      .sendTo('counts', { key: windowedSerde(stringSerde), value: longSerde });
    const driver = new JobTestDriver(app.toJob());
    driver.pipe('clicks', 'a', 'x', 10);
    driver.pipe('clicks', 'a', 'x', 150);
    assert.equal(
      driver.output('counts').length,
      1,
      'window [0,100) closed without any table record',
    );
  });
});

describe('brook job describe', () => {
  test('prints operators with their topics and stores, the tasks, and co-partitioning errors', () => {
    const app = streamsApp({ id: 'pv' });
    const profiles = app.table('profiles', { key: stringSerde, value: stringSerde });
    app
      .stream('views', { key: stringSerde, value: stringSerde })
      .join(profiles, (v, p) => `${p}:${v}`, { name: 'enrich' })
      .sendTo('enriched', { value: stringSerde });
    const job = app.toJob();
    const text = describeJob(
      job,
      new Map([
        ['views', 4],
        ['profiles', 2],
      ]),
    );
    assert.match(text, /^job pv \(high-level API\)/);
    assert.match(text, /tasks: 4 \(Partition 0\.\.3\)/);
    assert.match(
      text,
      /source-\d \[source\] {2}reads views\n {4}enrich \[stream-table-join\]\n {6}send-to-\d \[send-to\] {2}writes enriched/,
    );
    assert.match(
      text,
      /profiles {2}persistent, changelog profiles \(its source topic, no copy\) {2}— table of profiles/,
    );
    assert.match(
      text,
      /error: enrich joins views \(4 partitions\) with profiles \(2 partitions\).*Fix:/,
    );
    assert.doesNotMatch(
      describeJob(
        job,
        new Map([
          ['views', 2],
          ['profiles', 2],
        ]),
      ),
      /error:/,
    );
  });

  test('brook job describe prints a job file', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const out = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/broker/helpers/brook-cli.ts',
        'job',
        'describe',
        'test/streams/dsl-jobs/profile-views.ts',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /job dsl-profile-views \(high-level API\)/);
    assert.match(out.stdout, /profiles \[table\] {2}store profiles/);
    assert.match(out.stdout, /writes dsl-profile-viewed/);
  });
});
