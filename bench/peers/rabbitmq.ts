/**
 * RabbitMQ stream queues as a benchmark peer: a private RabbitMQ node (its own node name, Mnesia
 * and log dirs, config, AMQP, distribution and epmd ports, all on 127.0.0.1 and a temp dir),
 * loaded over AMQP 0-9-1 by amqplib with publisher confirms (a bounded number unconfirmed) and
 * read back by a consumer with a large prefetch from the stream's first offset.
 *
 * Why AMQP 0-9-1 and not the stream protocol: every release of rabbitmq-stream-js-client (0.4.2
 * to 1.0.0) sends ExchangeCommandVersions on connect, a command RabbitMQ added in 3.11; Debian's
 * 3.10.8 answers it by closing the connection. So this peer measures stream queues through the
 * AMQP path, which RabbitMQ documents as slower than its stream protocol: read its figures as a
 * floor for RabbitMQ streams, not their best.
 *
 * Durability: a stream queue with one replica confirms a publish once its writer has written the
 * chunk to the segment file (the OS page cache); streams have no fsync-per-write setting and rely
 * on replication instead (strace of the node while it confirmed 20,000 publishes over 3 s showed
 * two fsync and two fdatasync calls in all), so the fsync case cannot be honoured and says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import {
  atExit,
  findExecutable,
  freePort,
  type PeerOptions,
  makeTempDir,
  portOpen,
  removeDir,
  type RunningServer,
  ServerProcess,
  until,
} from './process.js';
import type { Peer, PeerResult, PeerStartOptions, PeerWorkload } from './types.js';
import { AckWindow, checkWorkload, payloadOf, peerResult } from './workload.js';

/** The server script itself: /usr/sbin/rabbitmq-server is a wrapper that switches user. */
const SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';
/** Publishes awaiting their confirm at once. */
const MAX_UNCONFIRMED = 5000;
/** Publishes written in one go once the window has room for them (see AckWindow.acquire). */
const PUBLISH_BURST = 500;
/** Deliveries the server may send ahead of our acks (basic.qos, required for stream queues). */
const PREFETCH = 5000;
/** One `ack(multiple)` per this many deliveries keeps the prefetch window open. */
const ACK_EVERY = 1000;
const QUEUE = 'brook-bench';
/** RabbitMQ boots in ~7 s on an idle 2-core machine; a loaded one needs longer. */
const BOOT_TIMEOUT_MS = 90000;

/** RabbitMQ stream queues (`rabbitmq-server` from Debian's rabbitmq-server package). */
export class RabbitMqStreamPeer implements Peer {
  readonly name = 'rabbitmq-stream';
  readonly #script: string;
  #server: ServerProcess | undefined;
  #dir: string | undefined;
  #amqpPort = 0;
  #epmdPort = 0;
  #env: NodeJS.ProcessEnv = {};
  #cancelEpmdHook: (() => void) | undefined;
  #distPort = 0;
  #fsync = false;
  #version = '';
  #bootMillis = 0;

  /** `binary`: the rabbitmq-server script (Debian's, not the /usr/sbin wrapper, by default). */
  constructor(options: PeerOptions = {}) {
    this.#script = options.binary ?? SERVER_SCRIPT;
  }

