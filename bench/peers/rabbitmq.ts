/**
 * RabbitMQ stream queues as a benchmark peer: a private RabbitMQ node (its own node name, Mnesia
 * and log dirs, config, enabled-plugins file, AMQP, stream, distribution and epmd ports, all on
 * 127.0.0.1 and a temp dir), loaded over the stream protocol (rabbitmq-stream-client.ts, the
 * default and RabbitMQ's fast path) or over AMQP 0-9-1 (rabbitmq-amqp.ts).
 *
 * The rabbitmq_stream plugin is enabled offline by writing the enabled-plugins file the node
 * reads at boot (what `rabbitmq-plugins enable --offline` does). Boot takes ~7 s on an idle
 * 2-core machine and took 13-28 s here under heavy load: results carry it as serverStartSeconds.
 *
 * Durability: a stream with one replica confirms a publish once its writer has written the chunk
 * to the segment file (the OS page cache); streams have no fsync-per-write setting and rely on
 * replication instead (strace of the node while it confirmed 20,000 publishes over 3 s showed
 * two fsync and two fdatasync calls in all), so the fsync case cannot be honoured and says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerPeer } from './common.js';
import { atExit, findExecutable, freePort, type PeerOptions, makeTempDir } from './process.js';
import {
  ACK_EVERY,
  AMQP_CLIENT,
  declareStreamQueue,
  MAX_UNCONFIRMED as AMQP_MAX_UNCONFIRMED,
  PUBLISH_BURST as AMQP_PUBLISH_BURST,
  PREFETCH,
  publishOverAmqp,
  readOverAmqp,
  usingAmqp,
} from './rabbitmq-amqp.js';
import {
  CREDIT_STEP,
  chunkLengthFor,
  INITIAL_CREDITS,
  MAX_UNCONFIRMED,
  PUBLISH_BURST,
  publishToStream,
  readFromStream,
  STREAM_CLIENT,
  usingStreamClient,
} from './rabbitmq-stream-client.js';
import type { PeerResult, PeerStartOptions, PeerWorkload } from './types.js';
import { checkWorkload, payloadOf } from './workload.js';

/** The server script itself: /usr/sbin/rabbitmq-server is a wrapper that switches user. */
const SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const QUEUE = 'brook-bench';
/** RabbitMQ boots in ~7 s on an idle 2-core machine and took 13-28 s here under heavy load. */
const BOOT_TIMEOUT_MS = 180000;

/** Options of the RabbitMQ peer. */
export interface RabbitMqPeerOptions extends PeerOptions {
  /** 'stream' (default): the stream protocol; 'amqp': AMQP 0-9-1 to the same stream queue. */
  readonly protocol?: 'stream' | 'amqp';
}

/** RabbitMQ stream queues (`rabbitmq-server` from Debian's rabbitmq-server package). */
export class RabbitMqStreamPeer extends ServerPeer {
  readonly name: string;
  readonly #script: string;
  readonly #protocol: 'stream' | 'amqp';
  #amqpPort = 0;
  #streamPort = 0;
  #epmdPort = 0;
  #env: NodeJS.ProcessEnv = {};
  #cancelEpmdHook: (() => void) | undefined;
  #distPort = 0;
  /** SIGTERM makes the Erlang VM shut the node down cleanly; 20 s covers a loaded machine. */
  protected override readonly stopGraceMs = 20000;

