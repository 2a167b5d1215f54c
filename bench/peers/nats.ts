/**
 * NATS JetStream as a benchmark peer: a private `nats-server -js` on 127.0.0.1 with a file-storage
 * stream, loaded with asynchronous JetStream publishes (a bounded number awaiting their acks, the
 * JavaScript form of the Go client's PublishAsync with MaxPending) and read back by a pull
 * consumer in big batches.
 *
 * Durability, as Debian's nats-server 2.9.10 offers it: messages go to the file store and are
 * acknowledged once written to the OS; the store syncs them to disk on a background timer (strace
 * of 2.9.10 shows the first fsync exactly 2 min after the first write, matching the 2 min default
 * that 2.10 made configurable). `sync_interval` (including `always`, fsync per write) only exists
 * from 2.10: 2.9.10 refuses a config naming it ("unknown field"), so the fsync case cannot be
 * honoured and says so.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { ServerPeer } from './common.js';
import { type ConnectionGuard, usingClient } from './connection-guard.js';
import {
  executableNote,
  freePort,
  type PeerOptions,
} from './process.js';
import type { PeerResult, PeerStartOptions, PeerWorkload } from './types.js';
import { AckWindow, checkWorkload, Deliveries, payloadOf, publishInBursts } from './workload.js';

/** Publishes awaiting their PubAck at once. */
const MAX_PENDING_ACKS = 4000;
/** Publishes written in one go once the window has room for them (see AckWindow.acquire). */
const PUBLISH_BURST = 500;
/** Messages one pull request asks for (the client re-pulls at 75% of it). */
const PULL_BATCH = 10000;
const STREAM = 'brook-bench';
const SUBJECT = 'brook.bench';

/** NATS JetStream on file storage (`nats-server` from Debian's nats-server package). */
export class NatsJetStreamPeer extends ServerPeer {
  readonly name = 'nats-jetstream';
  readonly #binary: string;
  #port = 0;
  #consumers = 0;

  constructor(options: PeerOptions = {}) {
    super();
    this.#binary = options.binary ?? 'nats-server';
  }

  async available(): Promise<string | null> {
    return executableNote(this.#binary, 'nats-server');
  }

  async start(options: PeerStartOptions): Promise<void> {
    const { path: binary, dir } = await this.prepareExecutable(
      this.#binary,
      'nats-server',
      options,
    );
    this.#port = await freePort();
    const config = join(dir, 'nats.conf');
    writeFileSync(
      config,
      [
        `listen: "127.0.0.1:${this.#port}"`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }`,
        '',
      ].join('\n'),
    );
    await this.launch('nats-server', binary, ['-c', config], {}, async () => {
      await this.untilListening(
        'nats-server',
        this.#port,
        `nats-server on port ${this.#port}`,
        20000,
      );
      await this.#withConnection(async (nc) => {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({
          name: STREAM,
          subjects: [SUBJECT],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          num_replicas: 1,
        });
      });
    });
  }

  async produce(workload: PeerWorkload): Promise<PeerResult> {
    checkWorkload(workload.records, workload.recordSize);
    const payload = payloadOf(workload.recordSize);
    const millis = await this.#withConnection(async (nc, guard) => {
      // Go's PublishAsync, by hand: publish to the stream's subject with a reply inbox and take
      // the PubAcks on one subscription. js.publish() (one request, timer and promise per
      // message) ran ~10x slower here, which would measure the client rather than JetStream.
      const window = new AckWindow(MAX_PENDING_ACKS);
      const inbox = createInbox();
      nc.subscribe(inbox, {
        callback: (err, m) => {
          if (err !== null) window.fail(err);
          else if (isPubAck(m.data)) window.release();
          else window.fail(new Error(`JetStream refused a publish: ${m.string()}`));
        },
      });
      await nc.flush();
      const publish = { records: workload.records, burst: PUBLISH_BURST, window, guard };
      return publishInBursts(publish, (n) => {
        for (let i = 0; i < n; i++) nc.publish(SUBJECT, payload, { reply: inbox });
      });
    });
    return this.result(workload.records, workload.recordSize, millis, {
      publish: 'async: publish with a reply inbox, PubAcks counted on one subscription',
      maxPendingAcks: MAX_PENDING_ACKS,
      publishBurst: PUBLISH_BURST,
    });
  }

  async consume(workload: PeerWorkload): Promise<PeerResult> {
    checkWorkload(workload.records, workload.recordSize);
    const millis = await this.#withConnection(async (nc, guard) => {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      // A new durable consumer per run reads the stream from its start, so consume can repeat.
      const name = `bench-${++this.#consumers}`;
      await jsm.consumers.add(STREAM, {
        durable_name: name,
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
      });
      const consumer = await js.consumers.get(STREAM, name);
      const deliveries = new Deliveries(workload.records, workload.recordSize);
      const began = performance.now();
      const messages = await consumer.consume({
        max_messages: PULL_BATCH,
        callback: (m) => {
          deliveries.add(m.data.length);
        },
      });
      await guard.run(deliveries.all());
      const millis = performance.now() - began;
      await messages.close();
      deliveries.checkSizes();
      return millis;
    });
    return this.result(workload.records, workload.recordSize, millis, {
      consumer: 'durable pull consumer, consume() with callback',
      pullBatch: PULL_BATCH,
      ack: 'AckPolicy.None (the consumer keeps its position, as a Kafka group its offset)',
    });
  }

  protected ports(): number[] {
    return [this.#port];
  }

  protected durability(): string {
    const base =
      'file storage, acked once written to the OS, fsync every 2 min in the background ' +
      '(2.9.10: sync_interval not configurable)';
    return this.fsync ? `${base}: fsync per write NOT available, so not in force` : base;
  }

  protected clientName(): string {
    return '@nats-io/transport-node + @nats-io/jetstream 3.3';
  }

  protected override serverParams(): Record<string, unknown> {
    return { stream: `${STREAM} (file storage, 1 replica, limits retention)` };
  }

  /**
   * `use` with a connection (no reconnects) that fails it at once when it closes: with
   * reconnect off, a lost server closes the connection, and closed() says why.
   */
  #withConnection<T>(use: (nc: NatsConnection, guard: ConnectionGuard) => Promise<T>): Promise<T> {
    return usingClient(
      `${this.name}: NATS connection`,
      async (guard) => {
        const nc = await connect({ servers: `127.0.0.1:${this.#port}`, reconnect: false });
        void nc.closed().then((err) => guard.lost(err ?? 'closed by the server'));
        return nc;
      },
      (nc) => nc.close(),
      use,
    );
  }
}

/** A PubAck is `{"stream":...,"seq":...}`; a refusal is `{"error":...}`. */
function isPubAck(data: Uint8Array): boolean {
  // '{"s' — checked by bytes, as parsing JSON per ack would cost more than the check is worth.
  return data[0] === 0x7b && data[1] === 0x22 && data[2] === 0x73;
}
