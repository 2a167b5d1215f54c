/**
 * The committed offsets of the group coordinator: OffsetCommit (checked against the member and
 * generation, persisted to `__consumer_offsets` before it is acknowledged), OffsetFetch,
 * OffsetDelete, and the expiry of offsets past `offsets.retention.minutes`.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import type { BrokerConfig } from '../config.js';
import type { CommittedOffset, ConsumerGroup } from './group.js';
import { offsetCommitKey, offsetCommitValue } from './records.js';
import type { OffsetsTopicStore, StoreRecord } from './store.js';
import { groupSubscribesTo } from './subscriptions.js';

/** One partition's commit in an OffsetCommit request. */
export interface OffsetCommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export interface OffsetCommitRequestData {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2-v4 retention override, -1 for the broker's. */
  retentionTimeMs: number;
  topics: { name: string; partitions: OffsetCommitPartition[] }[];
}

/** A fetched offset (offset -1 when none is committed). */
export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

/** OffsetFetch's answer for one group. */
export interface FetchResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

/** What the offset requests need from the coordinator around them. */
export interface OffsetsHost {
  readonly groups: ReadonlyMap<string, ConsumerGroup>;
  readonly store: OffsetsTopicStore;
  readonly config: BrokerConfig;
  readonly log: Logger;
  /** The group, created (Empty) if the coordinator does not know it. */
  getOrCreate(groupId: string): ConsumerGroup;
  /** A member's commit keeps its session alive, as a heartbeat does. */
  touch(group: ConsumerGroup, memberId: string): void;
  /** Tombstones a group and all its offsets, then forgets it. */
  removeGroup(group: ConsumerGroup): Promise<void>;
}

/** Answers the offset APIs of one coordinator's groups. */
export class OffsetRequests {
  readonly #host: OffsetsHost;

  constructor(host: OffsetsHost) {
    this.#host = host;
  }

