/**
 * `__consumer_offsets` as the coordinator's durable store: the compacted internal topic (created
 * on first use) that every offset commit and group change is appended to, and that is replayed
 * on startup so that groups and offsets survive restarts and crashes.
 */
import type { Logger } from 'pino';
import { encodeRecordBatch, RecordBatchIterator } from '../../protocol/record-batch/index.js';
import type { Log } from '../../storage/log.js';
import { readLogSync } from '../../storage/read-range.js';
import type { BrokerConfig } from '../config.js';
import type { TopicInfo, TopicRegistry } from '../topics/topic-registry.js';
import { decodeOffsetsTopicRecord, type OffsetsTopicRecord, partitionForGroup } from './records.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** One record to write: a key and a value, or null for a tombstone. */
export interface StoreRecord {
  key: Buffer;
  value: Buffer | null;
}

/** How much a replay read (for the startup log line and the benchmark). */
export interface ReplayStats {
  partitions: number;
  records: number;
  bytes: number;
  ms: number;
}

const READ_CHUNK = 1024 * 1024;

interface QueuedWrite {
  records: StoreRecord[];
  waiters: { resolve: (v: unknown) => void; reject: (err: unknown) => void }[];
}

export class OffsetsTopicStore {
  readonly #queued = new Map<Log, QueuedWrite>();
  readonly #topics: TopicRegistry;
  readonly #config: BrokerConfig;
  readonly #log: Logger;

  constructor(topics: TopicRegistry, config: BrokerConfig, log: Logger) {
    this.#topics = topics;
    this.#config = config;
    this.#log = log;
  }

  /**
   * Partitions of the topic: as created, once it exists (changing the config later must not move
   * groups), else `offsets.topic.num.partitions`.
   */
  get partitionCount(): number {
    return (
      this.#topics.get(OFFSETS_TOPIC)?.partitions ??
      this.#config.int('offsets.topic.num.partitions')
    );
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount);
  }

  /** Creates the compacted internal topic if it does not exist yet. */
  ensureTopic(): TopicInfo {
    const existing = this.#topics.get(OFFSETS_TOPIC);
    if (existing) return existing;
    const t = this.#topics.create(
      OFFSETS_TOPIC,
      this.#config.int('offsets.topic.num.partitions'),
      1,
      {
        'cleanup.policy': 'compact',
        'segment.bytes': String(this.#config.int('offsets.topic.segment.bytes')),
      },
    );
    this.#log.info({ topic: OFFSETS_TOPIC, partitions: t.partitions }, 'created the offsets topic');
    return t;
  }

  #partitionLog(groupId: string): Log {
    const topic = this.ensureTopic();
    const log = this.#topics.log(topic, partitionForGroup(groupId, topic.partitions));
    if (!log) throw new Error(`no log for ${OFFSETS_TOPIC} partition of group ${groupId}`);
    return log;
  }

  /**
   * Appends `records` (all of one group) to the group's partition. Writes that arrive in the same
   * turn of the event loop (pipelined OffsetCommits, many groups committing at once) are
   * coalesced per partition into one batch and one append: group commit. Order is kept; the
   * promise settles when the log says the batch is durable per its flush policy.
   */
  append(groupId: string, records: readonly StoreRecord[]): Promise<unknown> {
    if (records.length === 0) return Promise.resolve();
    const log = this.#partitionLog(groupId);
    let q = this.#queued.get(log);
    if (!q) {
      q = { records: [], waiters: [] };
      this.#queued.set(log, q);
      setImmediate(() => this.#flush(log));
    }
    for (const r of records) q.records.push(r);
    const queue = q;
    return new Promise((resolve, reject) => queue.waiters.push({ resolve, reject }));
  }

  #flush(log: Log): void {
    const q = this.#queued.get(log);
    if (!q) return;
    this.#queued.delete(log);
    let appended: Promise<unknown>;
    try {
      appended = log.append(encodeRecordBatch({ records: q.records, timestamp: Date.now() }));
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(
      (r) => {
        for (const w of q.waiters) w.resolve(r);
      },
      (err: unknown) => {
        for (const w of q.waiters) w.reject(err);
      },
    );
  }

  /** Reads every partition of the topic in offset order and hands each record to `apply`. */
  replay(apply: (rec: OffsetsTopicRecord) => void): ReplayStats {
    const started = performance.now();
    const stats: ReplayStats = { partitions: 0, records: 0, bytes: 0, ms: 0 };
    const topic = this.#topics.get(OFFSETS_TOPIC);
    if (!topic) return stats;
    let buf: Buffer = Buffer.allocUnsafe(READ_CHUNK);
    for (let p = 0; p < topic.partitions; p++) {
      const log = this.#topics.log(topic, p);
      if (!log) continue;
      stats.partitions++;
      try {
        buf = this.#replayPartition(log, buf, stats, apply);
      } catch (err) {
        // Damage the log's recovery did not repair: keep what was read, and start anyway
        // (a broker that cannot start loses more than the offsets after the damage).
        this.#log.error(
          { partition: p, err: (err as Error).message },
          'could not read the rest of a __consumer_offsets partition; later commits there are lost',
        );
      }
    }
    stats.ms = performance.now() - started;
    return stats;
  }

  /** Replays one partition; returns the (possibly grown) read buffer. */
  #replayPartition(
    log: Log,
    buffer: Buffer,
    stats: ReplayStats,
    apply: (rec: OffsetsTopicRecord) => void,
  ): Buffer {
    return readLogSync(log, log.logStartOffset, buffer, READ_CHUNK, (buf, length) => {
      stats.bytes += length;
      for (const batch of new RecordBatchIterator(buf, {}, 0, length)) {
        if (batch.isControl) continue;
        for (const rec of batch) {
          if (rec.key === null) continue;
          stats.records++;
          try {
            apply(decodeOffsetsTopicRecord(rec.key, rec.value));
          } catch (err) {
            this.#log.warn(
              { partition: log.partition, offset: rec.offset, err: (err as Error).message },
              'skipped an unreadable __consumer_offsets record',
            );
          }
        }
      }
    });
  }
}
