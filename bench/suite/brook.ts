/**
 * The Brook broker the suite measures: one `brook start` child process on 127.0.0.1 with a
 * temporary data directory (the test helper's), topics created and deleted through Brook's admin
 * client, and the broker's resident memory read from /proc while it serves a load.
 */
import { readFileSync } from 'node:fs';
import { Admin } from '../../src/client/index.js';
import { startBroker } from '../../test/broker/helpers/broker-process.js';
import { buildBroker, startCompiledBroker } from './compiled-broker.js';

/** The broker settings of every Brook figure (besides each topic's own config). */
export const BROKER_SETTINGS: readonly string[] = [
  // A new group would otherwise wait Kafka's 3 s before its first rebalance.
  'group.initial.rebalance.delay.ms=0',
];

/** The default flush policy, as docs/storage.md states it. */
export const DEFAULT_FLUSH =
  'flush.policy=interval (fdatasync each partition every flush.ms=1000 ms)';

/** The resident set size of process `pid` in MB (10^6 bytes), or null when it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)\s+kB/)?.[1];
    return kb === undefined ? null : (Number(kb) * 1024) / 1e6;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; `stop()` gives the peak seen. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = rssMb(pid) ?? 0;
  const timer = setInterval(() => {
    const now = rssMb(pid);
    if (now !== null && now > peak) peak = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const now = rssMb(pid);
      if (now !== null && now > peak) peak = now;
      return peak;
    },
  };
}

/**
 * How the broker runs: 'compiled' (src/ compiled to JavaScript, as installed) or 'tsx' (the
 * TypeScript sources through tsx, as the tests run it: quicker to start, more memory).
 */
export type BrokerRuntime = 'compiled' | 'tsx';

/** What the results say about the broker's runtime. */
export function describeRuntime(runtime: BrokerRuntime, build: string | null): string {
  if (runtime === 'tsx' && build !== null) return `TypeScript sources through tsx: ${build}`;
  return runtime === 'compiled'
    ? `compiled JavaScript (src/ built into .tmp/bench-broker; ${build ?? 'not built'})`
    : 'TypeScript sources through tsx (its loader adds ~60 MB RSS; the RSS goal needs the compiled runtime)';
}

interface BrokerHandle {
  readonly proc: { readonly pid?: number };
  readonly port: number;
  cleanup(): Promise<void>;
}

/** A running Brook broker for the suite. */
export class BrookBroker {
  readonly bootstrap: string;
  readonly admin: Admin;

  private constructor(
    private readonly handle: BrokerHandle,
    readonly runtime: BrokerRuntime,
    /** For the compiled runtime: how the build went. */
    readonly build: string | null,
  ) {
    this.bootstrap = `127.0.0.1:${handle.port}`;
    this.admin = new Admin({ bootstrapServers: this.bootstrap });
  }

  /** Starts `brook start` with {@link BROKER_SETTINGS}, compiled first for 'compiled'. */
  static async start(runtime: BrokerRuntime): Promise<BrookBroker> {
    let build: string | null = null;
    if (runtime === 'compiled') {
      try {
        build = await buildBroker();
        return new BrookBroker(await startCompiledBroker(BROKER_SETTINGS), runtime, build);
      } catch (e) {
        // E.g. an installed package without TypeScript: measure the sources rather than nothing.
        build = `compiling failed (${(e as Error).message.slice(0, 200)}), so the sources ran through tsx`;
      }
    }
    const args = BROKER_SETTINGS.flatMap((s) => ['--set', s]);
    return new BrookBroker(await startBroker({ args, timeoutMs: 60000 }), 'tsx', build);
  }

  get port(): number {
    return this.handle.port;
  }

  /** The broker process id (its RSS is read from /proc/<pid>/status). */
  get pid(): number {
    return this.handle.proc.pid as number;
  }

  async createTopic(
    topic: string,
    numPartitions: number,
    configs: Record<string, string> = {},
  ): Promise<void> {
    await this.admin.createTopics([{ topic, numPartitions, replicationFactor: 1, configs }]);
  }

  /** Deletes topics so that the data directory does not grow through the run. */
  async deleteTopics(topics: string[]): Promise<void> {
    if (topics.length > 0) await this.admin.deleteTopics(topics);
  }

  /** Stops the broker and removes its data directory. */
  async stop(): Promise<void> {
    await this.admin.close().catch(() => undefined);
    await this.handle.cleanup();
  }
}
