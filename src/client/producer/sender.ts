/**
 * The producer's sender: drains ready batches (full, lingered, or flushed) into one Produce
 * request per leader, at most `maxInFlight` per broker, and settles them from the response:
 * success, retry after a backoff at the batch's place by sequence (metadata refreshed first for
 * leadership errors), or failure. A retried batch goes alone, so that order holds.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { ApiMessages, Complete } from '../../protocol/generated/index.js';
import type { CompressionType } from '../../protocol/record-batch/header.js';
import type { Cluster } from '../cluster.js';
import { TimeoutError } from '../errors.js';
import type { PartitionQueue, RecordAccumulator } from './accumulator.js';
import type { BatchBuilder } from './batch-builder.js';
import type { ProducerIdentity } from './idempotence.js';

/** Partition errors after which the leader may have moved: metadata is refreshed. */
const RETRY_METADATA = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_ENOUGH_REPLICAS,
]);

/** Sender settings (the producer's, resolved to numbers). */
export interface SenderOptions {
  readonly acks: number;
  readonly lingerMs: number;
  readonly compression: CompressionType;
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  readonly deliveryTimeoutMs: number;
  readonly maxRequestSize: number;
  readonly requestTimeoutMs: number;
  readonly maxInFlight: number;
}

type ProduceResponse = Complete<ApiMessages[0]['response']>;
type PartitionResponse = ProduceResponse['responses'][number]['partitionResponses'][number];
interface Item {
  q: PartitionQueue;
  batch: BatchBuilder;
}

