/**
 * RabbitMQ stream queues over AMQP 0-9-1 (amqplib): publisher confirms with a bounded number
 * unconfirmed, and a consumer with a large prefetch reading from the stream's first offset.
 * RabbitMQ documents this path as slower than its stream protocol; it is kept to show the
 * difference and for RabbitMQ versions the stream client cannot talk to.
 */
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { type ConnectionGuard, usingClient } from './connection-guard.js';
import { AckWindow, Deliveries, publishInBursts } from './workload.js';

/** Publishes awaiting their confirm at once. */
export const MAX_UNCONFIRMED = 5000;
/** Publishes written in one go once the window has room for them (see AckWindow.acquire). */
export const PUBLISH_BURST = 500;
/** Deliveries the server may send ahead of our acks (basic.qos, required for stream queues). */
export const PREFETCH = 5000;
/** One `ack(multiple)` per this many deliveries keeps the prefetch window open. */
export const ACK_EVERY = 1000;

/** The client as the results name it. */
export const AMQP_CLIENT = 'amqplib 2 (AMQP 0-9-1)';

/**
 * `use` with an AMQP connection to the node on 127.0.0.1:`port` as guest, watched by a guard:
 * a connection error or an unexpected close fails it at once (amqplib emits both on the
 * connection, and an 'error' without a listener would be thrown in the background).
 */
export function usingAmqp<T>(
  what: string,
  port: number,
  use: (connection: ChannelModel, guard: ConnectionGuard) => Promise<T>,
): Promise<T> {
  return usingClient(
    `${what}: AMQP connection`,
    async (guard) => {
      const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
      connection.on('error', (err: Error) => guard.lost(err));
      connection.on('close', (err?: Error) => guard.lost(err ?? 'closed by the server'));
      return connection;
    },
    (connection) => connection.close(),
    use,
  );
}

/** Declares `queue` as a durable stream queue; resolves with the server's version. */
export function declareStreamQueue(what: string, port: number, queue: string): Promise<string> {
  return usingAmqp(what, port, async (connection) => {
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    return String(connection.connection.serverProperties.version);
  });
}

/**
 * Publishes `records` copies of `payload` to `queue` on a confirm channel; resolves with the
 * milliseconds from the first publish to the last confirm.
 */
export async function publishOverAmqp(
  connection: ChannelModel,
  guard: ConnectionGuard,
  queue: string,
  records: number,
  payload: Buffer,
): Promise<number> {
  const channel = await connection.createConfirmChannel();
  const window = new AckWindow(MAX_UNCONFIRMED);
  const confirmed = (err: unknown): void => {
    if (err !== null && err !== undefined) window.fail(new Error(`publish nacked: ${err}`));
    else window.release();
  };
  let drained: (() => void) | null = null;
  channel.on('drain', () => drained?.());
  return publishInBursts({ records, burst: PUBLISH_BURST, window, guard }, async (n) => {
    let full = false;
    for (let i = 0; i < n; i++) {
      full = !channel.publish('', queue, payload, {}, confirmed) || full;
    }
    if (full) {
      // The channel's write buffer is over its mark: let it empty before writing more.
      await new Promise<void>((resolve) => {
        drained = resolve;
      });
      drained = null;
    }
  });
}

/**
 * Reads `records` messages from the start of stream queue `queue`; resolves with the
 * milliseconds from the subscription to the last message.
 */
export async function readOverAmqp(
  connection: ChannelModel,
  guard: ConnectionGuard,
  queue: string,
  records: number,
  recordSize: number,
): Promise<number> {
  const channel = await connection.createChannel();
  await channel.prefetch(PREFETCH);
  const deliveries = new Deliveries(records, recordSize);
  const onMessage = (m: ConsumeMessage | null): void => {
    if (m === null) return;
    const received = deliveries.add(m.content.length);
    if (received % ACK_EVERY === 0 || received === records) channel.ack(m, true);
  };
  const began = performance.now();
  // Each run is a new consumer from the stream's first offset, so reading can repeat.
  const { consumerTag } = await channel.consume(queue, onMessage, {
    noAck: false,
    arguments: { 'x-stream-offset': 'first' },
  });
  await guard.run(deliveries.all());
  const millis = performance.now() - began;
  await guard.run(channel.cancel(consumerTag));
  deliveries.checkSizes();
  return millis;
}
