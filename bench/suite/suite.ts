/**
 * Runs the selected cases one after another, printing each figure as a table row the moment it
 * is measured (with a progress line on stderr), then writes `<stem>.json` and the markdown report
 * with its charts. Everything started (brokers, peers, temp dirs) is stopped and removed at the
 * end, also when a case fails or the run is interrupted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROKER_SETTINGS, type BrokerRuntime, BrookBroker, describeRuntime } from './brook.js';
import { CASES } from './cases/index.js';
import { type BenchCase, type CaseContext, FULL, QUICK } from './context.js';
import { consoleRow, num } from './format.js';
import { judgeGoals } from './goals.js';
import { loadAverage, machineInfo, versions } from './machine.js';
import { runHeader, writeReport } from './report.js';
import { summarize } from './stats.js';
import {
  type CaseResult,
  type Figure,
  RESULT_SCHEMA,
  type Skip,
  type SuiteResult,
} from './types.js';

/** What to run and where to write. */
export interface SuiteOptions {
  readonly quick: boolean;
  /** Case names to run; all when empty. */
  readonly cases: readonly string[];
  readonly outDir: string;
  readonly note: string | null;
  readonly argv: readonly string[];
  /** How the broker runs; default: compiled for full runs, tsx for --quick. */
  readonly brokerRuntime?: BrokerRuntime;
}

/** The files a run wrote. */
export interface SuiteOutput {
  readonly result: SuiteResult;
  readonly jsonPath: string;
  readonly reportPath: string;
}

/** The case named `name`, or an error listing the names. */
export function selectCases(names: readonly string[]): BenchCase[] {
  if (names.length === 0) return [...CASES];
  return names.map((n) => {
    const c = CASES.find((x) => x.name === n);
    if (!c) throw new Error(`unknown case "${n}"; cases: ${CASES.map((x) => x.name).join(', ')}`);
    return c;
  });
}

/** Progress on stderr: one rewritten line on a terminal, plain lines otherwise. */
class Progress {
  readonly #tty = process.stderr.isTTY === true;
  #shown = false;

  show(text: string): void {
    if (this.#tty) {
      process.stderr.write(`\r\x1b[K» ${text.slice(0, (process.stderr.columns ?? 120) - 3)}`);
      this.#shown = true;
    } else process.stderr.write(`» ${text}\n`);
  }

  /** Prints a table line on stdout, clearing the progress line first. */
  print(line: string): void {
    if (this.#shown) {
      process.stderr.write('\r\x1b[K');
      this.#shown = false;
    }
    process.stdout.write(`${line}\n`);
  }
}

