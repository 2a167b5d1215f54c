/**
 * Harness of the stream runtime tests: a real broker, job containers as child processes
 * (`brook job run` from the sources), topic reading helpers and a deterministic word corpus.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { type BrokerProcess, startBroker } from '../broker/helpers/broker-process.js';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'test/broker/helpers/brook-cli.ts');

/** A broker tuned for group tests: no initial rebalance delay, short session timeouts allowed. */
export async function startStreamsBroker(): Promise<{ broker: BrokerProcess; bootstrap: string }> {
  const broker = await startBroker({
    args: [
      '--set',
      'group.initial.rebalance.delay.ms=0',
      '--set',
      'group.min.session.timeout.ms=500',
    ],
  });
  return { broker, bootstrap: `127.0.0.1:${broker.port}` };
}

/** A temporary folder, removed by `remove`. */
export function tempFolder(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** What {@link wordCountFixture} gives a test file. */
export interface WordCountFixture {
  /** The broker's address (set once the `before` hook has run). */
  readonly bootstrap: string;
  /** A temporary folder removed after the file's tests. */
  folder(prefix: string): { path: string; remove: () => void };
  /** Starts a container of examples/word-count.ts on `stateDir`, killed after the file's tests. */
  run(stateDir: string, extra?: string[]): JobProcess;
}

/**
 * The word-count harness of a test file: `before` starts a broker and creates `words` and
 * `word-counts` with `partitions` partitions; `after` SIGKILLs every container started through
 * `run`, stops the broker and removes every folder. `configs` are the containers' `--config`s.
 */
export function wordCountFixture(
  partitions: number,
  configs: Record<string, string>,
): WordCountFixture {
  let broker: BrokerProcess | undefined;
  let bootstrap = '';
  const folders: { remove: () => void }[] = [];
  const jobs: JobProcess[] = [];
  before(async () => {
    ({ broker, bootstrap } = await startStreamsBroker());
    await createTopics(bootstrap, ['words', 'word-counts'], partitions);
  });
  after(async () => {
    for (const job of jobs) await job.kill('SIGKILL');
    await broker?.cleanup();
    for (const f of folders) f.remove();
  });
  const configArgs = Object.entries(configs).flatMap(([k, v]) => ['--config', `${k}=${v}`]);
  return {
    get bootstrap() {
      return bootstrap;
    },
    folder(prefix) {
      const f = tempFolder(prefix);
      folders.push(f);
      return f;
    },
    run(stateDir, extra = []) {
      const job = startJob('examples/word-count.ts', [
        '--bootstrap-server',
        bootstrap,
        '--state-dir',
        stateDir,
        ...configArgs,
        ...extra,
      ]);
      jobs.push(job);
      return job;
    },
  };
}

/** A job container running as a child process. */
export interface JobProcess {
  readonly proc: ChildProcess;
  /** Every JSON log line so far. */
  readonly lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string | null>;
  /** Whether a line with `event === name` was logged. */
  saw(event: string): boolean;
  kill(signal: NodeJS.Signals): Promise<number | string | null>;
}

/** Starts `brook job run <file>` with `args`. */
export function startJob(file: string, args: string[]): JobProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', cli, 'job', 'run', file, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => {
    pending += d.toString();
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ msg: text });
      }
    }
  });
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | string | null>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return {
    proc,
    lines,
    stderr: () => stderr,
    exited,
    saw: (event) => lines.some((l) => l.event === event),
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The vocabulary of the corpus: 60 words. */
const VOCABULARY = Array.from({ length: 60 }, (_, i) => `w${i.toString(36)}${'x'.repeat(i % 4)}`);

/** `count` lines of 1..8 words each, from a fixed seed, and the word counts they make. */
export function corpus(count: number, seed = 7): { lines: string[]; counts: Map<string, number> } {
  let state = seed;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 8;
  };
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (let l = 0; l < count; l++) {
    const words: string[] = [];
    const n = 1 + (next() % 8);
    for (let k = 0; k < n; k++) {
      const word = VOCABULARY[next() % VOCABULARY.length]!;
      words.push(word);
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    lines.push(words.join(' '));
  }
  return { lines, counts };
}

/** Produces `lines` to `topic`, keyed `line-<n>` so they spread over partitions. */
export async function produceLines(
  bootstrap: string,
  topic: string,
  lines: readonly string[],
  firstIndex = 0,
): Promise<void> {
  const producer = new Producer({ bootstrapServers: bootstrap });
  try {
    await producer.send(
      topic,
      lines.map((value, i) => ({ key: `line-${firstIndex + i}`, value })),
    );
  } finally {
    await producer.close();
  }
}

/** Creates topics with `partitions` partitions each. */
export async function createTopics(
  bootstrap: string,
  topics: readonly string[],
  partitions: number,
): Promise<void> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    await admin.createTopics(topics.map((topic) => ({ topic, numPartitions: partitions })));
  } finally {
    await admin.close();
  }
}

