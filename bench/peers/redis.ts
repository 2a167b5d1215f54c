/**
 * Redis Streams as a benchmark peer: a private `redis-server` on 127.0.0.1 with AOF on, loaded
 * with pipelined XADD through ioredis and read back with XREADGROUP in large batches.
 *
 * Durability: `appendonly yes` with `appendfsync everysec` (the setting Redis recommends, and the
 * closest to Kafka's and Brook's default of leaving fsync to the OS), or `appendfsync always`
 * for the case where every acknowledged write is fsynced (Redis fsyncs the AOF once per event
 * loop turn before replying, so a pipeline shares one fsync). RDB snapshots are off (`save ""`)
 * so a background save does not fork in the middle of a measurement.
 */
import { spawnSync } from 'node:child_process';
import { Redis, type RedisOptions } from 'ioredis';
import { ServerPeer } from './common.js';
import { type ConnectionGuard, usingClient } from './connection-guard.js';
import {
  executableNote,
  findExecutable,
  freePort,
  missingNote,
  type PeerOptions,
  until,
} from './process.js';
import type { PeerResult, PeerStartOptions, PeerWorkload } from './types.js';
import { AckWindow, checkWorkload, payloadOf, publishInBursts } from './workload.js';

/** Options of the Redis peer. */
export interface RedisPeerOptions extends PeerOptions {
  /** Who writes the records: the Node client (default) or Redis's C load generator. */
  readonly producer?: 'ioredis' | 'redis-benchmark';
}

/** XADDs sent in one pipeline (one write to the socket, one batch of replies). */
const PIPELINE_BATCH = 1000;
/** Pipelines in flight at once: 16 × 1000 = 16,000 XADDs awaiting replies. */
const PIPELINE_DEPTH = 16;
/** Entries asked for by one XREADGROUP. */
const READ_COUNT = 10000;
/** XREADGROUP calls in flight at once, so Redis prepares the next batch while we decode one. */
const READS_IN_FLIGHT = 2;
const STREAM_KEY = 'brook-bench';

/** Redis Streams (`redis-server` from Debian's redis-server package). */
export class RedisStreamsPeer extends ServerPeer {
  readonly name: string;
  readonly #binary: string;
  readonly #producer: 'ioredis' | 'redis-benchmark';
  #port = 0;
  #groups = 0;

  /**
   * `producer`: 'ioredis' (default) writes with the Node client, as a Node application would;
   * 'redis-benchmark' writes with Redis's own C load generator (one connection, 1,000 XADDs per
   * round trip), the counterpart of kcat in Brook's cases, so the server rather than a
   * JavaScript client is what limits the figure. Reading back is ioredis either way.
   */
  constructor(options: RedisPeerOptions = {}) {
    super();
    this.#binary = options.binary ?? 'redis-server';
    this.#producer = options.producer ?? 'ioredis';
    this.name = this.#producer === 'ioredis' ? 'redis-streams' : 'redis-streams-c';
  }