/** Runs the suite. */
export async function runSuite(options: SuiteOptions): Promise<SuiteOutput> {
  const selected = selectCases(options.cases);
  const sizes = options.quick ? QUICK : FULL;
  const started = new Date();
  const clock = performance.now();
  const machine = await machineInfo();
  const versionTable = await versions();
  const progress = new Progress();
  const tempDirs: string[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  let broker: Promise<BrookBroker> | undefined;
  const runtime: BrokerRuntime = options.brokerRuntime ?? (options.quick ? 'tsx' : 'compiled');
  let runtimeText = describeRuntime(runtime, null);

  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse())
      await Promise.resolve(fn()).catch(() => undefined);
    if (broker) {
      const b = broker;
      broker = undefined;
      await (await b.catch(() => undefined))?.stop();
    }
    for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    progress.print(`\n${signal}: stopping everything the benchmark started`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A client library failing in the background (a peer's socket reset, say) must not end the run
  // with servers left behind: the error is recorded against the case that was running.
  let backgroundErrors: string[] = [];
  const onBackground = (e: unknown): void => {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    backgroundErrors.push(message);
    progress.print(`  background error (recorded, the run goes on): ${message}`);
  };
  process.on('unhandledRejection', onBackground);
  process.on('uncaughtException', onBackground);

  const header: SuiteResult = {
    schema: RESULT_SCHEMA,
    mode: options.quick ? 'quick' : 'full',
    startedAt: started.toISOString(),
    finishedAt: '',
    argv: options.argv,
    note: options.note,
    machine,
    versions: versionTable,
    broker: { runtime: runtimeText, settings: BROKER_SETTINGS },
    cases: [],
    goals: [],
  };
  progress.print(`# Brook benchmark suite, ${header.mode} run`);
  for (const line of runHeader(header).slice(1, -1)) progress.print(line.replace(/\*\*/g, ''));

  const results: CaseResult[] = [];
  try {
    for (const [i, c] of selected.entries()) {
      const figures: Figure[] = [];
      const skips: Skip[] = [];
      backgroundErrors = [];
      const t0 = performance.now();
      progress.print(`\n## [${i + 1}/${selected.length}] ${c.title} (--case ${c.name})`);
      const ctx: CaseContext = {
        quick: options.quick,
        sizes,
        brook: () => {
          if (broker === undefined) {
            progress.show(`starting the Brook broker (${runtime})`);
            broker = BrookBroker.start(runtime);
            void broker.then(
              (b) => {
                runtimeText = describeRuntime(b.runtime, b.build);
                progress.print(`  (Brook broker: ${runtimeText}, pid ${b.pid}, ${b.bootstrap})`);
              },
              () => undefined,
            );
          }
          return broker;
        },
        figure(input) {
          const s = summarize(input.runs);
          const f: Figure = {
            name: input.name,
            system: input.system,
            unit: input.unit,
            ...s,
            runs: [...input.runs],
            ...(input.recordSize !== undefined && input.unit === 'records/s'
              ? { mbPerSec: (s.median * input.recordSize) / 1e6 }
              : {}),
            ...(input.brokerRssMb !== undefined ? { brokerRssMb: input.brokerRssMb } : {}),
            ...(input.durability !== undefined ? { durability: input.durability } : {}),
            params: input.params,
            ...(input.note !== undefined ? { note: input.note } : {}),
          };
          figures.push(f);
          progress.print(consoleRow(f));
          return f;
        },
        skip(name, reason) {
          skips.push({ name, reason });
          progress.print(`  skipped: ${name}: ${reason}`);
        },
        progress(text) {
          const secs = ((performance.now() - clock) / 1000).toFixed(0);
          progress.show(`[${i + 1}/${selected.length} ${c.name}, ${secs} s] ${text}`);
        },
        tempDir(prefix) {
          const d = mkdtempSync(join(tmpdir(), prefix));
          tempDirs.push(d);
          return d;
        },
        onCleanup(fn) {
          cleanups.push(fn);
        },
      };
      let status: CaseResult['status'];
      let reason: string | undefined;
      try {
        await c.run(ctx);
        if (figures.length === 0 && skips.length === 0) {
          status = 'failed';
          reason = 'the case recorded no figure';
        } else if (figures.length === 0) {
          status = 'skipped';
          reason = skips.map((s) => `${s.name}: ${s.reason}`).join('; ');
        } else status = skips.length > 0 ? 'partial' : 'ok';
      } catch (e) {
        status = 'failed';
        reason = (e as Error).stack ?? String(e);
        progress.print(`  FAILED: ${(e as Error).message}`);
      }
      for (const reason of backgroundErrors) skips.push({ name: 'background error', reason });
      if (status === 'ok' && backgroundErrors.length > 0) status = 'partial';
      const seconds = (performance.now() - t0) / 1000;
      results.push({
        name: c.name,
        title: c.title,
        status,
        ...(reason ? { reason } : {}),
        seconds,
        figures,
        skips,
      });
    }
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('unhandledRejection', onBackground);
    process.off('uncaughtException', onBackground);
  }

  const result: SuiteResult = {
    ...header,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadAverageEnd: loadAverage() },
    broker: { runtime: runtimeText, settings: BROKER_SETTINGS },
    cases: results,
    goals: judgeGoals(results),
  };
  progress.print('\n## Goals (issue 10; reported, not asserted)');
  for (const g of result.goals) {
    const verdict = g.met === null ? 'n/a' : g.met ? 'met' : 'NOT met';
    progress.print(
      `  ${g.goal}: ${g.actual ?? '—'} (target ${g.target}) → ${verdict}; ${g.detail}`,
    );
  }
  mkdirSync(options.outDir, { recursive: true });
  const stem = result.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const jsonPath = join(options.outDir, `${stem}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  const reportPath = writeReport(result, options.outDir, stem);
  progress.print(
    `\nwrote ${jsonPath} and ${reportPath} in ${num((performance.now() - clock) / 1000)} s (load average now ${result.machine.loadAverageEnd.join(' ')})`,
  );
  return { result, jsonPath, reportPath };
}
