/**
 * The consumer: manual assignment or group subscription, positions and seeks, a fetcher that
 * prefetches from every leader while the user processes, lazily decoded batches, commits.
 *
 * ```ts
 * const consumer = new Consumer({ bootstrapServers: 'localhost:9092', groupId: 'billing' });
 * consumer.subscribe(['invoices']);
 * for await (const batch of consumer.batches()) {
 *   for (const record of batch) handle(record);
 * }
 * ```
 */
import { KafkaError } from '../../protocol/errors.js';
import { Cluster } from '../cluster.js';
import { ClientClosedError } from '../errors.js';
import { ASSIGNORS, rangeAssignor } from './assignors.js';
import { ConsumerBatch, type ConsumerRecord } from './consumer-batch.js';
import { Fetcher, type PartitionState } from './fetcher.js';
import { CommitFailedError, type ConsumerGroupMetadata } from './fencing.js';
import { GroupMember, type GroupHost } from './group.js';
import {
  type IterationOptions,
  iterateBatches,
  iterateMessages,
  type PollLoop,
} from './iteration.js';
import {
  commitOffsets,
  EARLIEST_TIMESTAMP,
  fetchCommitted,
  LATEST_TIMESTAMP,
  type TopicPartition,
  type TopicPartitionOffset,
  tpKey,
} from './offsets.js';
import type { ConsumerOptions, RebalanceListener } from './options.js';
import { offsetsForTimestamp, startingPositions } from './positions.js';

export type {
  ConsumerGroupMetadata,
  ConsumerOptions,
  ConsumerRecord,
  RebalanceListener,
  TopicPartition,
  TopicPartitionOffset,
};
export { CommitFailedError, ConsumerBatch };

/** A Kafka consumer. */
export class Consumer {
  readonly cluster: Cluster;
  private readonly options: ConsumerOptions;
  private readonly assignment = new Map<string, PartitionState>();
  private subscription: string[] = [];
  private readonly ready: ConsumerBatch[] = [];
  private readonly fetcher: Fetcher;
  private waiter: (() => void) | undefined;
  private closed = false;
  private epochCounter = 0;
  private lastPollAt = Date.now();
  private lastAutoCommit = Date.now();
  private readonly group: GroupMember | undefined;
  private resetting: Promise<void> | undefined;
  private fetchError: Error | undefined;
  private readonly isolationLevel: number;

  constructor(options: ConsumerOptions = {}) {
    this.options = options;
    this.cluster = new Cluster(options);
    this.isolationLevel = options.isolationLevel === 'read_committed' ? 1 : 0;
    this.fetcher = new Fetcher(
      this.cluster,
      {
        partitions: () => this.assignment.values(),
        current: (topic, partition) => this.assignment.get(tpKey(topic, partition)),
        onBatch: (batch) => {
          this.ready.push(batch);
          this.wake();
        },
        onError: (err) => {
          this.fetchError = err;
          this.wake();
        },
        onOutOfRange: (st) => {
          st.position = null;
          st.fetchOffset = null;
          st.epoch = ++this.epochCounter;
          void this.resetPositions().then(
            () => this.kickFetch(),
            (e: unknown) => {
              this.fetchError = e instanceof Error ? e : new Error(String(e));
              this.wake();
            },
          );
        },
        isClosed: () => this.closed,
      },
      {
        maxWaitMs: options.fetchMaxWaitMs ?? 500,
        minBytes: options.fetchMinBytes ?? 1,
        maxBytes: options.fetchMaxBytes ?? 52428800,
        maxPartitionBytes: options.maxPartitionFetchBytes ?? 1048576,
        requestTimeoutMs: options.requestTimeoutMs ?? 30000,
        prefetchBatches: options.prefetchBatches ?? 2,
        isolationLevel: this.isolationLevel,
      },
    );
    if (options.groupId !== undefined) {
      const assignors = (options.partitionAssignors ?? ['range', 'cooperative-sticky']).map((a) => {
        if (typeof a !== 'string') return a;
        const found = ASSIGNORS[a];
        if (!found)
          throw new TypeError(
            `unknown partition assignor "${a}" (range, roundrobin, cooperative-sticky)`,
          );
        return found;
      });
      const host: GroupHost = {
        topics: () => this.subscription,
        owned: () => this.assignedPartitions(),
        beforeRevoke: (tps) => (this.autoCommit ? this.commitPositions(tps) : Promise.resolve()),
        onAssigned: (tps) => this.onAssigned(tps),
        onRevoked: (tps) => this.onRevoked(tps, 'revoked'),
        onLost: (tps) => this.onRevoked(tps, 'lost'),
        wake: () => this.wake(),
        lastPoll: () => this.lastPollAt,
      };
      this.group = new GroupMember(this.cluster, host, {
        groupId: options.groupId,
        groupInstanceId: options.groupInstanceId ?? null,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 45000,
        rebalanceTimeoutMs: options.maxPollIntervalMs ?? 300000,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3000,
        assignors: assignors.length > 0 ? assignors : [rangeAssignor],
      });
    }
  }

