/**
 * RabbitMQ streams over their own binary protocol (rabbitmq-stream-js-client): the path RabbitMQ
 * recommends for stream throughput. The publisher batches up to `maxChunkLength` messages per
 * publish frame and the consumer asks for several chunks of credit ahead.
 *
 * Compatibility shim: every release of the client (0.4.2 to 1.0.0) sends ExchangeCommandVersions
 * right after opening a connection, a command RabbitMQ added in 3.11; Debian's 3.10.8 answers it
 * by closing the connection. The client uses the answer only to warn about version mismatches,
 * so the shim skips that one exchange; everything measured (publish, confirm, subscribe,
 * deliver, credit) is protocol version 1, which 3.10 speaks.
 */
import { type Client, connect, Offset } from 'rabbitmq-stream-js-client';
import type { Message } from 'rabbitmq-stream-js-client/dist/publisher.js';
import { Connection } from 'rabbitmq-stream-js-client/dist/connection.js';
import { creditsOnChunkReceived } from 'rabbitmq-stream-js-client/dist/consumer_credit_policy.js';
import { type ConnectionGuard, usingClient } from './connection-guard.js';
import { AckWindow, Deliveries, publishInBursts } from './workload.js';

/** Messages per publish frame at most (the client's default is 100). */
export const MAX_CHUNK_LENGTH = 1000;
/**
 * Bytes of messages per publish frame at most. The client fills a frame with `maxChunkLength`
 * messages without checking their total against the negotiated frame_max (1 MiB by default), and
 * the node closes the connection on a larger frame: 1,000 1-KiB messages did exactly that.
 */
const FRAME_BUDGET = 512 * 1024;
/** Per-message framing in a publish frame (publishing id, length, AMQP 1.0 sections). */
const MESSAGE_OVERHEAD = 64;

/** Messages per publish frame for records of `recordSize` bytes. */
export function chunkLengthFor(recordSize: number): number {
  const fit = Math.floor(FRAME_BUDGET / (recordSize + MESSAGE_OVERHEAD));
  return Math.max(1, Math.min(MAX_CHUNK_LENGTH, fit));
}
/** Publishes awaiting their confirm at once. */
export const MAX_UNCONFIRMED = 20000;
/** Messages handed to the publisher in one go once the window has room for them. */
export const PUBLISH_BURST = 1000;
/** Chunks of credit granted at subscription, and granted again per chunk received. */
export const INITIAL_CREDITS = 10;
export const CREDIT_STEP = 5;

/** The client as the results name it. */
export const STREAM_CLIENT =
  'rabbitmq-stream-js-client 1.0 (stream protocol; shim skips its 3.11-only handshake step)';

let shimmed = false;

/**
 * Adapts the client to this benchmark: skips ExchangeCommandVersions (RabbitMQ 3.11+) so it can
 * talk to 3.10, and marks the promises of its frame writes as handled. The client leaves some
 * writes unawaited (credit, heartbeats): on a reset socket their rejection ("write ECONNRESET")
 * would otherwise surface as an unhandled rejection far from the peer, while the connection's
 * close listener (see {@link openStreamClient}) already reports the loss to the peer's guard.
 */
function shimClient(): void {
  if (shimmed) return;
  const proto = Connection.prototype as unknown as Record<string, unknown>;
  if (typeof proto.exchangeCommandVersions !== 'function' || typeof proto.send !== 'function') {
    throw new Error(
      'rabbitmq-stream-js-client changed: Connection.exchangeCommandVersions or send is gone, revisit the shim',
    );
  }
  proto.exchangeCommandVersions = async (): Promise<boolean> => true;
  const send = proto.send as (this: unknown, ...args: unknown[]) => Promise<unknown>;
  proto.send = function sendHandled(this: unknown, ...args: unknown[]): Promise<unknown> {
    const written = send.apply(this, args);
    written.catch(() => undefined);
    return written;
  };
  shimmed = true;
}

/** What the guard hears from the client's close listeners. */
const closedBecause = (hadError: boolean): string =>
  hadError ? 'the socket closed after an error (e.g. ECONNRESET)' : 'closed by the server';

/**
 * Opens a stream-protocol client to the node on 127.0.0.1:`port` as guest; with `guard`, its
 * connection closing unexpectedly fails the guard's operation.
 */
export function openStreamClient(port: number, guard?: ConnectionGuard): Promise<Client> {
  shimClient();
  return connect({
    hostname: '127.0.0.1',
    port,
    username: 'guest',
    password: 'guest',
    vhost: '/',
    ...(guard === undefined
      ? {}
      : { listeners: { connection_closed: (hadError) => guard.lost(closedBecause(hadError)) } }),
  });
}

/** `use` with a stream client watched by a guard (see connection-guard.ts). */
export function usingStreamClient<T>(
  what: string,
  port: number,
  use: (client: Client, guard: ConnectionGuard) => Promise<T>,
): Promise<T> {
  return usingClient(
    `${what}: stream client`,
    (guard) => openStreamClient(port, guard),
    (client) => client.close(),
    use,
  );
}

/**
 * Publishes `records` copies of `payload` to `stream`; resolves once all are confirmed with the
 * milliseconds from the first send to the last confirm (declaring the publisher excluded).
 */
export async function publishToStream(
  client: Client,
  guard: ConnectionGuard,
  stream: string,
  records: number,
  payload: Buffer,
): Promise<number> {
  // The publisher and consumer get connections of their own (to the stream's leader).
  const publisher = await client.declarePublisher({
    stream,
    maxChunkLength: chunkLengthFor(payload.length),
    connectionClosedListener: (hadError) => guard.lost(closedBecause(hadError)),
  });
  const window = new AckWindow(MAX_UNCONFIRMED);
  publisher.on('publish_confirm', (err, ids) => {
    if (err !== null) window.fail(new Error(`publish refused with code ${err}`));
    else window.release(ids.length);
  });
  const publish = { records, burst: PUBLISH_BURST, window, guard, flush: () => publisher.flush() };
  const millis = await publishInBursts(publish, async (n) => {
    for (let i = 0; i < n; i++) {
      // send() queues the message (its `sent` says whether this call wrote a frame); the
      // publisher writes one frame per chunkLengthFor() messages, or at the next event loop turn.
      await publisher.send(payload);
    }
  });
  await guard.run(publisher.close());
  return millis;
}

/**
 * Reads `records` messages from the start of `stream`; resolves with the milliseconds from the
 * subscription to the last message. Throws if a message's size is not `recordSize`.
 */
export async function readFromStream(
  client: Client,
  guard: ConnectionGuard,
  stream: string,
  records: number,
  recordSize: number,
): Promise<number> {
  const deliveries = new Deliveries(records, recordSize);
  const began = performance.now();
  const consumer = await client.declareConsumer(
    {
      stream,
      offset: Offset.first(),
      creditPolicy: creditsOnChunkReceived(INITIAL_CREDITS, CREDIT_STEP),
      connectionClosedListener: (hadError) => guard.lost(closedBecause(hadError)),
    },
    (m: Message) => {
      deliveries.add(m.content.length);
    },
  );
  await guard.run(deliveries.all());
  const millis = performance.now() - began;
  await guard.run(consumer.close());
  deliveries.checkSizes();
  return millis;
}