/** Every record of every partition of `topic`, read up to the end offsets as of the call. */
export async function readTopic(
  bootstrap: string,
  topic: string,
): Promise<{ key: Buffer | null; value: Buffer | null; partition: number; offset: number }[]> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  let ends: Map<string, number>;
  let partitions: number;
  try {
    const [info] = await admin.describeTopics([topic]);
    partitions = info!.partitions.length;
    const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    ends = await admin.listOffsets(tps, -1);
  } finally {
    await admin.close();
  }
  const out: { key: Buffer | null; value: Buffer | null; partition: number; offset: number }[] = [];
  const consumer = new Consumer({ bootstrapServers: bootstrap, fetchMaxWaitMs: 50 });
  try {
    const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    consumer.assign(tps);
    for (const tp of tps) consumer.seek(tp, 0);
    const done = new Set<number>();
    for (const tp of tps) if (endFor(ends, topic, tp.partition) === 0) done.add(tp.partition);
    const deadline = Date.now() + 30_000;
    while (done.size < partitions) {
      if (Date.now() > deadline) throw new Error(`reading ${topic} timed out`);
      const batch = await consumer.poll(200);
      if (batch === undefined) continue;
      const end = endFor(ends, topic, batch.partition);
      for (const r of batch) {
        if (r.offset >= end) break;
        out.push({
          key: r.key === null ? null : Buffer.from(r.key),
          value: r.value === null ? null : Buffer.from(r.value),
          partition: r.partition,
          offset: r.offset,
        });
      }
      if (batch.nextOffset >= end) done.add(batch.partition);
    }
  } finally {
    await consumer.close();
  }
  return out;
}

function endFor(ends: Map<string, number>, topic: string, partition: number): number {
  return ends.get(`${topic}\0${partition}`) ?? 0;
}

/** The last value per key of a topic, keys and values as UTF-8 (values decoded by `value`). */
export async function lastValues<V>(
  bootstrap: string,
  topic: string,
  value: (bytes: Buffer) => V,
): Promise<Map<string, V>> {
  const records = await readTopic(bootstrap, topic);
  records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const out = new Map<string, V>();
  for (const r of records) {
    if (r.key === null) continue;
    const key = r.key.toString('utf8');
    if (r.value === null) out.delete(key);
    else out.set(key, value(r.value));
  }
  return out;
}

/**
 * Whether the group has committed, for every partition of each topic, the end offset. Topics are
 * checked in order, each end offset read before the commits: list the stages' topics upstream
 * first, so that a caught-up upstream stage has produced all it will before downstream is read.
 */
export async function caughtUp(
  bootstrap: string,
  group: string,
  topics: readonly string[],
): Promise<boolean> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    for (const topic of topics) {
      const [info] = await admin.describeTopics([topic]);
      const tps = info!.partitions.map((_, partition) => ({ topic, partition }));
      const ends = await admin.listOffsets(tps, -1);
      const committed = await admin.fetchOffsets(group, tps);
      const at = new Map(committed.map((c) => [c.partition, c.offset]));
      for (const tp of tps) {
        const end = endFor(ends, topic, tp.partition);
        if (end > 0 && (at.get(tp.partition) ?? -1) < end) return false;
      }
    }
    return true;
  } finally {
    await admin.close();
  }
}