  /** The error for a commit by this member/generation, or NONE; creates a simple group. */
  #commitAllowed(req: OffsetCommitRequestData): number {
    if (req.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.#host.groups.get(req.groupId);
    if (!group) {
      if (req.generationId >= 0) return ErrorCode.ILLEGAL_GENERATION;
      this.#host.getOrCreate(req.groupId);
      return ErrorCode.NONE;
    }
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // A simple (non-group) commit: generation -1 on a group without members.
    if (req.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (group.isFenced(req.memberId, req.groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (!group.members.has(req.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    // A member the group no longer has learns so above (its assignment is lost) rather than
    // waiting out a rebalance; a live member committing during one is told to rejoin first.
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.#host.touch(group, req.memberId);
    return ErrorCode.NONE;
  }

  /** OffsetCommit: error codes in the request's topic/partition order. */
  async commit(req: OffsetCommitRequestData): Promise<number[][]> {
    const allowed = this.#commitAllowed(req);
    if (allowed !== ErrorCode.NONE) return req.topics.map((t) => t.partitions.map(() => allowed));
    const now = Date.now();
    const records: StoreRecord[] = [];
    const accepted: { topic: string; partition: number; value: CommittedOffset }[] = [];
    const codes = req.topics.map((t) =>
      t.partitions.map((p) => {
        const metadata = p.committedMetadata ?? '';
        if (Buffer.byteLength(metadata) > this.#host.config.int('offset.metadata.max.bytes'))
          return ErrorCode.OFFSET_METADATA_TOO_LARGE;
        const value: CommittedOffset = {
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata,
          commitTimestamp: now,
          expireTimestamp: req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : -1,
        };
        records.push({
          key: offsetCommitKey(req.groupId, t.name, p.partitionIndex),
          value: offsetCommitValue(value),
        });
        accepted.push({ topic: t.name, partition: p.partitionIndex, value });
        return ErrorCode.NONE;
      }),
    );
    try {
      await this.#host.store.append(req.groupId, records);
    } catch (err) {
      this.#host.log.error(
        { err, group: req.groupId },
        'writing offsets to __consumer_offsets failed',
      );
      return codes.map((t) =>
        t.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c)),
      );
    }
    // The group may have been deleted while the write was in flight: commits recreate it.
    const group = this.#host.getOrCreate(req.groupId);
    for (const a of accepted) group.setOffset(a.topic, a.partition, a.value);
    return codes;
  }

  /**
   * OffsetFetch for one group: the requested partitions (offset -1 where none is committed), or
   * every committed partition when `topics` is null.
   */
  fetch(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
  ): FetchResult {
    const group = this.#host.groups.get(groupId);
    const fetched = (topic: string, partition: number): FetchedOffset => {
      const o = group?.offset(topic, partition);
      return {
        partitionIndex: partition,
        committedOffset: o ? o.offset : -1,
        committedLeaderEpoch: o ? o.leaderEpoch : -1,
        metadata: o ? o.metadata : '',
        errorCode: ErrorCode.NONE,
      };
    };
    if (topics === null) {
      const all = [...(group?.offsets ?? new Map<string, Map<number, CommittedOffset>>())];
      return {
        errorCode: ErrorCode.NONE,
        topics: all.map(([name, parts]) => ({
          name,
          partitions: [...parts.keys()].sort((a, b) => a - b).map((p) => fetched(name, p)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => fetched(t.name, p)),
      })),
    };
  }

  /** OffsetDelete: a top-level error, or one code per requested partition. */
  async delete(
    groupId: string,
    topics: { name: string; partitions: number[] }[],
  ): Promise<{ errorCode: number; codes: number[][] }> {
    const group = this.#host.groups.get(groupId);
    const none = { codes: topics.map((t) => t.partitions.map(() => ErrorCode.NONE)) };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, ...none };
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, ...none };
    if (!group.is('Empty') && group.protocolType !== 'consumer')
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, ...none };
    const records: StoreRecord[] = [];
    const deleted: [string, number][] = [];
    const codes = topics.map((t) => {
      const subscribed = !group.is('Empty') && groupSubscribesTo(group, t.name);
      return t.partitions.map((p) => {
        if (subscribed) return ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        if (group.offset(t.name, p)) {
          records.push({ key: offsetCommitKey(groupId, t.name, p), value: null });
          deleted.push([t.name, p]);
        }
        return ErrorCode.NONE;
      });
    });
    try {
      await this.#host.store.append(groupId, records);
    } catch (err) {
      this.#host.log.error({ err, group: groupId }, 'writing offset tombstones failed');
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, ...none };
    }
    for (const [t, p] of deleted) group.setOffset(t, p, null);
    return { errorCode: ErrorCode.NONE, codes };
  }

  /**
   * Removes offsets past `offsets.retention.minutes`: of an empty group, counted from when it
   * became empty (or the commit, if later); of a group without a protocol (simple commits),
   * from the commit; an explicit expire timestamp (OffsetCommit v2-v4) wins. An empty group
   * left with no offsets is deleted.
   */
  async expire(now: number): Promise<number> {
    const retentionMs = this.#host.config.int('offsets.retention.minutes') * 60000;
    let expired = 0;
    for (const group of [...this.#host.groups.values()]) {
      if (!group.is('Empty') || group.pendingMembers.size > 0) continue;
      const gone = group.expiredOffsets(now, retentionMs);
      const records: StoreRecord[] = gone.map(([topic, p]) => ({
        key: offsetCommitKey(group.groupId, topic, p),
        value: null,
      }));
      for (const [t, p] of gone) group.setOffset(t, p, null);
      expired += gone.length;
      if (group.offsetCount === 0) {
        this.#host.log.info(
          { group: group.groupId, expired: gone.length },
          'deleting expired empty group',
        );
        await this.#host.store.append(group.groupId, records);
        await this.#host.removeGroup(group);
      } else if (records.length > 0) {
        await this.#host.store.append(group.groupId, records);
      }
    }
    return expired;
  }
}
