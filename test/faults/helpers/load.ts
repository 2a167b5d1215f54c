/**
 * Client load for fault scenarios: idempotent acks=all producers writing numbered records to
 * every partition (each acknowledgement noted in an {@link AckLedger}), and a consumer group that
 * reads and commits as it goes (each acknowledged commit noted). Both survive the broker going
 * away: the producer retries on its own; the consumer is rebuilt after an error.
 */
import { Consumer, Producer, type ProducerOptions } from '../../../src/client/index.js';
import { type AckLedger, recordValue } from './ledger.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ProducerLoadOptions {
  bootstrap: string;
  topic: string;
  partitions: number;
  producers: number;
  /** Records per partition in each send call. */
  recordsPerPartition: number;
  /** Pause between a producer's send calls, to bound the data a scenario must check. */
  pauseMs?: number;
  /** Value padding, so that segments fill (bytes). */
  padding?: number;
  producerOptions?: Partial<ProducerOptions>;
}

/** N producers, each a loop of awaited `send` calls covering every partition. */
export class ProducerLoad {
  readonly #options: ProducerLoadOptions;
  readonly #ledger: AckLedger;
  #running = false;
  #loops: Promise<void>[] = [];
  readonly #producers: Producer[] = [];
  sendsAcked = 0;
  sendsFailed = 0;
  readonly failures: string[] = [];

  constructor(options: ProducerLoadOptions, ledger: AckLedger) {
    this.#options = options;
    this.#ledger = ledger;
  }

  start(): void {
    const o = this.#options;
    this.#running = true;
    for (let i = 0; i < o.producers; i++) {
      const producer = new Producer({
        bootstrapServers: o.bootstrap,
        acks: 'all',
        idempotent: true,
        retryBackoffMs: 50,
        retryBackoffMaxMs: 500,
        requestTimeoutMs: 10000,
        ...o.producerOptions,
      });
      this.#producers.push(producer);
      this.#loops.push(this.#loop(i, producer));
    }
  }

  async #loop(id: number, producer: Producer): Promise<void> {
    const o = this.#options;
    const pad = o.padding ? `|${'x'.repeat(o.padding)}` : '';
    const seq = new Array<number>(o.partitions).fill(0);
    while (this.#running) {
      const records = [];
      const values: string[] = [];
      for (let p = 0; p < o.partitions; p++) {
        for (let r = 0; r < o.recordsPerPartition; r++) {
          const value = recordValue(id, p, seq[p]++);
          values.push(value);
          records.push({ partition: p, key: `producer-${id}`, value: value + pad });
        }
      }
      try {
        const metas = await producer.send(o.topic, records);
        for (let i = 0; i < metas.length; i++)
          this.#ledger.ack(metas[i].partition, metas[i].offset, values[i]);
        this.sendsAcked++;
      } catch (err) {
        this.sendsFailed++;
        if (this.failures.length < 10) this.failures.push(String(err));
      }
      if (o.pauseMs) await pause(o.pauseMs);
    }
  }

  /** Stops issuing sends and waits for every send in flight to settle; closes the producers. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    await Promise.all(this.#producers.map((p) => p.close().catch(() => undefined)));
  }
}

export interface CommitLoadOptions {
  bootstrap: string;
  groupId: string;
  topic: string;
  partitions: number;
}

/**
 * A consumer of group `groupId` (manual assignment of every partition, so that broker restarts
 * do not turn into rebalances) that commits its position after each batch and records every
 * commit the coordinator acknowledged.
 */
export class CommittingConsumer {
  readonly #options: CommitLoadOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  /** partition → the highest offset whose commit was acknowledged. */
  readonly committed = new Map<number, number>();
  commits = 0;
  errors = 0;
  /** The first few distinct errors that made the consumer start over (for the figures). */
  readonly errorSamples: string[] = [];
  recordsRead = 0;

  constructor(options: CommitLoadOptions) {
    this.#options = options;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const o = this.#options;
    while (this.#running) {
      const consumer = new Consumer({
        bootstrapServers: o.bootstrap,
        groupId: o.groupId,
        autoOffsetReset: 'earliest',
        enableAutoCommit: false,
        requestTimeoutMs: 5000,
      });
      const tps = Array.from({ length: o.partitions }, (_, p) => ({
        topic: o.topic,
        partition: p,
      }));
      try {
        consumer.assign(tps);
        while (this.#running) {
          const batch = await consumer.poll(200);
          if (!batch) continue;
          for (const _ of batch) this.recordsRead++;
          consumer.markProcessed(batch);
          const offsets = tps
            .map((tp) => ({ ...tp, offset: consumer.position(tp) ?? -1 }))
            .filter((x) => x.offset >= 0);
          await consumer.commitSync(offsets);
          this.commits++;
          for (const x of offsets) {
            if (x.offset > (this.committed.get(x.partition) ?? -1))
              this.committed.set(x.partition, x.offset);
          }
        }
      } catch (err) {
        this.errors++;
        const text = String(err);
        if (this.errorSamples.length < 5 && !this.errorSamples.includes(text))
          this.errorSamples.push(text);
        await pause(200);
      } finally {
        await consumer.close().catch(() => undefined);
      }
    }
  }

  /** A copy of the acknowledged commits so far. */
  snapshot(): Map<number, number> {
    return new Map(this.committed);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}
