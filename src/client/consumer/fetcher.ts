/**
 * The consumer's fetcher: one Fetch in flight per partition leader (on a connection of its own,
 * so long polls never delay heartbeats), for every partition with room in its prefetch queue.
 * Responses become {@link ConsumerBatch}es of still-encoded records, one per partition.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { ApiMessages, Complete } from '../../protocol/generated/index.js';
import type { RecordBatch } from '../../protocol/record-batch/batch.js';
import { iterateRecordBatches } from '../../protocol/record-batch/batches.js';
import type { Cluster } from '../cluster.js';
import { ConnectionError } from '../errors.js';
import { ConsumerBatch } from './consumer-batch.js';
import { tpKey } from './offsets.js';

/** What the consumer knows about one assigned partition. */
export interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to hand to the user (null: to be reset). */
  position: number | null;
  /** Next offset to fetch. */
  fetchOffset: number | null;
  paused: boolean;
  /** Changes on every seek, pause or reassignment: fetches for an older epoch are dropped. */
  epoch: number;
  /** Batches fetched and not yet handed out. */
  queued: number;
  highWatermark: number;
  leaderEpoch: number;
}

/** The consumer side of the fetcher. */
export interface FetcherHost {
  partitions(): Iterable<PartitionState>;
  current(topic: string, partition: number): PartitionState | undefined;
  onBatch(batch: ConsumerBatch): void;
  onError(err: Error): void;
  onOutOfRange(state: PartitionState): void;
  isClosed(): boolean;
}

/** Fetch settings. */
export interface FetcherOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxPartitionBytes: number;
  requestTimeoutMs: number;
  prefetchBatches: number;
  isolationLevel: number;
}

type FetchResponse = Complete<ApiMessages[1]['response']>;
interface Requested {
  s: PartitionState;
  offset: number;
  epoch: number;
}

export class Fetcher {
  private readonly fetching = new Set<number>();

  constructor(
    private readonly cluster: Cluster,
    private readonly host: FetcherHost,
    private readonly options: FetcherOptions,
  ) {}

  /** Starts a fetch to every leader that has fetchable partitions and none in flight. */
  kick(): void {
    if (this.host.isClosed()) return;
    this.cluster.refreshIfStale();
    const byLeader = new Map<number, PartitionState[]>();
    let unknownLeader = false;
    for (const s of this.host.partitions()) {
      if (s.paused || s.fetchOffset === null || s.queued >= this.options.prefetchBatches) continue;
      const leader = this.cluster.leaderOf(s.topic, s.partition);
      if (leader < 0) {
        unknownLeader = true;
        continue;
      }
      if (this.fetching.has(leader)) continue;
      const l = byLeader.get(leader) ?? [];
      l.push(s);
      byLeader.set(leader, l);
    }
    if (unknownLeader) {
      void this.cluster.refreshMetadata().then(
        () => this.kick(),
        () => undefined,
      );
    }
    for (const [leader, states] of byLeader) this.fetchFrom(leader, states);
  }

  private fetchFrom(leader: number, states: PartitionState[]): void {
    this.fetching.add(leader);
    const o = this.options;
    const requested: Requested[] = states.map((s) => ({
      s,
      offset: s.fetchOffset as number,
      epoch: s.epoch,
    }));
    const byTopic = new Map<
      string,
      {
        partition: number;
        fetchOffset: bigint;
        partitionMaxBytes: number;
        currentLeaderEpoch: number;
      }[]
    >();
    for (const r of requested) {
      const l = byTopic.get(r.s.topic) ?? [];
      l.push({
        partition: r.s.partition,
        fetchOffset: BigInt(r.offset),
        partitionMaxBytes: o.maxPartitionBytes,
        currentLeaderEpoch: -1,
      });
      byTopic.set(r.s.topic, l);
    }
    void this.cluster
      .broker(leader, 'fetch')
      .then((conn) =>
        conn.request(
          1,
          {
            replicaId: -1,
            maxWaitMs: o.maxWaitMs,
            minBytes: o.minBytes,
            maxBytes: o.maxBytes,
            isolationLevel: o.isolationLevel,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
            forgottenTopicsData: [],
            rackId: '',
          },
          { timeoutMs: o.maxWaitMs + o.requestTimeoutMs },
        ),
      )
      .then(
        (res) => {
          this.fetching.delete(leader);
          this.onFetch(res, requested);
          this.kick();
        },
        (err: unknown) => {
          this.fetching.delete(leader);
          if (!(err instanceof ConnectionError) && !this.host.isClosed()) {
            this.host.onError(err instanceof Error ? err : new Error(String(err)));
          }
          // Back off a little before trying that broker again.
          setTimeout(() => {
            void this.cluster
              .refreshMetadata()
              .catch(() => undefined)
              .finally(() => this.kick());
          }, 200);
        },
      );
  }

  private onFetch(res: FetchResponse, requested: Requested[]): void {
    if (res.errorCode) {
      this.host.onError(new KafkaError(res.errorCode, '(Fetch)'));
      return;
    }
    const byKey = new Map(requested.map((r) => [tpKey(r.s.topic, r.s.partition), r]));
    let refresh = false;
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const r = byKey.get(tpKey(t.topic, p.partitionIndex));
        if (!r) continue;
        const s = this.host.current(t.topic, p.partitionIndex);
        if (!s || s !== r.s || s.epoch !== r.epoch) continue; // seeked, paused or revoked since
        if (p.errorCode !== 0) {
          if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) this.host.onOutOfRange(s);
          else if (new KafkaError(p.errorCode).retriable) refresh = true;
          else
            this.host.onError(
              new KafkaError(p.errorCode, `(Fetch ${t.topic}-${p.partitionIndex})`),
            );
          continue;
        }
        s.highWatermark = Number(p.highWatermark);
        const records = p.records;
        if (!records || records.length === 0) continue;
        // Batch headers are read (and CRCs checked) now; records stay encoded until iterated.
        const batches: RecordBatch[] = [];
        for (const b of iterateRecordBatches(records)) batches.push(b);
        if (batches.length === 0) continue;
        const next = batches[batches.length - 1].nextOffset;
        if (next <= r.offset) continue;
        s.fetchOffset = next;
        s.queued++;
        const aborted =
          this.options.isolationLevel === 1 && p.abortedTransactions
            ? p.abortedTransactions.map((a) => ({
                producerId: Number(a.producerId),
                firstOffset: Number(a.firstOffset),
              }))
            : null;
        this.host.onBatch(
          new ConsumerBatch(
            t.topic,
            p.partitionIndex,
            batches,
            r.offset,
            next,
            s.highWatermark,
            s.epoch,
            aborted,
          ),
        );
      }
    }
    if (refresh) void this.cluster.refreshMetadata().catch(() => undefined);
  }
}
