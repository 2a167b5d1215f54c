/**
 * `brook demo` (what `npm start` runs): a broker on the embedded defaults, the example
 * generators and the three example jobs, with a list of things to try. Ctrl-C or SIGTERM stops
 * the generators, then the jobs (each commits its checkpoint), then the broker, and exits 0; the
 * next start on the same directories resumes from the saved log, offsets and state.
 *
 * The broker and the jobs are child processes started with this process's own entry point and
 * Node flags (`brook start`, `brook job run`), so they take exactly the code paths a user would.
 * They are put in their own process groups: a terminal's Ctrl-C reaches only this process, which
 * then stops them in order (jobs before the broker they commit to).
 *
 * Children must not outlive the demo when it is killed outright (kill -9, an OOM kill), which no
 * handler of ours sees and Node has no prctl(PR_SET_PDEATHSIG) for. A small watchdog process
 * (`node -e`, its own process group) is told each child's pid over a pipe from the demo; the
 * pipe's end is the kernel's word that the demo is gone. On a clean stop the demo says `done`
 * first; otherwise the watchdog stops the jobs (SIGTERM: they commit), then the broker, with
 * SIGKILL for any that does not stop within 30 s, and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { Admin } from '../client/index.js';
import { parseCount, UsageError } from './client-common.js';

interface DemoOptions {
  dataDir: string;
  stateDir: string;
  port: string;
  queryPort: string;
  rate: string;
}

/** The examples folder of this checkout (next to src/ and dist/). */
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** The example jobs: name (and job id), module, and what to query on its query port. */
const JOBS = [
  { id: 'activity-tracking', file: 'activity-tracking/job.ts', query: 'views-per-page/feed' },
  { id: 'who-viewed-profile', file: 'who-viewed-profile/job.ts', query: 'recent-viewers/member-0' },
  { id: 'job-titles', file: 'job-titles/job.ts', query: 'member-titles/member-1' },
] as const;

/** Topics of the examples: name, partitions and, for tables, compaction. */
const TOPICS: readonly { topic: string; compact?: boolean }[] = [
  { topic: 'page-views' },
  { topic: 'page-view-counts' },
  { topic: 'member-sessions' },
  { topic: 'member-profiles', compact: true },
  { topic: 'profile-views' },
  { topic: 'profile-view-notifications' },
  { topic: 'recent-viewers', compact: true },
  { topic: 'profile-updates' },
  { topic: 'standardized-titles' },
  { topic: 'title-counts', compact: true },
];
const PARTITIONS = 2;

/** The shape of `examples/generate.ts`, loaded at run time (examples are not compiled). */
interface GeneratorModule {
  runGenerators(options: {
    bootstrapServers: string;
    rate: number;
    signal: AbortSignal;
  }): Promise<void>;
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * The watchdog's program, run as `node -e "(<source>)()"`: self-contained (no imports, no
 * closure), since only its text crosses over.
 */
function watchdog(): void {
  const jobs: number[] = [];
  const brokers: number[] = [];
  let done = false;
  let pending = '';
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signal = (pids: number[], sig: NodeJS.Signals): void => {
    for (const pid of pids) {
      try {
        process.kill(-pid, sig); // the child's process group: it and anything it started
      } catch {
        try {
          process.kill(pid, sig);
        } catch {
          // already gone
        }
      }
    }
  };
  const stop = async (pids: number[]): Promise<void> => {
    signal(pids, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (pids.some(alive) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    signal(pids.filter(alive), 'SIGKILL');
  };
  process.stdin.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [what, pid] = line.split(' ');
      if (what === 'done') done = true;
      else if (what === 'job') jobs.push(Number(pid));
      else if (what === 'broker') brokers.push(Number(pid));
    }
  });
  process.stdin.on('close', () => {
    if (done) process.exit(0);
    // Jobs first: they commit to the broker on their way out.
    stop(jobs)
      .then(() => stop(brokers))
      .finally(() => process.exit(0));
  });
}

/** Starts the watchdog that stops the children if this process dies without stopping them. */
function startWatchdog(): {
  watch: (kind: 'job' | 'broker', child: ChildProcess) => void;
  release: () => void;
} {
  // Run from the sources, tsx's transform names inner functions with a `__name` helper of the
  // module; the watchdog's text gets a stand-in for it.
  const dog = spawn(
    process.execPath,
    ['-e', `var __name = (f) => f;\n(${watchdog.toString()})();`],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    },
  );
  dog.unref();
  const stdin = dog.stdin!;
  stdin.on('error', () => {}); // the watchdog gone: nothing to tell it
  (stdin as unknown as { unref?: () => void }).unref?.();
  return {
    watch: (kind, child) => {
      if (child.pid !== undefined) stdin.write(`${kind} ${child.pid}\n`);
    },
    release: () => {
      stdin.end('done\n');
    },
  };
}

/** Starts this CLI again as a child, in its own process group. */
function brook(args: string[]): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
}

/** Sends `signal` and resolves once the child exited (SIGKILL after `graceMs`). */
async function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitForBroker(bootstrap: string, broker: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (broker.exitCode !== null) throw new Error('the broker exited (see its log above)');
    const admin = new Admin({ bootstrapServers: bootstrap });
    try {
      await admin.listTopics();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      await admin.close().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function createMissingTopics(bootstrap: string): Promise<void> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPICS.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics(
        missing.map((t) => ({
          topic: t.topic,
          numPartitions: PARTITIONS,
          configs: t.compact ? { 'cleanup.policy': 'compact' } : ({} as Record<string, string>),
        })),
      );
    }
  } finally {
    await admin.close();
  }
}

