/**
 * librdkafka's mock cluster (../shared/tools/kafka-mock/) as an independent broker for client
 * tests: built once into .tmp/kafka-mock, started per test file on random 127.0.0.1 ports.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;
const buildDir = join(root, '.tmp/kafka-mock');
const binary = join(buildDir, 'mockcluster');
const tools = join(root, '../shared/tools/kafka-mock');

/** A running mock cluster. */
export interface MockCluster {
  bootstrap: string;
  /** Creates a topic (the mock has no CreateTopics API) and waits until it is in the output. */
  createTopic(name: string, partitions: number, replicationFactor?: number): Promise<void>;
  stop(): Promise<void>;
}

function build(): void {
  if (existsSync(binary)) return;
  execFileSync('bash', [join(tools, 'build.sh'), buildDir], { stdio: 'ignore' });
}

/** Starts a mock cluster of `brokers` brokers. */
export async function startMockCluster(brokers = 3): Promise<MockCluster> {
  build();
  const dir = mkdtempSync(join(tmpdir(), 'brook-mock-'));
  const ctl = join(dir, 'mock.ctl');
  const proc: ChildProcess = spawn(binary, [String(brokers), ctl], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const bootstrap = await waitFor(
    () => /BOOTSTRAP=(\S+)/.exec(out)?.[1],
    10000,
    'mock cluster start',
  );
  await waitFor(() => existsSync(ctl) || undefined, 5000, 'mock control fifo');
  return {
    bootstrap,
    async createTopic(name, partitions, rf = 1) {
      writeFileSync(ctl, `create ${name} ${partitions} ${rf}\n`);
      await waitFor(
        () => (out.includes(`create ${name} `) ? true : undefined),
        5000,
        `topic ${name}`,
      );
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