  /** `binary`: the rabbitmq-server script (Debian's, not the /usr/sbin wrapper, by default). */
  constructor(options: RabbitMqPeerOptions = {}) {
    super();
    this.#script = options.binary ?? SERVER_SCRIPT;
    this.#protocol = options.protocol ?? 'stream';
    this.name = this.#protocol === 'stream' ? 'rabbitmq-stream' : 'rabbitmq-stream-amqp';
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
    await this.prepare(options);
    const dir = makeTempDir(this.name);
    this.dir = dir;
    this.#amqpPort = await freePort();
    this.#streamPort = await freePort();
    const distPort = await freePort();
    this.#distPort = distPort;
    this.#epmdPort = await freePort();
    for (const sub of ['mnesia', 'log']) mkdirSync(join(dir, sub));
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.1 = 127.0.0.1:${this.#amqpPort}`,
        `stream.listeners.tcp.1 = 127.0.0.1:${this.#streamPort}`,
        // Stream clients connect to the address the node advertises for a stream's leader.
        'stream.advertised_host = 127.0.0.1',
        `stream.advertised_port = ${this.#streamPort}`,
        // A nearly full shared /tmp must not block publishers with a disk alarm mid-run.
        'disk_free_limit.absolute = 50MB',
        'log.console = false',
        'log.file.level = warning',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_stream].\n');
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
    const label = 'rabbitmq-server';
    await this.launch(label, this.#script, [], { env, cwd: dir }, async () => {
      const amqpPort = `RabbitMQ's AMQP port ${this.#amqpPort}`;
      await this.untilListening(label, this.#amqpPort, amqpPort, BOOT_TIMEOUT_MS, 100);
      // The queue declared over AMQP is the same stream the stream protocol writes to.
      const serverVersion = await declareStreamQueue(this.name, this.#amqpPort, QUEUE);
      if (this.#protocol === 'stream') {
        const what = 'the stream port';
        await this.untilListening(label, this.#streamPort, what, BOOT_TIMEOUT_MS, 100);
        // A connection that opens is the stream plugin ready (and the shim working).
        await usingStreamClient(this.name, this.#streamPort, async () => undefined);
      }
      this.version = `RabbitMQ ${serverVersion} (Erlang/OTP ${otpRelease()})`;
    });
  }

  async produce(workload: PeerWorkload): Promise<PeerResult> {
    checkWorkload(workload.records, workload.recordSize);
    const payload = payloadOf(workload.recordSize);
    const { records } = workload;
    if (this.#protocol === 'stream') {
      const millis = await usingStreamClient(this.name, this.#streamPort, (client, guard) =>
        publishToStream(client, guard, QUEUE, records, payload),
      );
      return this.result(records, workload.recordSize, millis, {
        publish: 'stream publisher, confirms counted per publishing id',
        maxChunkLength: chunkLengthFor(workload.recordSize),
        maxUnconfirmed: MAX_UNCONFIRMED,
        publishBurst: PUBLISH_BURST,
      });
    }
    const millis = await usingAmqp(this.name, this.#amqpPort, (connection, guard) =>
      publishOverAmqp(connection, guard, QUEUE, records, payload),
    );
    return this.result(records, workload.recordSize, millis, {
      publish: 'basic.publish to the stream queue on a confirm channel',
      maxUnconfirmed: AMQP_MAX_UNCONFIRMED,
      publishBurst: AMQP_PUBLISH_BURST,
    });
  }

  async consume(workload: PeerWorkload): Promise<PeerResult> {
    checkWorkload(workload.records, workload.recordSize);
    const { records, recordSize } = workload;
    if (this.#protocol === 'stream') {
      const millis = await usingStreamClient(this.name, this.#streamPort, (client, guard) =>
        readFromStream(client, guard, QUEUE, records, recordSize),
      );
      return this.result(records, recordSize, millis, {
        consumer: 'stream consumer from the first offset',
        credits: `${INITIAL_CREDITS} chunks at subscription, ${CREDIT_STEP} more per chunk received`,
      });
    }
    const millis = await usingAmqp(this.name, this.#amqpPort, (connection, guard) =>
      readOverAmqp(connection, guard, QUEUE, records, recordSize),
    );
    return this.result(records, recordSize, millis, {
      consumer: "basic.consume with x-stream-offset 'first'",
      prefetch: PREFETCH,
      ack: `ack(multiple) every ${ACK_EVERY} deliveries`,
    });
  }

  protected ports(): number[] {
    return [this.#amqpPort, this.#streamPort, this.#distPort, this.#epmdPort];
  }

  protected override afterServerStop(): void {
    if (this.#cancelEpmdHook === undefined) return;
    killEpmd(this.#env);
    this.#cancelEpmdHook();
    this.#cancelEpmdHook = undefined;
  }

  protected durability(): string {
    const base = 'stream queue, 1 replica, confirm once written to the OS (no fsync setting)';
    return this.fsync ? `${base}: fsync per write NOT available, so not in force` : base;
  }

  protected clientName(): string {
    return this.#protocol === 'stream' ? STREAM_CLIENT : AMQP_CLIENT;
  }

  protected override serverParams(): Record<string, unknown> {
    return { queue: `${QUEUE} (x-queue-type stream, 1 replica)` };
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
