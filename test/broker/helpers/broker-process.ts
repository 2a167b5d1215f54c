import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;
const cli = join(root, 'test/broker/helpers/brook-cli.ts');

/**
 * Broker settings for tests of consumer groups with real clients: no initial rebalance delay
 * (Kafka's 3 s would be paid by every new group), a minimum session short enough for clients'
 * short test sessions, and few `__consumer_offsets` partitions (each one is a log to open).
 */
export const GROUP_TEST_ARGS: readonly string[] = [
  '--set',
  'group.initial.rebalance.delay.ms=0',
  '--set',
  'group.min.session.timeout.ms=1000',
  '--set',
  'offsets.topic.num.partitions=3',
];

/** A JSON log line of the broker. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A broker running as a child process (`brook start` from the TypeScript sources). */
export interface BrokerProcess {
  proc: ChildProcess;
  port: number;
  dataDir: string;
  metricsPort: number | null;
  /** Every stdout line parsed so far (non-JSON lines are kept as { msg }). */
  lines: LogLine[];
  stderr: () => string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops the broker (if running) and removes the data directory if this helper made it. */
  cleanup(): Promise<void>;
}

/** Makes a temporary data directory. */
export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'brook-broker-'));
}

/** Spawns `brook start` with the given arguments (the process may exit instead of becoming ready). */
export function spawnBrook(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('BROOK_')),
  );
  return spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: root,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a child to exit; resolves with its exit code and output. */
export function waitExit(
  proc: ChildProcess,
  timeoutMs = 20000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(t);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
}

/**
 * Starts a broker on 127.0.0.1 with a free port and waits for its "ready" line.
 * Metrics are off unless `--metrics-port` is passed in `args`.
 */
export async function startBroker(
  opts: { dataDir?: string; args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<BrokerProcess> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? tempDataDir();
  const args = ['start', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0'];
  if (!(opts.args ?? []).includes('--metrics-port')) args.push('--metrics-port', '0');
  const proc = spawnBrook([...args, ...(opts.args ?? [])], opts.env);
  const lines: LogLine[] = [];
  let stderr = '';
  let pending = '';
  let exited = false;
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const ready = new Promise<LogLine>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`broker not ready within ${opts.timeoutMs ?? 60000} ms: ${stderr}`)),
      opts.timeoutMs ?? 60000,
    );
    proc.stdout?.on('data', (d: Buffer) => {
      pending += d.toString();
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        lines.push(line);
        if (line.event === 'ready') {
          clearTimeout(t);
          resolve(line);
        }
        nl = pending.indexOf('\n');
      }
    });
    void exit.then((code) => {
      clearTimeout(t);
      reject(new Error(`broker exited with ${code} before ready: ${stderr}`));
    });
  });
  let readyLine: LogLine;
  try {
    readyLine = await ready;
  } catch (e) {
    if (!exited) proc.kill('SIGKILL');
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!exited) proc.kill(signal);
    return exit;
  };
  return {
    proc,
    port: readyLine.port as number,
    metricsPort: (readyLine.metricsPort as number | null) ?? null,
    dataDir,
    lines,
    stderr: () => stderr,
    stop,
    async cleanup() {
      if (!exited) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
        await exit;
        clearTimeout(t);
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `pred` until it holds or `timeoutMs` passes. */
export async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