  private get autoCommit(): boolean {
    return this.group !== undefined && this.options.enableAutoCommit !== false;
  }

  /** Member id and generation in the group (empty/-1 when not a member). */
  get groupMember(): { memberId: string; generationId: number } | undefined {
    return this.group
      ? { memberId: this.group.memberId, generationId: this.group.generationId }
      : undefined;
  }

  /**
   * The member's identity for commits, as Kafka's `groupMetadata()`: pass it to
   * {@link commitSync} to commit offsets under the generation they were read in, so that the
   * coordinator refuses them once the group has moved on (generation -1 and no member id for a
   * consumer without a subscription).
   */
  groupMetadata(): ConsumerGroupMetadata {
    const groupId = this.options.groupId;
    if (groupId === undefined) throw new TypeError('group metadata needs a groupId');
    if (this.group && this.subscription.length > 0) return this.group.commitIdentity;
    return { groupId, generationId: -1, memberId: '', groupInstanceId: null };
  }

  /** Subscribes to topics; partitions come from the group (needs groupId). */
  subscribe(topics: string[]): void {
    if (!this.group)
      throw new TypeError('subscribe needs a groupId; use assign() for manual assignment');
    if (this.assignment.size > 0 && this.subscription.length === 0)
      throw new TypeError('the consumer has a manual assignment');
    this.subscription = [...topics];
    this.cluster.addTopics(topics);
    this.group.needsJoin = true;
    this.wake();
  }

  /** Assigns partitions manually (no group membership; commits still work with a groupId). */
  assign(partitions: TopicPartition[]): void {
    if (this.subscription.length > 0)
      throw new TypeError('the consumer is subscribed; assign() is for manual assignment');
    const keep = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
    for (const k of [...this.assignment.keys()]) if (!keep.has(k)) this.assignment.delete(k);
    for (const tp of partitions) this.addPartition(tp);
    this.cluster.addTopics(partitions.map((tp) => tp.topic));
    this.wake();
  }

  private addPartition(tp: TopicPartition): void {
    const k = tpKey(tp.topic, tp.partition);
    if (this.assignment.has(k)) return;
    this.assignment.set(k, {
      topic: tp.topic,
      partition: tp.partition,
      position: null,
      fetchOffset: null,
      paused: false,
      epoch: ++this.epochCounter,
      queued: 0,
      highWatermark: -1,
      leaderEpoch: -1,
    });
  }

