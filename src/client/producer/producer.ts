/**
 * The producer: `send` partitions records and appends them into per-partition batches
 * ({@link RecordAccumulator}: batchSize, lingerMs, bufferMemory); the {@link Sender} drains ready
 * batches into one Produce request per leader (at most `maxInFlightRequests` per broker),
 * retries retriable errors with backoff after refreshing metadata, and keeps order across
 * retries. Idempotence ({@link ProducerIdentity}: producer id, epoch, per-partition sequences) is
 * on by default.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { Cluster } from '../cluster.js';
import { ClientClosedError, ConnectionError } from '../errors.js';
import { RecordAccumulator } from './accumulator.js';
import type { Bytes, ProducerHeader } from './batch-builder.js';
import { ProducerIdentity } from './idempotence.js';
import {
  DEFAULTS,
  keyBytes,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
  toCompression,
  toHeaders,
} from './options.js';
import { DefaultPartitioner, type Partitioner } from './partitioner.js';
import type { SendCall } from './send-call.js';
import { Sender } from './sender.js';

export type { Bytes, ProducerHeader };
export type {
  CompressionOption,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
} from './options.js';

const NO_RECORDS: readonly ProducerRecord[] = Object.freeze([]);

/**
 * A Kafka producer.
 *
 * ```ts
 * const producer = new Producer({ bootstrapServers: 'localhost:9092' });
 * const [meta] = await producer.send('events', [{ key: 'user-1', value: 'clicked' }]);
 * await producer.close();
 * ```
 */
export class Producer {
  readonly cluster: Cluster;
  private readonly maxBlockMs: number;
  private readonly partitioner: Partitioner;
  private readonly accumulator: RecordAccumulator;
  private readonly identity: ProducerIdentity;
  private readonly sender: Sender;
  private closed = false;

  constructor(options: ProducerOptions = {}) {
    this.cluster = new Cluster(options);
    this.cluster.allowAutoTopicCreation = true;
    const acksOption = options.acks ?? 'all';
    const acks = acksOption === 'all' ? -1 : acksOption;
    if (![0, 1, -1].includes(acks))
      throw new TypeError(`acks must be 0, 1, -1 or 'all', not ${String(acksOption)}`);
    if (options.idempotent === true && acks !== -1) {
      throw new TypeError(
        "idempotence needs acks 'all' (-1): set acks to 'all' or idempotent to false",
      );
    }
    this.maxBlockMs = options.maxBlockMs ?? DEFAULTS.maxBlockMs;
    this.partitioner = options.partitioner ?? new DefaultPartitioner();
    const retryBackoffMs = options.retryBackoffMs ?? DEFAULTS.retryBackoffMs;
    const retryBackoffMaxMs = options.retryBackoffMaxMs ?? DEFAULTS.retryBackoffMaxMs;
    this.accumulator = new RecordAccumulator({
      batchSize: options.batchSize ?? DEFAULTS.batchSize,
      bufferMemory: options.bufferMemory ?? DEFAULTS.bufferMemory,
      maxBlockMs: this.maxBlockMs,
      partitioner: this.partitioner,
    });
    this.identity = new ProducerIdentity(this.cluster, {
      idempotent: options.idempotent,
      acks,
      maxBlockMs: this.maxBlockMs,
      retryBackoffMs,
      retryBackoffMaxMs,
    });
    this.sender = new Sender(this.cluster, this.accumulator, this.identity, {
      acks,
      lingerMs: options.lingerMs ?? DEFAULTS.lingerMs,
      compression: toCompression(options.compression),
      retries: options.retries ?? Number.POSITIVE_INFINITY,
      retryBackoffMs,
      retryBackoffMaxMs,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? DEFAULTS.deliveryTimeoutMs,
      maxRequestSize: options.maxRequestSize ?? DEFAULTS.maxRequestSize,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      maxInFlight: options.maxInFlightRequests ?? 5,
    });
  }

  /** True once idempotence is active (after the first send negotiated a producer id). */
  get isIdempotent(): boolean {
    return this.identity.isActive;
  }

  /** The producer id (-1 until InitProducerId answered, or when idempotence is off). */
  get producerId(): number {
    return this.identity.producerId;
  }

  /** The producer epoch (-1 without idempotence). */
  get producerEpoch(): number {
    return this.identity.producerEpoch;
  }

