/*
 * The stores' changelog boundary (src/streams/stores/changelog.ts) implemented with the client:
 * a writer over the container's shared producer and a reader over a manually assigned consumer.
 */
import {
  type Admin,
  type ClientOptions,
  Consumer,
  type Producer,
  type ProducerRecord,
  type RecordMetadata,
} from '../../client/index.js';
import type {
  ChangelogOffset,
  ChangelogReader,
  ChangelogRecord,
  ChangelogWriter,
} from '../stores/changelog.js';

/**
 * Counts a container's unacknowledged produce calls, outputs and changelogs together, so that
 * the run loop can stop taking input while the producer is behind (back-pressure): a task that
 * writes its store faster than the brokers acknowledge must not buffer without bound.
 */
export class SendTracker {
  #count = 0;
  /** Who waits for the count to fall to their limit. */
  #waiters: { readonly limit: number; readonly resolve: () => void }[] = [];

  /** Tracks `sent` until it settles (its failure is reported by whoever awaits it). */
  add(sent: Promise<unknown>): void {
    this.#count++;
    const done = (): void => {
      this.#count--;
      if (this.#waiters.length > 0) this.#wake();
    };
    sent.then(done, done);
  }

  /** Produce calls not yet acknowledged. */
  get size(): number {
    return this.#count;
  }

  /**
   * Waits until at most `limit` produce calls are unacknowledged (a count, not a race over
   * every call in flight, which would hang a handler on each of them per wait).
   */
  waitBelow(limit: number): Promise<void> {
    if (this.#count <= limit) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ limit, resolve }));
  }

  #wake(): void {
    const still: { readonly limit: number; readonly resolve: () => void }[] = [];
    for (const w of this.#waiters) {
      if (this.#count <= w.limit) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
  }
}

/** Records per produce call: large enough to batch well, small enough to bound buffering. */
const SEND_CHUNK = 2048;

/**
 * Appends to one changelog partition through the shared producer. Appends are gathered into
 * chunks, and the chunks are sent in order (the producer is idempotent, so order survives
 * retries); `flush` resolves with the offset of the last acknowledged record.
 */
/** What a changelog writer needs of a producer (a task's fence stands in for it). */
export type ChangelogProducer = Pick<Producer, 'send'>;

export class ProducerChangelogWriter implements ChangelogWriter {
  readonly #producer: ChangelogProducer;
  readonly #topic: string;
  readonly #partition: number;
  #chunk: ProducerRecord[] = [];
  #inFlight: Promise<RecordMetadata[]>[] = [];
  #lastOffset: ChangelogOffset | null = null;
  /** The first send failure; every later flush reports it (the changelog has a gap). */
  #failure: Error | undefined;
  readonly #tracker: SendTracker | undefined;

  /** `tracker` counts this writer's produce calls with the container's others (back-pressure). */
  constructor(
    producer: ChangelogProducer,
    topic: string,
    partition: number,
    tracker?: SendTracker,
  ) {
    this.#producer = producer;
    this.#topic = topic;
    this.#partition = partition;
    this.#tracker = tracker;
  }

  append(key: Buffer, value: Buffer | null): void {
    // The store layers may keep these buffers, so copy nothing: the producer encodes them on send.
    this.#chunk.push({ key, value, partition: this.#partition });
    if (this.#chunk.length >= SEND_CHUNK) this.#send();
  }

  /**
   * Resolves when the changes appended before the call are acknowledged, with the offset of the
   * last of them (appends made meanwhile belong to the next flush).
   */
  async flush(): Promise<ChangelogOffset | null> {
    this.#send();
    const pending = this.#inFlight;
    this.#inFlight = [];
    let last: ChangelogOffset | null = null;
    for (const p of pending) {
      try {
        const metas = await p;
        const meta = metas[metas.length - 1];
        if (meta !== undefined && meta.offset >= 0) last = meta.offset;
      } catch (error) {
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
      }
    }
    if (this.#failure !== undefined) throw this.#failure;
    // Flushes run one at a time (commits are serialized), so the last offset seen is this one's.
    if (last !== null) this.#lastOffset = last;
    return this.#lastOffset;
  }

  #send(): void {
    if (this.#chunk.length === 0) return;
    const records = this.#chunk;
    this.#chunk = [];
    const sent = this.#producer.send(this.#topic, records);
    this.#tracker?.add(sent);
    // Observed here so an unawaited failure is never an unhandled rejection; flush reports it.
    sent.catch(() => {});
    this.#inFlight.push(sent);
  }
}

/** Reads one changelog partition with a consumer of its own (no group). */
export class ConsumerChangelogReader implements ChangelogReader {
  readonly #client: ClientOptions;
  readonly #admin: Admin;
  readonly #topic: string;
  readonly #partition: number;
  readonly #skipKeyless: boolean;

  /**
   * `skipKeyless`: leave out records without a key (reading a table's source topic, where such
   * records change nothing; a changelog has none).
   */
  constructor(
    client: ClientOptions,
    admin: Admin,
    topic: string,
    partition: number,
    options: { skipKeyless?: boolean } = {},
  ) {
    this.#client = client;
    this.#admin = admin;
    this.#topic = topic;
    this.#partition = partition;
    this.#skipKeyless = options.skipKeyless ?? false;
  }

  async endOffset(): Promise<number> {
    const tp = { topic: this.#topic, partition: this.#partition };
    const found = await this.#admin.listOffsets([tp], -1);
    return found.values().next().value ?? 0;
  }

  async *readFrom(from: number): AsyncIterable<ChangelogRecord> {
    const end = await this.endOffset();
    if (from >= end) return;
    const tp = { topic: this.#topic, partition: this.#partition };
    const consumer = new Consumer({ ...this.#client, fetchMaxWaitMs: 100 });
    try {
      consumer.assign([tp]);
      consumer.seek(tp, Math.max(0, from));
      let position = from;
      while (position < end) {
        const batch = await consumer.poll(1000);
        if (batch === undefined) {
          // Empty fetches (offsets compacted away) move the position without a batch.
          position = consumer.position(tp) ?? position;
          continue;
        }
        for (const record of batch) {
          if (record.offset < from) continue;
          if (record.offset >= end) break;
          if (record.key === null && this.#skipKeyless) continue;
          // The batch's buffers are views into a fetch response that the consumer may reuse:
          // copy what the store keeps.
          yield {
            offset: record.offset,
            key: Buffer.from(record.key ?? Buffer.alloc(0)),
            value: record.value === null ? null : Buffer.from(record.value),
          };
        }
        position = batch.nextOffset;
      }
    } finally {
      await consumer.close();
    }
  }
}