  /** Currently assigned partitions. */
  assignedPartitions(): TopicPartition[] {
    return [...this.assignment.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  private state(tp: TopicPartition): PartitionState {
    const s = this.assignment.get(tpKey(tp.topic, tp.partition));
    if (!s) throw new TypeError(`${tp.topic}-${tp.partition} is not assigned to this consumer`);
    return s;
  }

  /** Next offset this consumer will deliver for a partition (undefined until known). */
  position(tp: TopicPartition): number | undefined {
    return this.state(tp).position ?? undefined;
  }

  /** Moves a partition's position; already fetched records after it are dropped. */
  seek(tp: TopicPartition, offset: number): void {
    const s = this.state(tp);
    s.position = offset;
    s.fetchOffset = offset;
    s.epoch = ++this.epochCounter;
    s.queued = 0;
    this.wake();
  }

  /** Seeks to the log start offset of each partition (all assigned by default). */
  async seekToBeginning(tps: TopicPartition[] = this.assignedPartitions()): Promise<void> {
    await this.seekToTimestampOrSpecial(tps, EARLIEST_TIMESTAMP);
  }

  /** Seeks to the log end offset (the next record to be written). */
  async seekToEnd(tps: TopicPartition[] = this.assignedPartitions()): Promise<void> {
    await this.seekToTimestampOrSpecial(tps, LATEST_TIMESTAMP);
  }

  /** Seeks to the first offset whose timestamp is at or after `timestamp` (the end if none). */
  async seekToTimestamp(
    timestamp: number,
    tps: TopicPartition[] = this.assignedPartitions(),
  ): Promise<void> {
    await this.seekToTimestampOrSpecial(tps, timestamp);
  }

  private async seekToTimestampOrSpecial(tps: TopicPartition[], ts: number): Promise<void> {
    const offsets = await offsetsForTimestamp(this.cluster, tps, ts, this.isolationLevel);
    for (const tp of tps) this.seek(tp, offsets.get(tpKey(tp.topic, tp.partition)) ?? 0);
  }

  /** Stops fetching from partitions (positions are kept). */
  pause(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.state(tp);
      s.paused = true;
      s.epoch = ++this.epochCounter;
      s.fetchOffset = s.position;
      s.queued = 0;
    }
  }

  /** Resumes fetching from paused partitions. */
  resume(tps: TopicPartition[]): void {
    for (const tp of tps) this.state(tp).paused = false;
    this.wake();
  }

  /** Paused partitions. */
  paused(): TopicPartition[] {
    return [...this.assignment.values()]
      .filter((s) => s.paused)
      .map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  private metadataCheckedAt = 0;
  private countsGeneration = -2;
  private readonly partitionCounts = new Map<string, number>();

  /**
   * Partition counts of the subscribed topics are noted at each new generation and compared
   * every metadataMaxAgeMs; a topic that grew makes the member rejoin, so that the new
   * partitions get assigned (the Java client's leader does the same).
   */
  private watchSubscribedPartitions(group: GroupMember): void {
    const now = Date.now();
    const newGeneration = group.generationId !== this.countsGeneration;
    if (!newGeneration && now - this.metadataCheckedAt < (this.options.metadataMaxAgeMs ?? 300000))
      return;
    this.metadataCheckedAt = now;
    const generation = group.generationId;
    this.countsGeneration = generation;
    const topics = [...this.subscription];
    void this.cluster.refreshMetadata(topics).then(
      () => {
        let changed = false;
        for (const t of topics) {
          const n = this.cluster.topics.get(t)?.partitions.length ?? 0;
          if (!newGeneration && n !== (this.partitionCounts.get(t) ?? 0)) changed = true;
          this.partitionCounts.set(t, n);
        }
        if (changed && group.generationId === generation) group.requestRejoin();
      },
      () => undefined,
    );
  }

  private async onAssigned(tps: TopicPartition[]): Promise<void> {
    for (const tp of tps) this.addPartition(tp);
    this.cluster.addTopics(tps.map((tp) => tp.topic));
    await this.options.rebalanceListener?.onAssigned?.(tps);
    this.wake();
  }

  private async onRevoked(tps: TopicPartition[], how: 'revoked' | 'lost'): Promise<void> {
    for (const tp of tps) {
      const k = tpKey(tp.topic, tp.partition);
      this.assignment.delete(k);
      // Lost: the next owner may commit other offsets meanwhile; a later return starts afresh.
      if (how === 'lost') this.committedCache.delete(k);
    }
    if (tps.length === 0) return;
    if (how === 'lost') await this.options.rebalanceListener?.onLost?.(tps);
    else await this.options.rebalanceListener?.onRevoked?.(tps);
  }

  // ---- positions -----------------------------------------------------------------------------

  /** Gives partitions without a position one: the committed offset, else autoOffsetReset. */
  private resetPositions(): Promise<void> {
    this.resetting ??= this.doResetPositions().finally(() => {
      this.resetting = undefined;
    });
    return this.resetting;
  }

  private async doResetPositions(): Promise<void> {
    const missing = [...this.assignment.values()].filter((s) => s.position === null);
    if (missing.length === 0) return;
    const tps = missing.map((s) => ({ topic: s.topic, partition: s.partition }));
    const epochs = new Map(missing.map((s) => [tpKey(s.topic, s.partition), s.epoch]));
    const committed = new Map<string, number>();
    if (this.options.groupId !== undefined) {
      const conn = await this.coordinatorConnection();
      for (const [k, v] of await fetchCommitted(conn, this.options.groupId, tps))
        if (v.offset >= 0) committed.set(k, v.offset);
    }
    const positions = await startingPositions(
      this.cluster,
      tps,
      committed,
      this.options.autoOffsetReset ?? 'latest',
      this.isolationLevel,
    );
    for (const [k, o] of positions) {
      const s = this.assignment.get(k);
      // Seeked, paused or reassigned meanwhile: that position wins.
      if (!s || s.epoch !== epochs.get(k) || s.position !== null) continue;
      s.position = o;
      s.fetchOffset = o;
    }
  }

  private async coordinatorConnection() {
    if (!this.group) throw new TypeError('this operation needs a groupId');
    return this.group.coordinatorConnection();
  }

  // ---- fetching ------------------------------------------------------------------------------

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private kickFetch(): void {
    this.fetcher.kick();
  }

  // ---- polling -------------------------------------------------------------------------------

  /**
   * Waits up to `timeoutMs` for the next batch of records. Returns undefined on timeout. Most
   * code uses {@link batches} or {@link messages} instead, which also mark batches processed.
   */
  async poll(timeoutMs = 1000): Promise<ConsumerBatch | undefined> {
    if (this.closed) throw new ClientClosedError('consumer');
    this.lastPollAt = Date.now();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.group && this.subscription.length > 0) {
        await this.group.ensureActive();
        if (this.group.sessionInDoubt && !(await this.group.confirmMembership())) {
          // Nothing accepted by the coordinator for a whole session timeout (this process was
          // stopped or starved): the group may have given these partitions to another member.
          // Nothing is handed out until the coordinator confirms the membership; a refusal has
          // given the assignment up (onLost), and the next round rejoins.
          const left = deadline - Date.now();
          if (left <= 0 || this.closed) return undefined;
          if (!this.group.needsJoin) await new Promise((r) => setTimeout(r, Math.min(left, 100)));
          continue;
        }
        this.watchSubscribedPartitions(this.group);
      }
      if (
        this.autoCommit &&
        Date.now() - this.lastAutoCommit >= (this.options.autoCommitIntervalMs ?? 5000)
      ) {
        this.lastAutoCommit = Date.now();
        this.commitAsync();
      }
      if (this.fetchError) {
        const e = this.fetchError;
        this.fetchError = undefined;
        throw e;
      }
      if ([...this.assignment.values()].some((s) => s.position === null))
        await this.resetPositions();
      while (this.ready.length > 0) {
        const b = this.ready.shift() as ConsumerBatch;
        const s = this.assignment.get(tpKey(b.topic, b.partition));
        if (!s || s.epoch !== b.epoch) continue;
        s.queued--;
        if (b.isEmpty) {
          s.position = b.nextOffset;
          continue;
        }
        this.kickFetch();
        return b;
      }
      this.kickFetch();
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(
          () => {
            if (this.waiter === done) this.waiter = undefined;
            resolve();
          },
          Math.min(left, 1000),
        );
        const done = (): void => {
          clearTimeout(t);
          resolve();
        };
        this.waiter = done;
      });
    }
  }

  /** Marks a batch processed: the partition's position moves past it (commits use positions). */
  markProcessed(batch: ConsumerBatch): void {
    const s = this.assignment.get(tpKey(batch.topic, batch.partition));
    if (s && s.epoch === batch.epoch) s.position = batch.nextOffset;
  }

  /**
   * Batches as they arrive, one partition's fetched records each. A batch counts as processed
   * (its offsets become committable) when the loop asks for the next one.
   */
  batches(options: IterationOptions = {}): AsyncGenerator<ConsumerBatch> {
    return iterateBatches(this.pollLoop, options);
  }

  /**
   * Records one by one. The position follows the records handed out: after a `break` it is just
   * past the last record the loop saw. Auto-commits happen between batches (in the poll), so they
   * never cover a record that has not been handed out and finished.
   */
  messages(options: IterationOptions = {}): AsyncGenerator<ConsumerRecord> {
    return iterateMessages(this.pollLoop, options);
  }

  private readonly pollLoop: PollLoop = {
    poll: (timeoutMs) => this.poll(timeoutMs),
    markProcessed: (batch) => this.markProcessed(batch),
    isClosed: () => this.closed,
    stateOf: (topic, partition) => this.assignment.get(tpKey(topic, partition)),
  };

  // ---- commits -------------------------------------------------------------------------------

  private currentPositions(tps?: TopicPartition[]): TopicPartitionOffset[] {
    const list = tps
      ? tps.map((tp) => this.assignment.get(tpKey(tp.topic, tp.partition)))
      : [...this.assignment.values()];
    const out: TopicPartitionOffset[] = [];
    for (const s of list)
      if (s && s.position !== null)
        out.push({ topic: s.topic, partition: s.partition, offset: s.position });
    return out;
  }

  private committedCache = new Map<string, number>();

  private async commitPositions(tps?: TopicPartition[]): Promise<void> {
    const offsets = this.currentPositions(tps).filter(
      (o) => this.committedCache.get(tpKey(o.topic, o.partition)) !== o.offset,
    );
    if (offsets.length > 0) await this.commitSync(offsets);
  }

  /**
   * Commits offsets (default: the positions of every assigned partition, i.e. what has been
   * processed) and waits for the coordinator's acknowledgement.
   *
   * The commit carries the member's identity as of the call, or `options.groupMetadata` (see
   * {@link groupMetadata}). When the coordinator refuses it because that identity is no longer in
   * the group (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID), it rejects with a
   * {@link CommitFailedError}; if the identity was the current one, the whole assignment is
   * given up first (onLost, positions and fetched data dropped) and the next poll rejoins.
   * REBALANCE_IN_PROGRESS rejects with that KafkaError and loses nothing: poll, then commit again.
   */
  async commitSync(
    offsets?: TopicPartitionOffset[],
    options: { groupMetadata?: ConsumerGroupMetadata } = {},
  ): Promise<void> {
    const groupId = this.options.groupId;
    if (groupId === undefined) throw new TypeError('commits need a groupId');
    const given = options.groupMetadata;
    if (given !== undefined && given.groupId !== groupId)
      throw new TypeError(
        `group metadata of group "${given.groupId}" given to a consumer of "${groupId}"`,
      );
    const list = offsets ?? this.currentPositions();
    const conn = await this.coordinatorConnection();
    const group = this.group && this.subscription.length > 0 ? this.group : undefined;
    const identity = given ?? this.groupMetadata();
    const sentAt = Date.now();
    try {
      await commitOffsets(conn, groupId, list, identity);
    } catch (err) {
      if (group && err instanceof KafkaError) throw group.commitRefused(err, identity);
      throw err;
    }
    group?.commitAccepted(identity, sentAt);
    for (const o of list) this.committedCache.set(tpKey(o.topic, o.partition), o.offset);
  }

  /** Commits without waiting; `callback` gets the outcome. */
  commitAsync(offsets?: TopicPartitionOffset[], callback?: (err: Error | undefined) => void): void {
    this.commitSync(offsets).then(
      () => callback?.(undefined),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Committed offsets of the group for partitions (-1: none). */
  async committed(tps: TopicPartition[]): Promise<Map<string, number>> {
    if (this.options.groupId === undefined) throw new TypeError('committed offsets need a groupId');
    const res = await fetchCommitted(await this.coordinatorConnection(), this.options.groupId, tps);
    return new Map([...res].map(([k, v]) => [k, v.offset]));
  }

  /** Commits (auto-commit), leaves the group and closes connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.autoCommit && this.assignment.size > 0)
        await this.commitPositions().catch(() => undefined);
      await this.group?.stop();
    } finally {
      this.closed = true;
      this.wake();
      await this.cluster.close();
    }
  }
}