function whatToTry(port: number, queryPort: number): void {
  const bs = `--bootstrap-server localhost:${port}`;
  say('');
  say('Brook demo is running: a broker, three example jobs and their generators.');
  say('Try (from another terminal; `bin/brook` is the CLI of this checkout):');
  say('');
  say(`  bin/brook consume ${bs} --topic page-view-counts --property print.key=true`);
  say(`  bin/brook consume ${bs} --topic member-sessions --property print.key=true`);
  say(`  bin/brook consume ${bs} --topic profile-view-notifications --property print.key=true`);
  say(`  bin/brook consume ${bs} --topic title-counts --from-beginning --property print.key=true`);
  say(`  bin/brook topics list ${bs}`);
  for (const job of JOBS) say(`  bin/brook groups describe ${bs} --group ${job.id}`);
  say('');
  say('Interactive queries (each job serves its stores):');
  JOBS.forEach((job, i) => {
    say(`  curl -s localhost:${queryPort + i}/stores            # ${job.id}`);
    say(`  curl -s localhost:${queryPort + i}/stores/${job.query}`);
  });
  say('');
  say('Ctrl-C stops everything cleanly; `npm start` again resumes where it stopped.');
}

async function runDemo(o: DemoOptions): Promise<void> {
  let port: number;
  let queryPort: number;
  let rate: number;
  try {
    port = parseCount(o.port, '--port') ?? 9092;
    queryPort = parseCount(o.queryPort, '--query-port') ?? 9480;
    rate = parseCount(o.rate, '--rate') ?? 20;
  } catch (error) {
    process.stderr.write(`brook demo: ${(error as Error).message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
    return;
  }
  const bootstrap = `127.0.0.1:${port}`;
  const stopping = new AbortController();
  const children: ChildProcess[] = [];
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) {
      say('brook demo: second signal, exiting without a clean shutdown');
      for (const c of children) c.kill('SIGKILL');
      process.exit(130);
    }
    stopping.abort();
  };
  // The children have their own process groups: if this process dies without its clean stop
  // (an uncaught error), take them along rather than leave them running.
  const killChildren = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killChildren);
  const dog = startWatchdog();

  const broker = brook([
    'start',
    '--data-dir',
    resolve(o.dataDir),
    '--port',
    String(port),
    '--metrics-port',
    '0',
    '--log-level',
    'warn',
    '--set',
    'group.initial.rebalance.delay.ms=0',
  ]);
  children.push(broker);
  dog.watch('broker', broker);
  const jobs: ChildProcess[] = [];
  let generators: Promise<void> | undefined;
  let failed = false;
  try {
    say(`brook demo: starting the broker on ${bootstrap} (data in ${resolve(o.dataDir)})`);
    await waitForBroker(bootstrap, broker);
    await createMissingTopics(bootstrap);
    JOBS.forEach((job, i) => {
      const child = brook([
        'job',
        'run',
        resolve(EXAMPLES, job.file),
        '--bootstrap-server',
        bootstrap,
        '--state-dir',
        resolve(o.stateDir),
        '--config',
        `query.port=${queryPort + i}`,
        '--log-level',
        'warn',
      ]);
      child.once('exit', (code, signal) => {
        if (!stopping.signal.aborted) {
          say(`brook demo: job ${job.id} exited (${code ?? signal}); the others keep running`);
        }
      });
      jobs.push(child);
      children.push(child);
      dog.watch('job', child);
    });
    const { tsImport } = await import('tsx/esm/api');
    const generate = (await tsImport(
      pathToFileURL(resolve(EXAMPLES, 'generate.ts')).href,
      import.meta.url,
    )) as GeneratorModule;
    if (!stopping.signal.aborted) {
      generators = generate.runGenerators({
        bootstrapServers: bootstrap,
        rate,
        signal: stopping.signal,
      });
      generators.catch((error: Error) => {
        if (!stopping.signal.aborted) say(`brook demo: generators stopped: ${error.message}`);
      });
      whatToTry(port, queryPort);
    }
    await new Promise<void>((done) => {
      if (stopping.signal.aborted) done();
      stopping.signal.addEventListener('abort', () => done(), { once: true });
    });
  } catch (error) {
    failed = true;
    process.stderr.write(`brook demo: ${(error as Error).message}\n`);
  } finally {
    say('brook demo: stopping the generators, the jobs, then the broker');
    stopping.abort();
    await generators?.catch(() => {});
    await Promise.all(jobs.map((j) => stopChild(j)));
    await stopChild(broker);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killChildren);
    dog.release();
    say('brook demo: stopped');
  }
  process.exitCode = failed ? 1 : 0;
}

/** The `brook demo` command. */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'run a broker, the example generators and the three example jobs (what `npm start` does)',
    )
    .option('--data-dir <dir>', "the broker's data directory", './brook-data')
    .option('--state-dir <dir>', "the jobs' state directory", './brook-state')
    .option('--port <n>', 'broker port', '9092')
    .option('--query-port <n>', "first of three ports of the jobs' query endpoints", '9480')
    .option('--rate <n>', 'page views generated per second', '20')
    .action(runDemo);
}