  /** The node while started (for checks that stop() leaves nothing behind). */
  get running(): RunningServer | undefined {
    return this.#server === undefined || this.#dir === undefined
      ? undefined
      : {
          pid: this.#server.pid,
          ports: [this.#amqpPort, this.#distPort, this.#epmdPort],
          dataDir: this.#dir,
        };
  }

  async available(): Promise<string | null> {
    if (!existsSync(this.#script)) {
      return `${this.#script} not found: install the Debian package rabbitmq-server with bench/setup-peers.sh`;
    }
    if (findExecutable('epmd', ['/usr/lib/erlang/bin']) === null) {
      return 'epmd (Erlang) not found: install the Debian package rabbitmq-server with bench/setup-peers.sh';
    }
    return null;
  }

  async start(options: PeerStartOptions): Promise<void> {
    const note = await this.available();
    if (note !== null) throw new Error(note);
    await this.stop();
    this.#fsync = options.fsync;
    const dir = makeTempDir(this.name);
    this.#dir = dir;
    this.#amqpPort = await freePort();
    const distPort = await freePort();
    this.#distPort = distPort;
    this.#epmdPort = await freePort();
    for (const sub of ['mnesia', 'log']) mkdirSync(join(dir, sub));
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.1 = 127.0.0.1:${this.#amqpPort}`,
        // A nearly full shared /tmp must not block publishers with a disk alarm mid-run.
        'disk_free_limit.absolute = 50MB',
        'log.console = false',
        'log.file.level = warning',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
    const node = `brookbench${process.pid}x${Math.floor(Math.random() * 1e9)}@localhost`;
    this.#env = {
      ...process.env,
      // The Erlang cookie is written to $HOME: keep it in the temp dir.
      HOME: dir,
      RABBITMQ_NODENAME: node,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.#amqpPort),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
      ERL_CRASH_DUMP: join(dir, 'erl_crash.dump'),
      // A private epmd on its own port: ours to stop, and no clash with any other node.
      ERL_EPMD_ADDRESS: '127.0.0.1',
      ERL_EPMD_PORT: String(this.#epmdPort),
    };
    const env = this.#env;
    this.#cancelEpmdHook = atExit(() => killEpmd(env));
    const began = performance.now();
    this.#server = ServerProcess.start(this.#script, [], { env, cwd: dir });
    let serverVersion = '?';
    try {
      await until(
        async () => {
          if (this.#server?.running !== true) throw new Error('rabbitmq-server exited');
          return portOpen(this.#amqpPort);
        },
        `RabbitMQ's AMQP port ${this.#amqpPort}`,
        BOOT_TIMEOUT_MS,
        100,
      );
      const connection = await this.#connect();
      try {
        serverVersion = String(connection.connection.serverProperties.version);
        const channel = await connection.createChannel();
        await channel.assertQueue(QUEUE, {
          durable: true,
          arguments: { 'x-queue-type': 'stream' },
        });
      } finally {
        await connection.close();
      }
      this.#bootMillis = performance.now() - began;
      this.#version = `RabbitMQ ${serverVersion} (Erlang/OTP ${otpRelease()})`;
    } catch (err) {
      const output = this.#server.output;
      await this.stop();
      throw new Error(`rabbitmq-server did not start: ${(err as Error).message}\n${output}`);
    }
  }

  async produce(workload: PeerWorkload): Promise<PeerResult> {
    checkWorkload(workload.records, workload.recordSize);
    const payload = payloadOf(workload.recordSize);
    const connection = await this.#connect();
    try {
      const channel = await connection.createConfirmChannel();
      const window = new AckWindow(MAX_UNCONFIRMED);
      const confirmed = (err: unknown): void => {
        if (err !== null && err !== undefined) window.fail(new Error(`publish nacked: ${err}`));
        else window.release();
      };
      let drained: (() => void) | null = null;
      channel.on('drain', () => drained?.());
      const began = performance.now();
      for (let sent = 0; sent < workload.records; ) {
        const burst = Math.min(PUBLISH_BURST, workload.records - sent);
        await window.acquire(burst);
        let full = false;
        for (let i = 0; i < burst; i++) {
          full = !channel.publish('', QUEUE, payload, {}, confirmed) || full;
        }
        sent += burst;
        if (full) {
          // The channel's write buffer is over its mark: let it empty before writing more.
          await new Promise<void>((resolve) => {
            drained = resolve;
          });
          drained = null;
        }
      }
      await window.drain();
      const millis = performance.now() - began;
      return peerResult(workload.records, workload.recordSize, millis, this.#durability(), false, {
        ...this.#params(),
        publish: 'basic.publish to the stream queue on a confirm channel',
        maxUnconfirmed: MAX_UNCONFIRMED,
        publishBurst: PUBLISH_BURST,
      });
    } finally {
      await connection.close();
    }
  }

  async consume(workload: PeerWorkload): Promise<PeerResult> {
    checkWorkload(workload.records, workload.recordSize);
    const connection = await this.#connect();
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(PREFETCH);
      let received = 0;
      let wrongSize = -1;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const onMessage = (m: ConsumeMessage | null): void => {
        if (m === null) return;
        if (m.content.length !== workload.recordSize) wrongSize = m.content.length;
        received++;
        if (received % ACK_EVERY === 0 || received === workload.records) channel.ack(m, true);
        if (received === workload.records) done();
      };
      const began = performance.now();
      // Each run is a new consumer from the stream's first offset, so consume can repeat.
      const { consumerTag } = await channel.consume(QUEUE, onMessage, {
        noAck: false,
        arguments: { 'x-stream-offset': 'first' },
      });
      await finished;
      const millis = performance.now() - began;
      await channel.cancel(consumerTag);
      if (wrongSize >= 0) {
        throw new Error(`a message of ${wrongSize} bytes, expected ${workload.recordSize}`);
      }
      return peerResult(received, workload.recordSize, millis, this.#durability(), false, {
        ...this.#params(),
        consumer: "basic.consume with x-stream-offset 'first'",
        prefetch: PREFETCH,
        ack: `ack(multiple) every ${ACK_EVERY} deliveries`,
      });
    } finally {
      await connection.close();
    }
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    // SIGTERM makes the Erlang VM shut the node down cleanly; 20 s covers a loaded machine.
    if (server !== undefined) await server.stop(20000);
    if (this.#cancelEpmdHook !== undefined) {
      killEpmd(this.#env);
      this.#cancelEpmdHook();
      this.#cancelEpmdHook = undefined;
    }
    removeDir(this.#dir);
    this.#dir = undefined;
  }

  #durability(): string {
    const base = 'stream queue, 1 replica, confirm once written to the OS (no fsync setting)';
    return this.#fsync ? `${base}: fsync per write NOT available, so not in force` : base;
  }

  #params(): Record<string, unknown> {
    return {
      server: this.#version,
      client: 'amqplib 2 (AMQP 0-9-1; the stream-protocol client needs RabbitMQ 3.11+)',
      queue: `${QUEUE} (x-queue-type stream)`,
      serverStartSeconds: +(this.#bootMillis / 1000).toFixed(2),
    };
  }

  #connect(): Promise<ChannelModel> {
    return amqp.connect(`amqp://guest:guest@127.0.0.1:${this.#amqpPort}`);
  }
}

/** Stops the private epmd the node started (found by its port, which only it uses). */
function killEpmd(env: NodeJS.ProcessEnv): void {
  const epmd = findExecutable('epmd', ['/usr/lib/erlang/bin']);
  if (epmd !== null) spawnSync(epmd, ['-kill'], { env, stdio: 'ignore', timeout: 5000 });
}

/** The Erlang/OTP release the node runs on, read from the installed runtime. */
function otpRelease(): string {
  const r = spawnSync(
    'erl',
    ['-noshell', '-eval', 'io:put_chars(erlang:system_info(otp_release)), halt().'],
    {
      encoding: 'utf8',
      timeout: 10000,
    },
  );
  return r.status === 0 ? r.stdout.trim() : '?';
}
