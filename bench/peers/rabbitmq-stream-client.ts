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
import { AckWindow, untilReceived, watchAcks } from './workload.js';

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

let shimmed = false;

/** Skips ExchangeCommandVersions (RabbitMQ 3.11+) so the client can talk to 3.10. */
function shimFor310(): void {
  if (shimmed) return;
  const proto = Connection.prototype as unknown as Record<string, unknown>;
  if (typeof proto.exchangeCommandVersions !== 'function') {
    throw new Error(
      'rabbitmq-stream-js-client changed: Connection.exchangeCommandVersions is gone, revisit the 3.10 shim',
    );
  }
  proto.exchangeCommandVersions = async (): Promise<boolean> => true;
  shimmed = true;
}

/** Opens a stream-protocol client to the node on 127.0.0.1:`port` as guest. */
export function openStreamClient(port: number): Promise<Client> {
  shimFor310();
  return connect({
    hostname: '127.0.0.1',
    port,
    username: 'guest',
    password: 'guest',
    vhost: '/',
  });
}

/**
 * Publishes `records` copies of `payload` to `stream`; resolves once all are confirmed with the
 * milliseconds from the first send to the last confirm (declaring the publisher excluded).
 */
export async function publishToStream(
  client: Client,
  stream: string,
  records: number,
  payload: Buffer,
): Promise<number> {
  const publisher = await client.declarePublisher({
    stream,
    maxChunkLength: chunkLengthFor(payload.length),
  });
  const window = new AckWindow(MAX_UNCONFIRMED);
  const endWatch = watchAcks(window);
  publisher.on('publish_confirm', (err, ids) => {
    if (err !== null) window.fail(new Error(`publish refused with code ${err}`));
    else window.release(ids.length);
  });
  const began = performance.now();
  for (let sent = 0; sent < records; ) {
    const burst = Math.min(PUBLISH_BURST, records - sent);
    await window.acquire(burst);
    for (let i = 0; i < burst; i++) {
      // send() queues the message (its `sent` says whether this call wrote a frame); the
      // publisher writes one frame per chunkLengthFor() messages, or at the next event loop turn.
      await publisher.send(payload);
    }
    sent += burst;
  }
  await publisher.flush();
  await window.drain();
  endWatch();
  const millis = performance.now() - began;
  await publisher.close();
  return millis;
}

/**
 * Reads `records` messages from the start of `stream`; resolves with the milliseconds from the
 * subscription to the last message. Throws if a message's size is not `recordSize`.
 */
export async function readFromStream(
  client: Client,
  stream: string,
  records: number,
  recordSize: number,
): Promise<number> {
  let received = 0;
  let wrongSize = -1;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const began = performance.now();
  const consumer = await client.declareConsumer(
    {
      stream,
      offset: Offset.first(),
      creditPolicy: creditsOnChunkReceived(INITIAL_CREDITS, CREDIT_STEP),
    },
    (m: Message) => {
      if (m.content.length !== recordSize) wrongSize = m.content.length;
      if (++received === records) done();
    },
  );
  await untilReceived(finished, () => received, records);
  const millis = performance.now() - began;
  await consumer.close();
  if (wrongSize >= 0) throw new Error(`a message of ${wrongSize} bytes, expected ${recordSize}`);
  return millis;
}