  async available(): Promise<string | null> {
    return executableNote(this.#binary, 'redis-server');
  }

  async start(options: PeerStartOptions): Promise<void> {
    const { path: binary, dir } = await this.prepareExecutable(
      this.#binary,
      'redis-server',
      options,
    );
    this.#port = await freePort();
    const args = [
      ...['--bind', '127.0.0.1', '--port', String(this.#port), '--dir', dir],
      ...['--appendonly', 'yes', '--appendfsync', options.fsync ? 'always' : 'everysec'],
      ...['--save', '', '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', ''],
    ];
    await this.launch('redis-server', binary, args, {}, async () => {
      await until(() => this.#ping(), `redis-server on port ${this.#port}`, 20000);
      await this.#withClient((client) => client.del(STREAM_KEY));
    });
  }

  async produce(workload: PeerWorkload): Promise<PeerResult> {
    checkWorkload(workload.records, workload.recordSize);
    if (this.#producer === 'redis-benchmark') return this.#produceWithRedisBenchmark(workload);
    const payload = payloadOf(workload.recordSize);
    const millis = await this.#withClient((client, guard) => {
      // The window counts pipelines in flight, each of up to PIPELINE_BATCH XADDs.
      const window = new AckWindow(PIPELINE_DEPTH);
      const publish = { records: workload.records, burst: PIPELINE_BATCH, window, guard };
      return publishInBursts({ ...publish, slots: () => 1 }, (n) => {
        const pipeline = client.pipeline();
        for (let i = 0; i < n; i++) pipeline.xadd(STREAM_KEY, '*', 'v', payload);
        pipeline.exec().then(
          (replies) => {
            const failed = replies?.find(([err]) => err !== null)?.[0];
            if (failed) window.fail(failed);
            else window.release();
          },
          (err: Error) => window.fail(err),
        );
      });
    });
    return this.result(workload.records, workload.recordSize, millis, {
      command: 'XADD brook-bench * v <payload>',
      pipelineBatch: PIPELINE_BATCH,
      pipelinesInFlight: PIPELINE_DEPTH,
    });
  }

  async consume(workload: PeerWorkload): Promise<PeerResult> {
    checkWorkload(workload.records, workload.recordSize);
    const { received, millis } = await this.#withClient(async (client, guard) => {
      // A new group per run reads the stream from its start, so consume can be repeated.
      const group = `bench-${++this.#groups}`;
      await client.xgroup('CREATE', STREAM_KEY, group, '0');
      const read = (): Promise<number> =>
        client
          .callBuffer(
            'XREADGROUP',
            'GROUP',
            group,
            'c1',
            'COUNT',
            READ_COUNT,
            'NOACK',
            'STREAMS',
            STREAM_KEY,
            '>',
          )
          .then((reply) => entriesIn(reply, workload.recordSize));
      let received = 0;
      let empty = 0;
      const began = performance.now();
      const inFlight: Promise<number>[] = [];
      try {
        for (let i = 0; i < READS_IN_FLIGHT; i++) inFlight.push(read());
        while (received < workload.records) {
          const got = await guard.run(inFlight.shift() as Promise<number>);
          received += got;
          empty = got === 0 ? empty + 1 : 0;
          if (empty > READS_IN_FLIGHT) {
            throw new Error(`stream ended after ${received} of ${workload.records} records`);
          }
          if (received + READ_COUNT * inFlight.length < workload.records) inFlight.push(read());
        }
        return { received, millis: performance.now() - began };
      } finally {
        // Reads still in flight must settle (and their failures be seen) before disconnecting.
        await guard.run(Promise.allSettled(inFlight)).catch(() => undefined);
      }
    });
    return this.result(received, workload.recordSize, millis, {
      command: `XREADGROUP GROUP <g> c1 COUNT ${READ_COUNT} NOACK STREAMS brook-bench >`,
      readsInFlight: READS_IN_FLIGHT,
      ack: 'NOACK: the group remembers the last id delivered, as a Kafka group its offset',
    });
  }

  /** XADDs by redis-benchmark; its own rate figure excludes its process start. */
  async #produceWithRedisBenchmark(workload: PeerWorkload): Promise<PeerResult> {
    const tool = findExecutable('redis-benchmark');
    if (tool === null) throw new Error(missingNote('redis-benchmark', 'redis-tools'));
    const millis = await this.#withClient(async (client) => {
      const before = await client.xlen(STREAM_KEY);
      // redis-benchmark substitutes no payload into custom commands: pass printable bytes.
      const value = payloadOf(workload.recordSize)
        .toString('base64')
        .padEnd(workload.recordSize, 'x')
        .slice(0, workload.recordSize);
      const args = [
        ...['-h', '127.0.0.1', '-p', String(this.#port), '-c', '1'],
        ...['-P', String(PIPELINE_BATCH), '-n', String(workload.records), '--csv'],
        ...['XADD', STREAM_KEY, '*', 'v', value],
      ];
      const run = spawnSync(tool, args, { encoding: 'utf8', timeout: 600000 });
      const rps = Number(run.stdout.trim().split('\n').at(-1)?.split(',')[1]?.replaceAll('"', ''));
      if (run.status !== 0 || !(rps > 0)) {
        throw new Error(`redis-benchmark failed: ${run.stderr || run.stdout}`.slice(0, 2000));
      }
      const added = (await client.xlen(STREAM_KEY)) - before;
      if (added !== workload.records) {
        throw new Error(`redis-benchmark added ${added} entries, expected ${workload.records}`);
      }
      return (workload.records / rps) * 1000;
    });
    return this.result(workload.records, workload.recordSize, millis, {
      client: `redis-benchmark (C load generator, one connection, -P ${PIPELINE_BATCH})`,
      command: 'XADD brook-bench * v <payload>',
      pipelineBatch: PIPELINE_BATCH,
    });
  }

  protected ports(): number[] {
    return [this.#port];
  }

  protected durability(): string {
    return `appendonly yes, appendfsync ${this.fsync ? 'always' : 'everysec'}, save ""`;
  }

  protected override fsyncPerWrite(): boolean {
    return this.fsync;
  }

  protected clientName(): string {
    return 'ioredis 6 (pipeline)';
  }

  #options(): RedisOptions {
    return {
      host: '127.0.0.1',
      port: this.#port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      // RESP2: XREADGROUP's reply is [[key, entries]] (RESP3 makes it a map).
      protocol: 2,
    };
  }

  /** `use` with an ioredis client whose errors and unexpected close fail it at once. */
  #withClient<T>(use: (client: Redis, guard: ConnectionGuard) => Promise<T>): Promise<T> {
    return usingClient(
      `${this.name}: ioredis`,
      async (guard) => {
        const client = new Redis(this.#options());
        client.on('error', (err: Error) => guard.lost(err));
        client.on('end', () => guard.lost());
        await client.connect();
        return client;
      },
      (client) => {
        client.disconnect();
        return undefined;
      },
      use,
    );
  }

  async #ping(): Promise<boolean> {
    if (this.server?.running !== true) throw new Error('redis-server exited');
    const client = new Redis(this.#options());
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
}

/**
 * How many entries an XREADGROUP reply holds (`[[key, [[id, [field, value]], ...]]]` or null),
 * checking the first entry's value size so a wrong reply cannot pass as a count.
 */
function entriesIn(reply: unknown, recordSize: number): number {
  if (reply === null) return 0;
  const streams = reply as [Buffer, [Buffer, Buffer[]][]][];
  const entries = streams[0]?.[1];
  if (!Array.isArray(entries)) throw new Error('unexpected XREADGROUP reply');
  const first = entries[0]?.[1]?.[1];
  if (entries.length > 0 && first?.length !== recordSize) {
    throw new Error(`XREADGROUP returned a ${first?.length}-byte value, expected ${recordSize}`);
  }
  return entries.length;
}
