/*
 * The serving alias of a job: which version currently serves it. `brook job reprocess` records
 * a switch as one record in the compacted topic `brook-job-aliases` (one partition), keyed by
 * the alias (the live job's id, e.g. `job-titles`), valued with the current version's job id,
 * its output topics, changelogs, internal topics and query addresses. Readers (the query
 * endpoint, `brook job outputs`, containers of older versions waiting to be retired) take the
 * latest value per alias; without a record the alias is served by the job with that id.
 */
import { Admin, Consumer, KafkaError, Producer } from '../../client/index.js';
import { ErrorCode } from '../../protocol/errors.js';

/** The compacted topic mapping an alias (the live job id) to its current version. */
export const ALIAS_TOPIC = 'brook-job-aliases';

/** One version of a job as the alias topic records it. */
export interface JobAlias {
  /** The version's own job id (group, changelog prefix), e.g. `job-titles-v2`. */
  readonly jobId: string;
  /** The version, e.g. `v2`. */
  readonly version: string;
  /** ISO time of the switch. */
  readonly switchedAt: string;
  /** The job id that served before the switch. */
  readonly previous?: string;
  /** Each output topic as the job names it → the topic this version writes instead. */
  readonly outputs?: Readonly<Record<string, string>>;
  /** Changelog topics of this version's stores. */
  readonly changelogs?: readonly string[];
  /** Topics the version both writes and reads (repartition topics). */
  readonly internal?: readonly string[];
  /** `host:port` of this version's query servers (may be empty). */
  readonly query?: readonly string[];
  /** Job ids asked to stop now that this version serves (`--retire-old`). */
  readonly retire?: readonly string[];
}

/** Parses an alias value; undefined for anything that is not one. */
export function parseAlias(bytes: Buffer | Uint8Array): JobAlias | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<JobAlias>;
  if (typeof v.jobId !== 'string' || typeof v.version !== 'string') return undefined;
  return v as JobAlias;
}

const isUnknownTopic = (error: unknown): boolean =>
  error instanceof KafkaError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;

/**
 * Follows the alias topic: `refresh()` reads what was appended since the last call (nothing
 * when the end offset has not moved: one metadata request and one ListOffsets). It holds no
 * connection between calls, so a process that keeps one does not stay alive for it.
 */
export class AliasReader {
  readonly #bootstrapServers: string;
  readonly #aliases = new Map<string, JobAlias>();
  #next = 0;
  #refreshing: Promise<ReadonlyMap<string, JobAlias>> | undefined;

  constructor(bootstrapServers: string) {
    this.#bootstrapServers = bootstrapServers;
  }

  /** The latest alias per key read so far. */
  get aliases(): ReadonlyMap<string, JobAlias> {
    return this.#aliases;
  }

  /** Reads the topic up to its current end; concurrent calls share one read. */
  refresh(): Promise<ReadonlyMap<string, JobAlias>> {
    this.#refreshing ??= this.#read().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #read(): Promise<ReadonlyMap<string, JobAlias>> {
    const tp = { topic: ALIAS_TOPIC, partition: 0 };
    let end: number;
    const admin = new Admin({ bootstrapServers: this.#bootstrapServers });
    try {
      if (!(await admin.listTopics()).includes(ALIAS_TOPIC)) return this.#aliases;
      end = (await admin.listOffsets([tp], -1)).get(`${ALIAS_TOPIC}\0${0}`) ?? 0;
    } catch (error) {
      if (isUnknownTopic(error)) return this.#aliases;
      throw error;
    } finally {
      await admin.close();
    }
    if (end < this.#next) {
      // The topic was deleted and re-created: start over.
      this.#aliases.clear();
      this.#next = 0;
    }
    if (end <= this.#next) return this.#aliases;
    const consumer = new Consumer({
      bootstrapServers: this.#bootstrapServers,
      fetchMaxWaitMs: 50,
    });
    try {
      consumer.assign([tp]);
      consumer.seek(tp, this.#next);
      const deadline = Date.now() + 10_000;
      while (this.#next < end) {
        if (Date.now() > deadline) throw new Error(`reading ${ALIAS_TOPIC} timed out`);
        const batch = await consumer.poll(200);
        if (batch === undefined) continue;
        for (const r of batch) {
          if (r.offset >= end) break;
          this.#next = r.offset + 1;
          if (r.key === null) continue;
          const key = r.key.toString('utf8');
          const alias = r.value === null ? undefined : parseAlias(r.value);
          if (alias === undefined) this.#aliases.delete(key);
          else this.#aliases.set(key, alias);
        }
        this.#next = Math.max(this.#next, Math.min(batch.nextOffset, end));
        consumer.markProcessed(batch);
      }
    } finally {
      await consumer.close();
    }
    return this.#aliases;
  }
}

/** Reads every alias once. */
export async function readAliases(bootstrapServers: string): Promise<Map<string, JobAlias>> {
  return new Map(await new AliasReader(bootstrapServers).refresh());
}

/** Records that `alias` is now served by `value` (creating the compacted topic if missing). */
export async function writeAlias(
  bootstrapServers: string,
  alias: string,
  value: JobAlias,
): Promise<void> {
  const admin = new Admin({ bootstrapServers });
  try {
    if (!(await admin.listTopics()).includes(ALIAS_TOPIC)) {
      try {
        await admin.createTopics([
          { topic: ALIAS_TOPIC, numPartitions: 1, configs: { 'cleanup.policy': 'compact' } },
        ]);
      } catch (error) {
        if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) {
          throw error;
        }
      }
    }
  } finally {
    await admin.close();
  }
  const producer = new Producer({ bootstrapServers });
  try {
    await producer.send(ALIAS_TOPIC, [{ key: alias, value: JSON.stringify(value) }]);
  } finally {
    await producer.close();
  }
}
