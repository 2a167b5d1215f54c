/**
 * Lambda vs Kappa, side by side: example 1's per-page minute counts (the activity-tracking job)
 * computed three ways over the same page-view log, with what each costs.
 *
 * 1. **Batch** (Lambda's batch layer): `brook job run … --version batch --until-end` over the
 *    log as it is when the run starts (the first part of the views); it exits when done. Its
 *    view is complete up to those end offsets and stale after them.
 * 2. **Lambda**: the batch view plus a **speed** job (`--version speed`, a streaming run whose
 *    group starts at the batch run's end offsets) over the views that arrive afterwards, the two
 *    merged at query time (counts add up per page and window: `mergeViews`).
 * 3. **Kappa**: one streaming job (`--version kappa`) from the earliest offsets over everything.
 *
 * All three are the same job module; `--version` gives each its own group, changelogs,
 * repartition topic and outputs (`page-view-counts-batch`, `-speed`, `-kappa`). The result
 * compares each view with a count made here without the streams API, and reports per way the
 * code paths, runs, wall time and records read (input plus repartition records, from the
 * groups' committed offsets).
 *
 *   node --import tsx examples/lambda-vs-kappa/run.ts [--views 2000] [--batch-share 0.7]
 *
 * starts its own broker in a temporary folder, runs the comparison, prints it and cleans up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Admin, Producer } from '../../src/client/index.js';
import { type PageView, pageViews } from '../activity-tracking/generator.js';
import { WINDOW_MS } from '../activity-tracking/job.js';
import { committed, endOffsets, readView } from './views.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'test/broker/helpers/brook-cli.ts');
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

/** A child process of the comparison. */
interface Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly err: () => string;
}

/** Every child started, so that each is stopped whatever happens. */
const children = new Set<Child>();

/** `brook <args>` from the sources, as a child process. */
function brook(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const child = { proc, exited, err: () => err };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM (a job commits, a broker flushes), SIGKILL if it is still there after `graceMs`. */
async function stop(child: Child, graceMs = 20_000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

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

/** Stops every child the comparison started (for callers that give up on it, e.g. a test). */
export async function stopComparison(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 5000)));
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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** One command: a broker of its own, the comparison, the table. */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const folder = mkdtempSync(join(tmpdir(), 'brook-lambda-kappa-'));
  const port = await freePort();
  const bootstrap = `127.0.0.1:${port}`;
  process.stdout.write(`starting a broker on ${bootstrap} (data in ${folder})\n`);
  const broker = brook([
    'start',
    '--data-dir',
    join(folder, 'data'),
    '--port',
    String(port),
    '--log-level',
    'warn',
    '--set',
    'group.initial.rebalance.delay.ms=0',
  ]);
  try {
    for (let ready = false; !ready; ) {
      if (broker.proc.exitCode !== null) throw new Error(`the broker exited: ${broker.err()}`);
      const admin = new Admin({ bootstrapServers: bootstrap });
      ready = await admin.listTopics().then(
        () => true,
        () => false,
      );
      await admin.close().catch(() => {});
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    const views = arg('--views');
    const share = arg('--batch-share');
    const result = await compareLambdaKappa({
      bootstrapServers: bootstrap,
      stateDir: join(folder, 'state'),
      ...(views === undefined ? {} : { views: Number(views) }),
      ...(share === undefined ? {} : { batchShare: Number(share) }),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`\n${formatComparison(result)}\n`);
    if (!result.lambdaEqualsKappa || result.ways.some((w) => !w.correct)) process.exitCode = 1;
  } finally {
    // Jobs before the broker they commit to.
    await Promise.all([...children].filter((c) => c !== broker).map((c) => stop(c)));
    await stop(broker);
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Ctrl-C: stop the children (the finally above, once the current step gives way). */
function onSignal(): void {
  for (const c of children) c.proc.kill('SIGTERM');
  setTimeout(() => {
    for (const c of children) c.proc.kill('SIGKILL');
    process.exit(130);
  }, 20_000).unref();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await main(process.argv.slice(2));
}