  /** Bytes currently held in batches. */
  get bufferedBytesNow(): number {
    return this.accumulator.bufferedBytes;
  }

  /** Connects and, when idempotent, obtains a producer id. Optional: `send` does it on demand. */
  async connect(): Promise<void> {
    await this.identity.ensure();
  }

  /**
   * Sends records to `topic`. Resolves, once every record is acknowledged, with where each one
   * landed (in the order given). Waits while the buffer is full (up to maxBlockMs).
   */
  async send(
    topic: string,
    records: ProducerRecord | readonly ProducerRecord[],
  ): Promise<RecordMetadata[]> {
    const list = Array.isArray(records)
      ? (records as readonly ProducerRecord[])
      : [records as ProducerRecord];
    if (list.length === 0) {
      if (this.closed) throw new ClientClosedError('producer');
      return [];
    }
    const results = new Array<RecordMetadata>(list.length);
    await this.#enqueue(topic, list, results);
    return results;
  }

  /**
   * Like {@link Producer.send}, but resolves with nothing once every record is acknowledged:
   * no metadata object is made per record, for callers that only need the acknowledgement
   * (a stream job's outputs and changelogs).
   */
  sendWithoutMetadata(topic: string, records: readonly ProducerRecord[]): Promise<void> {
    // Not async, and the records are not held while the acknowledgement is awaited: once
    // written into their batches they are garbage, young, instead of surviving to old space
    // with every view (and fetched buffer) they point at.
    if (records.length > 0) return this.#enqueue(topic, records, undefined);
    return this.closed ? Promise.reject(new ClientClosedError('producer')) : Promise.resolve();
  }

  /**
   * Appends `list` to its partitions' batches; resolves once all are acknowledged, having filled
   * `results` (when given) with where each record landed.
   */
  async #enqueue(
    topic: string,
    list: readonly ProducerRecord[],
    results: RecordMetadata[] | undefined,
  ): Promise<void> {
    if (this.closed) throw new ClientClosedError('producer');
    if (!this.identity.isSettled) await this.identity.ensure();
    this.cluster.refreshIfStale();
    let info = this.cluster.topics.get(topic);
    if (!info || info.partitions.length === 0)
      info = await this.cluster.waitForTopic(topic, this.maxBlockMs);
    if (this.accumulator.isFull) await this.accumulator.waitForMemory();
    if (this.closed) throw new ClientClosedError('producer');
    const numPartitions = info.partitions.length;
    return new Promise<void>((resolve, reject) => {
      const call: SendCall = {
        topic,
        results,
        // Kept only for the metadata's timestamps: without metadata the records can go as soon
        // as they are written into their batches.
        records: results === undefined ? NO_RECORDS : list,
        now: Date.now(),
        remaining: list.length,
        resolve,
        reject,
        failed: false,
      };
      for (let i = 0; i < list.length; i++) {
        const r = list[i];
        const key = r.key ?? null;
        let partition = r.partition;
        if (partition === undefined) {
          partition = this.partitioner.partition(
            topic,
            typeof key === 'string' ? keyBytes(key) : key,
            numPartitions,
          );
        } else if (!Number.isInteger(partition) || partition < 0 || partition >= numPartitions) {
          call.remaining -= list.length - i;
          call.failed = true;
          reject(
            new KafkaError(
              ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              `(partition ${partition} of "${topic}", which has ${numPartitions})`,
            ),
          );
          return;
        }
        this.accumulator.append(
          call,
          i,
          partition,
          numPartitions,
          key,
          r.value ?? null,
          toHeaders(r.headers),
          r.timestamp ?? call.now,
        );
      }
      this.sender.schedule();
    });
  }

  /** Sends every buffered record now and resolves when all are acknowledged (or failed). */
  async flush(): Promise<void> {
    if (this.accumulator.pendingBatches === 0) return;
    this.sender.flushing++;
    try {
      this.accumulator.closeAll();
      this.sender.schedule();
      await this.accumulator.whenEmpty();
    } finally {
      this.sender.flushing--;
    }
  }

  /** Flushes, then closes the connections. Sends after this fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sender.closing = true;
    try {
      await this.flush();
    } finally {
      this.sender.stopped = true;
      this.sender.cancel();
      this.accumulator.wakeAll();
      await this.cluster.close();
    }
  }
}

export { ConnectionError };
