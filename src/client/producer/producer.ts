/**
 * The producer: records are appended into per-partition batches (batchSize, lingerMs), a sender
 * drains ready batches into one Produce request per leader (at most `maxInFlightRequests` per
 * broker), retries retriable errors with backoff after refreshing metadata, and keeps order
 * across retries. Idempotence (producer id, epoch, per-partition sequences) is on by default.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { ApiMessages, Complete } from '../../protocol/generated/index.js';
import type { CompressionType } from '../../protocol/record-batch/header.js';
import { Cluster } from '../cluster.js';
import type { Connection } from '../connection.js';
import { ClientClosedError, ConnectionError, TimeoutError } from '../errors.js';
import { BatchBuilder, type Bytes, type ProducerHeader } from './batch-builder.js';
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
import { CallWaiter, type SendCall } from './send-call.js';

export type { Bytes, ProducerHeader };
export type {
  CompressionOption,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
} from './options.js';

interface PartitionQueue {
  topic: string;
  partition: number;
  batches: BatchBuilder[];
  inFlight: number;
  nextSequence: number;
}

const RETRY_METADATA = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_ENOUGH_REPLICAS,
]);

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
  private readonly acks: number;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly compression: CompressionType;
  private readonly retries: number;
  private readonly retryBackoffMs: number;
  private readonly retryBackoffMaxMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly bufferMemory: number;
  private readonly maxBlockMs: number;
  private readonly maxRequestSize: number;
  private readonly requestTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly idempotenceOption: boolean | undefined;
  private readonly partitioner: Partitioner;
  private readonly queues = new Map<string, Map<number, PartitionQueue>>();
  private readonly inFlightByBroker = new Map<number, number>();
  private bufferedBytes = 0;
  private pendingBatches = 0;
  private readonly memoryWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private flushing = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  private drainTimerAt = 0;
  private drainImmediate: NodeJS.Immediate | undefined;
  private closed = false;
  private producerIdReady: Promise<void> | undefined;
  private epochBump: Promise<void> | undefined;
  /** -1 until InitProducerId answered, or when idempotence is off. */
  producerId = -1;
  producerEpoch = -1;
  private idempotent = false;

  constructor(options: ProducerOptions = {}) {
    this.cluster = new Cluster(options);
    this.cluster.allowAutoTopicCreation = true;
    const acks = options.acks ?? 'all';
    this.acks = acks === 'all' ? -1 : acks;
    if (![0, 1, -1].includes(this.acks))
      throw new TypeError(`acks must be 0, 1, -1 or 'all', not ${String(acks)}`);
    if (options.idempotent === true && this.acks !== -1) {
      throw new TypeError(
        "idempotence needs acks 'all' (-1): set acks to 'all' or idempotent to false",
      );
    }
    this.idempotenceOption = options.idempotent;
    this.batchSize = options.batchSize ?? DEFAULTS.batchSize;
    this.lingerMs = options.lingerMs ?? DEFAULTS.lingerMs;
    this.compression = toCompression(options.compression);
    this.retries = options.retries ?? Number.POSITIVE_INFINITY;
    this.retryBackoffMs = options.retryBackoffMs ?? DEFAULTS.retryBackoffMs;
    this.retryBackoffMaxMs = options.retryBackoffMaxMs ?? DEFAULTS.retryBackoffMaxMs;
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? DEFAULTS.deliveryTimeoutMs;
    this.bufferMemory = options.bufferMemory ?? DEFAULTS.bufferMemory;
    this.maxBlockMs = options.maxBlockMs ?? DEFAULTS.maxBlockMs;
    this.maxRequestSize = options.maxRequestSize ?? DEFAULTS.maxRequestSize;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    this.maxInFlight = options.maxInFlightRequests ?? 5;
    this.partitioner = options.partitioner ?? new DefaultPartitioner();
  }

  /** True once idempotence is active (after the first send negotiated a producer id). */
  get isIdempotent(): boolean {
    return this.idempotent;
  }

  /** Bytes currently held in batches. */
  get bufferedBytesNow(): number {
    return this.bufferedBytes;
  }

  /** Connects and, when idempotent, obtains a producer id. Optional: `send` does it on demand. */
  async connect(): Promise<void> {
    await this.ensureProducerId();
  }

  private ensureProducerId(): Promise<void> {
    this.producerIdReady ??= this.initProducerId().catch((err: unknown) => {
      this.producerIdReady = undefined;
      throw err;
    });
    return this.producerIdReady;
  }

  private async initProducerId(): Promise<void> {
    if (this.idempotenceOption === false || this.acks !== -1) return;
    const conn = await this.cluster.any();
    if (!conn.supports(22)) {
      if (this.idempotenceOption === true) {
        throw new KafkaError(
          ErrorCode.UNSUPPORTED_VERSION,
          `(the broker at ${conn.address} does not serve InitProducerId, so idempotence is unavailable; set idempotent: false)`,
        );
      }
      return;
    }
    await this.requestProducerId(conn);
    this.idempotent = true;
  }

  private async requestProducerId(conn: Connection): Promise<void> {
    const deadline = Date.now() + this.maxBlockMs;
    let delay = this.retryBackoffMs;
    for (;;) {
      const bump = this.producerId >= 0 && conn.versionFor(22) >= 3;
      const res = await conn.request(22, {
        transactionalId: null,
        transactionTimeoutMs: 60000,
        producerId: bump ? BigInt(this.producerId) : -1n,
        producerEpoch: bump ? this.producerEpoch : -1,
      });
      if (res.errorCode === 0) {
        this.producerId = Number(res.producerId);
        this.producerEpoch = res.producerEpoch;
        return;
      }
      const err = new KafkaError(res.errorCode, '(InitProducerId)');
      if (!err.retriable || Date.now() + delay > deadline) throw err;
      await sleep(delay);
      delay = Math.min(delay * 2, this.retryBackoffMaxMs);
    }
  }

  /**
   * Sends records to `topic`. Resolves, once every record is acknowledged, with where each one
   * landed (in the order given). Waits while the buffer is full (up to maxBlockMs).
   */
  async send(
    topic: string,
    records: ProducerRecord | readonly ProducerRecord[],
  ): Promise<RecordMetadata[]> {
    if (this.closed) throw new ClientClosedError('producer');
    const list = Array.isArray(records)
      ? (records as readonly ProducerRecord[])
      : [records as ProducerRecord];
    if (list.length === 0) return [];
    if (this.producerIdReady === undefined || this.producerId < 0) await this.ensureProducerId();
    this.cluster.refreshIfStale();
    let info = this.cluster.topics.get(topic);
    if (!info || info.partitions.length === 0)
      info = await this.cluster.waitForTopic(topic, this.maxBlockMs);
    if (this.bufferedBytes >= this.bufferMemory) await this.waitForMemory();
    if (this.closed) throw new ClientClosedError('producer');
    const numPartitions = info.partitions.length;
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const call: SendCall = {
        topic,
        results: new Array(list.length),
        records: list,
        now: Date.now(),
        remaining: list.length,
        resolve,
        reject,
        failed: false,
      };
      const now = call.now;
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
        const ts = r.timestamp ?? now;
        this.append(
          call,
          i,
          topic,
          partition,
          numPartitions,
          key,
          r.value ?? null,
          toHeaders(r.headers),
          ts,
          now,
        );
      }
      this.scheduleDrain();
    });
  }

  private queue(topic: string, partition: number): PartitionQueue {
    let t = this.queues.get(topic);
    if (!t) {
      t = new Map();
      this.queues.set(topic, t);
    }
    let q = t.get(partition);
    if (!q) {
      q = { topic, partition, batches: [], inFlight: 0, nextSequence: 0 };
      t.set(partition, q);
    }
    return q;
  }

  private append(
    call: SendCall,
    index: number,
    topic: string,
    partition: number,
    numPartitions: number,
    key: Bytes,
    value: Bytes,
    headers: ProducerHeader[] | undefined,
    timestamp: number,
    now: number,
  ): void {
    const q = this.queue(topic, partition);
    let batch = q.batches.length > 0 ? q.batches[q.batches.length - 1] : undefined;
    if (!batch || batch.isClosed || !batch.tryAppend(key, value, headers, timestamp)) {
      if (batch && !batch.isClosed) {
        batch.close();
        this.partitioner.onNewBatch?.(topic, partition, numPartitions);
      }
      batch = new BatchBuilder(topic, partition, this.batchSize, now);
      batch.tryAppend(key, value, headers, timestamp);
      q.batches.push(batch);
      this.pendingBatches++;
      this.bufferedBytes += batch.capacity;
      if (batch.sizeInBytes >= this.batchSize) batch.close();
    } else if (batch.sizeInBytes >= this.batchSize) {
      batch.close();
    }
    const waiters = batch.waiters;
    const last = waiters.length > 0 ? waiters[waiters.length - 1] : undefined;
    if (last && (last as CallWaiter).call === call && last.callIndex + last.count === index) {
      last.count++;
    } else {
      waiters.push(new CallWaiter(call, batch.count - 1, index));
    }
  }

  private waitForMemory(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.memoryWaiters.indexOf(wake);
        if (i >= 0) this.memoryWaiters.splice(i, 1);
        reject(
          new TimeoutError(
            `the producer's buffer (${this.bufferMemory} bytes) stayed full for ${this.maxBlockMs} ms: the broker is not keeping up or unreachable; raise bufferMemory or maxBlockMs, or send less`,
          ),
        );
      }, this.maxBlockMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.memoryWaiters.push(wake);
    });
  }

  private release(batch: BatchBuilder): void {
    this.bufferedBytes -= batch.capacity;
    this.pendingBatches--;
    while (this.memoryWaiters.length > 0 && this.bufferedBytes < this.bufferMemory) {
      this.memoryWaiters.shift()?.();
    }
    if (this.pendingBatches === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private scheduleDrain(delayMs = 0): void {
    if (this.closed && this.pendingBatches === 0) return;
    if (delayMs <= 0) {
      this.drainImmediate ??= setImmediate(() => {
        this.drainImmediate = undefined;
        this.drain();
      });
      return;
    }
    const at = Date.now() + delayMs;
    if (this.drainTimer && this.drainTimerAt <= at) return;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimerAt = at;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      this.drain();
    }, delayMs);
  }

  /** Sends every ready batch its broker has room for; schedules the next look. */
  private drain(): void {
    const now = Date.now();
    let nextWake = Number.POSITIVE_INFINITY;
    const byBroker = new Map<number, { q: PartitionQueue; batch: BatchBuilder }[]>();
    let needMetadata = false;
    for (const t of this.queues.values()) {
      for (const q of t.values()) {
        const batch = q.batches[0];
        if (!batch) continue;
        if (now - batch.createdAt > this.deliveryTimeoutMs && !batch.built) {
          q.batches.shift();
          this.fail(
            batch,
            new TimeoutError(
              `records for ${q.topic}-${q.partition} expired after ${this.deliveryTimeoutMs} ms without being sent (deliveryTimeoutMs)`,
            ),
          );
          nextWake = now;
          continue;
        }
        const ready =
          batch.isClosed ||
          this.flushing > 0 ||
          this.closed ||
          now - batch.createdAt >= this.lingerMs;
        if (!ready) {
          nextWake = Math.min(nextWake, batch.createdAt + this.lingerMs);
          continue;
        }
        if (batch.retryAt > now) {
          nextWake = Math.min(nextWake, batch.retryAt);
          continue;
        }
        // A retried batch goes alone, so that nothing overtakes it.
        if (batch.built && q.inFlight > 0) continue;
        if (this.idempotent && q.inFlight >= this.maxInFlight) continue;
        const leader = this.cluster.leaderOf(q.topic, q.partition);
        if (leader < 0) {
          needMetadata = true;
          nextWake = Math.min(nextWake, now + this.retryBackoffMs);
          continue;
        }
        let list = byBroker.get(leader);
        if (!list) {
          list = [];
          byBroker.set(leader, list);
        }
        list.push({ q, batch });
      }
    }
    if (needMetadata) this.refreshMetadataSoon();
    for (const [broker, list] of byBroker) {
      if ((this.inFlightByBroker.get(broker) ?? 0) >= this.maxInFlight) continue;
      let size = 0;
      const chosen: { q: PartitionQueue; batch: BatchBuilder }[] = [];
      for (const item of list) {
        const bytes = item.batch.sizeInBytes;
        if (chosen.length > 0 && size + bytes > this.maxRequestSize) {
          nextWake = now;
          break;
        }
        size += bytes;
        chosen.push(item);
      }
      this.sendTo(broker, chosen);
    }
    if (nextWake !== Number.POSITIVE_INFINITY)
      this.scheduleDrain(Math.max(0, nextWake - Date.now()));
  }

  private metadataRefresh: Promise<unknown> | undefined;
  private refreshMetadataSoon(): void {
    this.metadataRefresh ??= this.cluster
      .refreshMetadata()
      .catch(() => undefined)
      .finally(() => {
        this.metadataRefresh = undefined;
        this.scheduleDrain();
      });
  }

  private sendTo(broker: number, items: { q: PartitionQueue; batch: BatchBuilder }[]): void {
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    for (const { q, batch } of items) {
      q.batches.shift();
      if (!batch.built) {
        let seq = -1;
        if (this.idempotent) {
          seq = q.nextSequence;
          q.nextSequence = (q.nextSequence + batch.count) | 0;
          if (q.nextSequence < 0) q.nextSequence = 0;
        }
        batch.build(
          this.idempotent ? this.producerId : -1,
          this.idempotent ? this.producerEpoch : -1,
          seq,
          this.compression,
        );
      }
      batch.attempts++;
      q.inFlight++;
      let parts = topics.get(q.topic);
      if (!parts) {
        parts = [];
        topics.set(q.topic, parts);
      }
      parts.push({ index: q.partition, records: batch.built as Buffer });
    }
    this.inFlightByBroker.set(broker, (this.inFlightByBroker.get(broker) ?? 0) + 1);
    const request: ApiMessages[0]['request'] = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.requestTimeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    const done = (): void => {
      this.inFlightByBroker.set(broker, (this.inFlightByBroker.get(broker) ?? 1) - 1);
      for (const { q } of items) q.inFlight--;
    };
    this.cluster
      .broker(broker)
      .then((conn) =>
        conn.request(
          0,
          request,
          this.acks === 0 ? { expectResponse: false } : { timeoutMs: this.requestTimeoutMs + 5000 },
        ),
      )
      .then(
        (res) => {
          done();
          this.onResponse(items, res as Complete<ApiMessages[0]['response']> | undefined);
          this.scheduleDrain();
        },
        (err: unknown) => {
          done();
          const e = err instanceof Error ? err : new Error(String(err));
          for (const { q, batch } of items) this.retryOrFail(q, batch, e, true);
          this.refreshMetadataSoon();
          this.scheduleDrain();
        },
      );
  }

  private onResponse(
    items: { q: PartitionQueue; batch: BatchBuilder }[],
    res: Complete<ApiMessages[0]['response']> | undefined,
  ): void {
    if (res === undefined) {
      // acks=0: nothing comes back; the records count as sent.
      for (const { batch } of items) this.succeed(batch, -1, -1);
      return;
    }
    const byKey = new Map<
      string,
      Complete<ApiMessages[0]['response']>['responses'][number]['partitionResponses'][number]
    >();
    for (const t of res.responses)
      for (const p of t.partitionResponses) byKey.set(`${t.name}\0${p.index}`, p);
    let refresh = false;
    for (const { q, batch } of items) {
      const p = byKey.get(`${q.topic}\0${q.partition}`);
      if (!p) {
        this.retryOrFail(
          q,
          batch,
          new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, '(no response for the partition)'),
          false,
        );
        continue;
      }
      const code = p.errorCode;
      if (code === 0 || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
        this.succeed(batch, Number(p.baseOffset), Number(p.logAppendTimeMs));
        continue;
      }
      if (RETRY_METADATA.has(code)) refresh = true;
      const err = new KafkaError(
        code,
        p.errorMessage ? `(${p.errorMessage})` : `(${q.topic}-${q.partition})`,
      );
      if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && this.earlierPending(q, batch)) {
        // A batch before this one failed and is being retried: this one follows it.
        this.requeue(q, batch);
        continue;
      }
      if (
        code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER ||
        code === ErrorCode.UNKNOWN_PRODUCER_ID
      ) {
        this.fail(batch, err);
        this.bumpEpoch();
        continue;
      }
      this.retryOrFail(q, batch, err, err.retriable);
    }
    if (refresh) this.refreshMetadataSoon();
  }

  private earlierPending(q: PartitionQueue, batch: BatchBuilder): boolean {
    return q.batches.some((b) => b.built !== undefined && b.baseSequence < batch.baseSequence);
  }

  private succeed(batch: BatchBuilder, baseOffset: number, logAppendTime: number): void {
    batch.complete(baseOffset, logAppendTime);
    this.release(batch);
  }

  private fail(batch: BatchBuilder, err: Error): void {
    batch.complete(-1, -1, err);
    this.release(batch);
  }

  private retryOrFail(
    q: PartitionQueue,
    batch: BatchBuilder,
    err: Error,
    retriable: boolean,
  ): void {
    const expired = Date.now() - batch.createdAt > this.deliveryTimeoutMs;
    if (
      !retriable ||
      this.closedHard ||
      batch.attempts > this.retries ||
      expired ||
      this.acks === 0
    ) {
      this.fail(
        batch,
        expired && retriable
          ? new TimeoutError(
              `records for ${q.topic}-${q.partition} not acknowledged within deliveryTimeoutMs (${this.deliveryTimeoutMs} ms); last error: ${err.message}`,
              { cause: err },
            )
          : err,
      );
      return;
    }
    this.requeue(q, batch);
  }

  /** Puts a sent batch back at its place (by sequence) in the partition's queue. */
  private requeue(q: PartitionQueue, batch: BatchBuilder): void {
    const backoff = Math.min(
      this.retryBackoffMs * 2 ** Math.max(0, batch.attempts - 1),
      this.retryBackoffMaxMs,
    );
    batch.retryAt = Date.now() + backoff * (0.8 + Math.random() * 0.4);
    let i = 0;
    while (
      i < q.batches.length &&
      q.batches[i].built &&
      q.batches[i].baseSequence < batch.baseSequence
    )
      i++;
    q.batches.splice(i, 0, batch);
  }

  /**
   * After the broker lost track of this producer's sequences: a new epoch (or id), sequences from
   * zero, and batches not yet sent rebuilt with them.
   */
  private bumpEpoch(): void {
    if (!this.idempotent || this.epochBump) return;
    this.epochBump = (async () => {
      try {
        const conn = await this.cluster.any();
        await this.requestProducerId(conn);
        for (const t of this.queues.values()) {
          for (const q of t.values()) {
            q.nextSequence = 0;
            for (const b of q.batches) b.unbuild();
          }
        }
      } catch {
        // Left as is: the next batches fail with the broker's error and bump again.
      } finally {
        this.epochBump = undefined;
        this.scheduleDrain();
      }
    })();
  }

  /** Sends every buffered record now and resolves when all are acknowledged (or failed). */
  async flush(): Promise<void> {
    if (this.pendingBatches === 0) return;
    this.flushing++;
    try {
      for (const t of this.queues.values())
        for (const q of t.values()) for (const b of q.batches) b.close();
      this.scheduleDrain();
      await new Promise<void>((resolve) => {
        if (this.pendingBatches === 0) resolve();
        else this.idleWaiters.push(resolve);
      });
    } finally {
      this.flushing--;
    }
  }

  private closedHard = false;

  /** Flushes, then closes the connections. Sends after this fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      this.closedHard = true;
      if (this.drainTimer) clearTimeout(this.drainTimer);
      if (this.drainImmediate) clearImmediate(this.drainImmediate);
      for (const w of this.memoryWaiters.splice(0)) w();
      await this.cluster.close();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { ConnectionError };
