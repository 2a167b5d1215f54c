/**
 * The consumer's fetcher: one Fetch in flight per partition leader (on a connection of its own,
 * so long polls never delay heartbeats), for every partition with room in its prefetch queue.
 * Responses become {@link ConsumerBatch}es of still-encoded records, one per partition. Each
 * broker's fetches run in a fetch session (KIP-227) where the broker supports it.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { ApiMessages, Complete } from '../../protocol/generated/index.js';
import type { RecordBatch } from '../../protocol/record-batch/batch.js';
import { iterateRecordBatches } from '../../protocol/record-batch/batches.js';
import type { Cluster } from '../cluster.js';
import type { Connection } from '../connection.js';
import { ConnectionError } from '../errors.js';
import { ConsumerBatch } from './consumer-batch.js';
import { FetchSession, type SessionRequest, type WantedPartition } from './fetch-session.js';
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
/** A partition as it was when its fetch was sent (its epoch detects seeks since). */
interface Requested extends WantedPartition {
  readonly s: PartitionState;
  readonly epoch: number;
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

  /** The fetch session with each broker (KIP-227), made on first use. */
  private readonly sessions = new Map<number, FetchSession>();

  private session(leader: number, conn: Connection): FetchSession {
    let session = this.sessions.get(leader);
    if (!session) {
      // Sessions came with Fetch v7; older brokers (and versions) fetch sessionless.
      session = new FetchSession(conn.versionFor(1) >= 7);
      this.sessions.set(leader, session);
    }
    return session;
  }

  private fetchFrom(leader: number, states: PartitionState[]): void {
    this.fetching.add(leader);
    const o = this.options;
    const requested: Requested[] = states.map((s) => ({
      s,
      topic: s.topic,
      partition: s.partition,
      fetchOffset: s.fetchOffset as number,
      epoch: s.epoch,
    }));
    let session: FetchSession | undefined;
    let sessionRequest: SessionRequest<Requested> | undefined;
    void this.cluster
      .broker(leader, 'fetch')
      .then((conn) => {
        session = this.session(leader, conn);
        sessionRequest = session.build(requested);
        const byTopic = new Map<
          string,
          {
            partition: number;
            fetchOffset: bigint;
            partitionMaxBytes: number;
            currentLeaderEpoch: number;
          }[]
        >();
        for (const r of sessionRequest.send) {
          let l = byTopic.get(r.topic);
          if (!l) {
            l = [];
            byTopic.set(r.topic, l);
          }
          l.push({
            partition: r.partition,
            fetchOffset: BigInt(r.fetchOffset),
            partitionMaxBytes: o.maxPartitionBytes,
            currentLeaderEpoch: -1,
          });
        }
        return conn.request(
          1,
          {
            replicaId: -1,
            maxWaitMs: o.maxWaitMs,
            minBytes: o.minBytes,
            maxBytes: o.maxBytes,
            isolationLevel: o.isolationLevel,
            sessionId: sessionRequest.sessionId,
            sessionEpoch: sessionRequest.sessionEpoch,
            topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
            forgottenTopicsData: sessionRequest.forgotten,
            rackId: '',
          },
          { timeoutMs: o.maxWaitMs + o.requestTimeoutMs },
        );
      })
      .then(
        (res) => {
          this.fetching.delete(leader);
          if (session && sessionRequest)
            session.onResponse(res.errorCode, res.sessionId ?? 0, sessionRequest);
          this.onFetch(res, requested);
          this.kick();
        },
        (err: unknown) => {
          this.fetching.delete(leader);
          session?.reset();
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
      // A lost or out-of-step fetch session is not the user's problem: the next fetch is full.
      if (
        res.errorCode !== ErrorCode.FETCH_SESSION_ID_NOT_FOUND &&
        res.errorCode !== ErrorCode.INVALID_FETCH_SESSION_EPOCH
      )
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
        if (next <= r.fetchOffset) continue;
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
            r.fetchOffset,
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
