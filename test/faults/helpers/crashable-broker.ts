/**
 * A broker process that a scenario kills (SIGKILL) and restarts on the same data directory and
 * port, so that clients configured with one bootstrap address reconnect to it. It keeps every
 * run's log lines and samples the resident memory of each run.
 */
import { readFileSync, rmSync } from 'node:fs';
import {
  type BrokerProcess,
  type LogLine,
  spawnBrook,
  startBroker,
  tempDataDir,
} from '../../broker/helpers/broker-process.js';

/** Resident memory of a process in bytes (VmRSS), or undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface CrashableBrokerOptions {
  /** Data directory (kept); a temporary one (removed by cleanup) when omitted. */
  dataDir?: string;
  /** Extra `brook start` arguments for every run (e.g. `--set k=v`). */
  args?: string[];
  /** Milliseconds between memory samples. */
  sampleMs?: number;
}

export class CrashableBroker {
  readonly dataDir: string;
  readonly #ownDir: boolean;
  readonly #args: string[];
  readonly #sampleMs: number;
  #current: BrokerProcess | undefined;
  #sampler: NodeJS.Timeout | undefined;
  /** The port every run listens on (chosen by the first run). */
  port = 0;
  /** Runs started, SIGKILLs sent, and exits nobody asked for (crashes). */
  starts = 0;
  kills = 0;
  unexpectedExits = 0;
  /** Largest resident memory seen across runs, in bytes. */
  peakRss = 0;
  /** Milliseconds from spawn to "ready", per run. */
  readonly startMs: number[] = [];
  /** Log lines of every run, in order, each tagged with its run number. */
  readonly lines: (LogLine & { run: number })[] = [];

  constructor(options: CrashableBrokerOptions = {}) {
    this.#ownDir = options.dataDir === undefined;
    this.dataDir = options.dataDir ?? tempDataDir();
    this.#args = options.args ?? [];
    this.#sampleMs = options.sampleMs ?? 100;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#current !== undefined;
  }

  /** The current run's pid (throws when not running). */
  get pid(): number {
    const pid = this.#current?.proc.pid;
    if (pid === undefined) throw new Error('broker is not running');
    return pid;
  }

  /** Starts a run on the data dir (and the port of the first run) and waits for "ready". */
  async start(): Promise<void> {
    if (this.#current) throw new Error('broker already running');
    const args = [...this.#args];
    if (this.port !== 0) args.push('--port', String(this.port));
    const run = this.starts + 1;
    const spawned = performance.now();
    const b = await startBroker({ dataDir: this.dataDir, args, timeoutMs: 60000 });
    this.startMs.push(Math.round(performance.now() - spawned));
    this.starts = run;
    this.port = b.port;
    this.#current = b;
    // Lines logged before ready were collected by the helper; later ones are picked up by sampling.
    let seen = 0;
    const collect = () => {
      for (; seen < b.lines.length; seen++) this.lines.push({ ...b.lines[seen], run });
    };
    collect();
    const pid = b.proc.pid ?? 0;
    this.#sampler = setInterval(() => {
      collect();
      const rss = residentBytes(pid);
      if (rss !== undefined && rss > this.peakRss) this.peakRss = rss;
    }, this.#sampleMs);
    b.proc.once('exit', (code, signal) => {
      collect();
      if (this.#current === b) {
        // Nobody asked this run to stop: the broker died on its own.
        this.unexpectedExits++;
        this.#current = undefined;
        clearInterval(this.#sampler);
        console.log(
          `[faults] broker run ${run} exited unexpectedly (code ${code}, ${signal}): ${b.stderr()}`,
        );
      }
    });
  }

  async #end(signal: NodeJS.Signals): Promise<number | null> {
    const b = this.#current;
    if (!b) return null;
    this.#current = undefined;
    clearInterval(this.#sampler);
    const rss = residentBytes(b.proc.pid ?? 0);
    if (rss !== undefined && rss > this.peakRss) this.peakRss = rss;
    return b.stop(signal);
  }

  /**
   * Starts a run and SIGKILLs it `afterMs` later, whether or not it became ready: a crash during
   * start-up (recovery, coordinator replay). Needs a port already chosen by an earlier run.
   * Returns whether the run had become ready.
   */
  async killDuringStart(afterMs: number): Promise<boolean> {
    if (this.#current) throw new Error('broker already running');
    if (this.port === 0) throw new Error('killDuringStart needs an earlier run to pick the port');
    const proc = spawnBrook([
      'start',
      '--data-dir',
      this.dataDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--metrics-port',
      '0',
      ...this.#args,
    ]);
    let ready = false;
    proc.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('"event":"ready"')) ready = true;
    });
    proc.stderr?.resume();
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await Promise.race([new Promise((r) => setTimeout(r, afterMs)), exited]);
    proc.kill('SIGKILL');
    await exited;
    this.kills++;
    return ready;
  }

  /** SIGKILLs the current run and waits for it to be gone. */
  async kill(): Promise<void> {
    if (!this.#current) return;
    this.kills++;
    await this.#end('SIGKILL');
  }

  /** Stops the current run with SIGTERM (a clean shutdown) and returns its exit code. */
  async stop(): Promise<number | null> {
    return this.#end('SIGTERM');
  }

  /** Log lines of run `run` (default: the latest run). */
  linesOf(run = this.starts): (LogLine & { run: number })[] {
    return this.lines.filter((l) => l.run === run);
  }

  /** Stops any run and removes the data dir if this helper made it. */
  async cleanup(): Promise<void> {
    const b = this.#current;
    this.#current = undefined;
    clearInterval(this.#sampler);
    if (b) await b.cleanup();
    if (this.#ownDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