export class Sender {
  /** Flushes in progress: while any, batches go without waiting for lingerMs. */
  flushing = 0;
  /** Set by close(): everything goes at once. */
  closing = false;
  /** Set once close() has flushed: nothing is retried any more. */
  stopped = false;
  private readonly inFlightByBroker = new Map<number, number>();
  private drainTimer: NodeJS.Timeout | undefined;
  private drainTimerAt = 0;
  private drainImmediate: NodeJS.Immediate | undefined;
  private metadataRefresh: Promise<unknown> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly accumulator: RecordAccumulator,
    private readonly identity: ProducerIdentity,
    private readonly options: SenderOptions,
  ) {}

  /** Looks for sendable batches now (delay 0) or after `delayMs`; calls are coalesced. */
  schedule(delayMs = 0): void {
    if (this.closing && this.accumulator.pendingBatches === 0) return;
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

  /** Cancels scheduled looks (close). */
  cancel(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.drainImmediate) clearImmediate(this.drainImmediate);
  }

  /** Sends every ready batch its broker has room for; schedules the next look. */
  private drain(): void {
    const o = this.options;
    const now = Date.now();
    let nextWake = Number.POSITIVE_INFINITY;
    const byBroker = new Map<number, Item[]>();
    let needMetadata = false;
    const sendNow = this.flushing > 0 || this.closing;
    for (const t of this.accumulator.queues.values()) {
      for (const q of t.values()) {
        const batch = q.batches[0];
        if (!batch) continue;
        if (now - batch.createdAt > o.deliveryTimeoutMs && !batch.built) {
          q.batches.shift();
          this.fail(
            batch,
            new TimeoutError(
              `records for ${q.topic}-${q.partition} expired after ${o.deliveryTimeoutMs} ms without being sent (deliveryTimeoutMs)`,
            ),
          );
          nextWake = now;
          continue;
        }
        const ready = batch.isClosed || sendNow || now - batch.createdAt >= o.lingerMs;
        if (!ready) {
          nextWake = Math.min(nextWake, batch.createdAt + o.lingerMs);
          continue;
        }
        if (batch.retryAt > now) {
          nextWake = Math.min(nextWake, batch.retryAt);
          continue;
        }
        // A retried batch goes alone, so that nothing overtakes it.
        if (batch.built && q.inFlight > 0) continue;
        if (this.identity.isActive && q.inFlight >= o.maxInFlight) continue;
        const leader = this.cluster.leaderOf(q.topic, q.partition);
        if (leader < 0) {
          needMetadata = true;
          nextWake = Math.min(nextWake, now + o.retryBackoffMs);
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
      if ((this.inFlightByBroker.get(broker) ?? 0) >= o.maxInFlight) continue;
      let size = 0;
      const chosen: Item[] = [];
      for (const item of list) {
        const bytes = item.batch.sizeInBytes;
        if (chosen.length > 0 && size + bytes > o.maxRequestSize) {
          nextWake = now;
          break;
        }
        size += bytes;
        chosen.push(item);
      }
      this.sendTo(broker, chosen);
    }
    if (nextWake !== Number.POSITIVE_INFINITY) this.schedule(Math.max(0, nextWake - Date.now()));
  }

  private refreshMetadataSoon(): void {
    this.metadataRefresh ??= this.cluster
      .refreshMetadata()
      .catch(() => undefined)
      .finally(() => {
        this.metadataRefresh = undefined;
        this.schedule();
      });
  }

  /** Builds the chosen batches (sequences assigned on first send) into one Produce request. */
  private sendTo(broker: number, items: Item[]): void {
    const o = this.options;
    const id = this.identity;
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    for (const { q, batch } of items) {
      q.batches.shift();
      if (!batch.built) {
        let seq = -1;
        if (id.isActive) {
          seq = q.nextSequence;
          q.nextSequence = (q.nextSequence + batch.count) | 0;
          if (q.nextSequence < 0) q.nextSequence = 0;
        }
        batch.build(
          id.isActive ? id.producerId : -1,
          id.isActive ? id.producerEpoch : -1,
          seq,
          o.compression,
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
      acks: o.acks,
      timeoutMs: o.requestTimeoutMs,
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
          o.acks === 0 ? { expectResponse: false } : { timeoutMs: o.requestTimeoutMs + 5000 },
        ),
      )
      .then(
        (res) => {
          done();
          this.onResponse(items, res as ProduceResponse | undefined);
          this.schedule();
        },
        (err: unknown) => {
          done();
          const e = err instanceof Error ? err : new Error(String(err));
          for (const { q, batch } of items) this.retryOrFail(q, batch, e, true);
          this.refreshMetadataSoon();
          this.schedule();
        },
      );
  }

  private onResponse(items: Item[], res: ProduceResponse | undefined): void {
    if (res === undefined) {
      // acks=0: nothing comes back; the records count as sent.
      for (const { batch } of items) this.succeed(batch, -1, -1);
      return;
    }
    const byKey = new Map<string, PartitionResponse>();
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
      if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && earlierPending(q, batch)) {
        // A batch before this one failed and is being retried: this one follows it.
        this.requeue(q, batch);
        continue;
      }
      if (
        code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER ||
        code === ErrorCode.UNKNOWN_PRODUCER_ID
      ) {
        this.fail(batch, err);
        this.identity.bump(
          () => this.accumulator.restartSequences(),
          () => this.schedule(),
        );
        continue;
      }
      this.retryOrFail(q, batch, err, err.retriable);
    }
    if (refresh) this.refreshMetadataSoon();
  }

  private succeed(batch: BatchBuilder, baseOffset: number, logAppendTime: number): void {
    batch.complete(baseOffset, logAppendTime);
    this.accumulator.release(batch);
  }

  private fail(batch: BatchBuilder, err: Error): void {
    batch.complete(-1, -1, err);
    this.accumulator.release(batch);
  }

  private retryOrFail(
    q: PartitionQueue,
    batch: BatchBuilder,
    err: Error,
    retriable: boolean,
  ): void {
    const o = this.options;
    const expired = Date.now() - batch.createdAt > o.deliveryTimeoutMs;
    if (!retriable || this.stopped || batch.attempts > o.retries || expired || o.acks === 0) {
      this.fail(
        batch,
        expired && retriable
          ? new TimeoutError(
              `records for ${q.topic}-${q.partition} not acknowledged within deliveryTimeoutMs (${o.deliveryTimeoutMs} ms); last error: ${err.message}`,
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
    const o = this.options;
    const backoff = Math.min(
      o.retryBackoffMs * 2 ** Math.max(0, batch.attempts - 1),
      o.retryBackoffMaxMs,
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
}

/** True when a batch sent before `batch` is waiting for its retry in the queue. */
function earlierPending(q: PartitionQueue, batch: BatchBuilder): boolean {
  return q.batches.some((b) => b.built !== undefined && b.baseSequence < batch.baseSequence);
}
