/**
 * The Lambda vs Kappa comparison itself (see run.ts for what it shows): the three ways run over
 * one generated page-view log, their views checked against a count made without the streams
 * API, and the result as a table.
 */
import { join } from 'node:path';
import { Admin, Producer } from '../../src/client/index.js';
import { type PageView, pageViews } from '../activity-tracking/generator.js';
import { WINDOW_MS } from '../activity-tracking/job.js';
import { brook, type Child, ROOT, stop } from './children.js';
import { committed, endOffsets, readView } from './views.js';

const JOB = join(ROOT, 'examples/activity-tracking/job.ts');
const INPUT = 'page-views';
const repartition = (version: string) => `activity-tracking-${version}-by-page-repartition`;
const group = (version: string) => `activity-tracking-${version}`;

/** What to compare over. */
export interface ComparisonOptions {
  readonly bootstrapServers: string;
  /** Folder for the jobs' local state. */
  readonly stateDir: string;
  /** Page views in all (default 2000). */
  readonly views?: number;
  /** The part of them in the log when the batch run starts (default 0.7). */
  readonly batchShare?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

/** One way's view and costs. */
export interface Way {
  readonly name: 'batch' | 'lambda' | 'kappa';
  /** `<page>@<window start>` → views. */
  readonly view: ReadonlyMap<string, number>;
  /** What it covers: the batch run only the views present when it started. */
  readonly covers: number;
  /** Whether `view` equals the reference count over what it covers. */
  readonly correct: boolean;
  readonly codePaths: string;
  readonly runs: string;
  /** Wall time of its runs, ms (processes started from TypeScript sources: start-up included). */
  readonly wallMs: number;
  /** Input and repartition records its groups read. */
  readonly recordsRead: number;
}

/** The comparison's outcome. */
export interface Comparison {
  readonly views: number;
  readonly batchViews: number;
  readonly ways: readonly Way[];
  /** Lambda's merged view equals Kappa's. */
  readonly lambdaEqualsKappa: boolean;
}

/** Per-page counts per 1-minute window of `views`, as the job keys them. */
export function countViews(views: readonly PageView[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of views) {
    const start = Math.floor(v.time / WINDOW_MS) * WINDOW_MS;
    const key = `${v.page}@${new Date(start).toISOString()}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

/**
 * Lambda's query-time merge: counts are additive, so a page's count in a window is the batch
 * view's plus the speed view's. (Views that are not sums — sessions split at the hand-off, for
 * one — need a merge of their own: part of the cost of two code paths.)
 */
export function mergeViews(
  batch: ReadonlyMap<string, number>,
  speed: ReadonlyMap<string, number>,
): Map<string, number> {
  const out = new Map(batch);
  for (const [key, n] of speed) out.set(key, (out.get(key) ?? 0) + n);
  return out;
}

const equalViews = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

async function produce(bootstrap: string, views: readonly PageView[]): Promise<void> {
  const producer = new Producer({ bootstrapServers: bootstrap });
  try {
    await producer.send(
      INPUT,
      views.map((v) => ({ key: v.member, value: JSON.stringify(v), timestamp: v.time })),
    );
  } finally {
    await producer.close();
  }
}

/** Resolves once `group` has committed the end of its input, then of its repartition topic. */
async function caughtUp(bootstrap: string, version: string, deadlineMs = 180_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    // Upstream first: once the input is committed, the repartition topic's end is final.
    const inputEnd = await endOffsets(bootstrap, [INPUT]);
    if ((await committed(bootstrap, group(version), [INPUT])) >= inputEnd) {
      const rep = repartition(version);
      const repEnd = await endOffsets(bootstrap, [rep]);
      if ((await committed(bootstrap, group(version), [rep])) >= repEnd) return;
    }
    if (Date.now() > deadline) throw new Error(`${group(version)} did not catch up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs the three ways over one generated log and compares them. */
export async function compareLambdaKappa(o: ComparisonOptions): Promise<Comparison> {
  const say = o.log ?? (() => {});
  const bootstrap = o.bootstrapServers;
  const total = o.views ?? 2000;
  const first = Math.floor(total * (o.batchShare ?? 0.7));
  // Event times near now (the broker's time retention keeps them), a window-aligned start.
  const start = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 60 * WINDOW_MS;
  const views = pageViews(o.seed ?? 21, total, { members: 40, spacingMs: 400, start });
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const existing = new Set(await admin.listTopics());
    // One input partition: the job's watermark then sees the generator's bounded disorder and
    // no view is late in any of the three runs (see docs/examples.md, activity tracking).
    for (const topic of [INPUT, 'page-view-counts', 'member-sessions']) {
      if (!existing.has(topic)) await admin.createTopics([{ topic, numPartitions: 1 }]);
    }
    if ((await endOffsets(bootstrap, [INPUT])) > 0) {
      throw new Error(`${INPUT} is not empty: run the comparison on a broker of its own`);
    }
  } finally {
    await admin.close();
  }
  const common = [
    '--bootstrap-server',
    bootstrap,
    '--state-dir',
    o.stateDir,
    '--log-level',
    'warn',
  ];
  const run = (version: string, extra: string[] = []) =>
    brook([
      'job',
      'run',
      JOB,
      '--version',
      version,
      ...common,
      '--config',
      'task.commit.ms=300',
      ...extra,
    ]);

  say(`producing ${first} of ${total} page views (the log the batch run sees)`);
  await produce(bootstrap, views.slice(0, first));

  // Kappa: one streaming job from the earliest offsets, running throughout.
  const kappaStart = Date.now();
  const kappa = run('kappa', ['--reset', 'earliest']);

  // Lambda's batch layer: a bounded run over the log as it is now.
  say('batch: brook job run … --version batch --until-end');
  const batchStart = Date.now();
  const batch = run('batch', ['--until-end']);
  const batchCode = await batch.exited;
  const batchMs = Date.now() - batchStart;
  if (batchCode !== 0) {
    await stop(kappa);
    throw new Error(`the batch run failed (${batchCode}): ${batch.err()}`);
  }

  // Lambda's speed layer: a streaming job whose group starts where the batch run ended (the
  // end offsets it read at its start: nothing was produced since).
  const handOff = new Admin({ bootstrapServers: bootstrap });
  try {
    const tp = { topic: INPUT, partition: 0 };
    const [end] = (await handOff.listOffsets([tp], -1)).values();
    await handOff.resetOffsets(
      group('speed'),
      { partitions: [tp] },
      { to: 'offset', offset: end ?? 0 },
    );
  } finally {
    await handOff.close();
  }
  say('speed: brook job run … --version speed, from the batch run’s end offsets');
  let speed: Child;
  try {
    speed = run('speed');
  } catch (error) {
    await stop(kappa);
    throw error;
  }
  say(`producing the other ${total - first} page views (arriving after the batch run)`);
  const restStart = Date.now();
  await produce(bootstrap, views.slice(first));
  try {
    await caughtUp(bootstrap, 'speed');
    const speedMs = Date.now() - restStart;
    await caughtUp(bootstrap, 'kappa');
    const kappaMs = Date.now() - kappaStart;
    say('speed and kappa caught up; reading the views');

    const batchView = await readView(bootstrap, 'page-view-counts-batch');
    const speedView = await readView(bootstrap, 'page-view-counts-speed');
    const kappaView = await readView(bootstrap, 'page-view-counts-kappa');
    const lambdaView = mergeViews(batchView, speedView);
    const all = countViews(views);
    const read = async (version: string, from = 0) =>
      (await committed(bootstrap, group(version), [INPUT, repartition(version)])) - from;
    const batchRead = await read('batch');
    const ways: Way[] = [
      {
        name: 'batch',
        view: batchView,
        covers: first,
        correct: equalViews(batchView, countViews(views.slice(0, first))),
        codePaths: 'the job, bounded (--until-end)',
        runs: '1 bounded run, repeated to refresh (each re-reads the whole log)',
        wallMs: batchMs,
        recordsRead: batchRead,
      },
      {
        name: 'lambda',
        view: lambdaView,
        covers: total,
        correct: equalViews(lambdaView, all),
        codePaths: 'the job twice (bounded + streaming), the offset hand-off, a query-time merge',
        runs: 'the batch runs + 1 streaming job',
        wallMs: batchMs + speedMs,
        recordsRead: batchRead + (await read('speed', first)),
      },
      {
        name: 'kappa',
        view: kappaView,
        covers: total,
        correct: equalViews(kappaView, all),
        codePaths: 'the job, streaming (reprocessing: the same code from the earliest offsets)',
        runs: '1 streaming job (+1 beside it per code change: brook job reprocess)',
        wallMs: kappaMs,
        recordsRead: await read('kappa'),
      },
    ];
    return {
      views: total,
      batchViews: first,
      ways,
      lambdaEqualsKappa: equalViews(lambdaView, kappaView),
    };
  } finally {
    await Promise.all([kappa, speed].map((job) => stop(job)));
  }
}

/** The comparison as a table. */
export function formatComparison(c: Comparison): string {
  const lines = [
    `${c.views} page views; the batch run saw the first ${c.batchViews}.`,
    '',
    '| way | covers | equals the reference | windows | wall time | records read | code paths | runs |',
    '| --- | ---: | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const w of c.ways) {
    lines.push(
      `| ${w.name} | ${w.covers} | ${w.correct ? 'yes' : 'NO'} | ${w.view.size} | ${(w.wallMs / 1000).toFixed(1)} s | ${w.recordsRead} | ${w.codePaths} | ${w.runs} |`,
    );
  }
  lines.push(
    '',
    `Lambda (batch + speed, merged at query time) equals Kappa: ${c.lambdaEqualsKappa ? 'yes' : 'NO'}`,
  );
  return lines.join('\n');
}
