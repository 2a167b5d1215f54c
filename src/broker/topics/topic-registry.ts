import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../storage/fs-util.js';
import type { Log } from '../../storage/log.js';
import type { LogManager } from '../../storage/log-manager.js';
import type { BrokerConfig } from '../config.js';
import { resolveLogConfig, type TopicConfigs } from './topic-config.js';
import { collisionKey, isInternalTopic, topicNameProblem } from './topic-names.js';

/** The file in the data directory that keeps topic ids, partition counts and config overrides. */
export const TOPICS_FILE = 'brook-topics.json';

/** What the broker knows about one topic. */
export interface TopicInfo {
  readonly name: string;
  /** Kafka's topic id, as the codecs write uuids (8-4-4-4-12 hex). */
  readonly topicId: string;
  partitions: number;
  /** Config overrides (Kafka topic config names); defaults come from the broker config. */
  configs: TopicConfigs;
  readonly internal: boolean;
}

/** A refused topic operation, with the Kafka error name to answer. */
export class TopicError extends Error {
  override readonly name = 'TopicError';
  readonly errorName:
    | 'TOPIC_ALREADY_EXISTS'
    | 'INVALID_TOPIC_EXCEPTION'
    | 'INVALID_PARTITIONS'
    | 'INVALID_REPLICATION_FACTOR'
    | 'INVALID_CONFIG'
    | 'UNKNOWN_TOPIC_OR_PARTITION';
  constructor(errorName: TopicError['errorName'], message: string) {
    super(message);
    this.errorName = errorName;
  }
}

interface TopicsFile {
  version: 1;
  topics: { name: string; topicId: string; partitions: number; configs: TopicConfigs }[];
}

/**
 * The broker's topic table: names, ids, partition counts and config overrides, persisted in
 * {@link TOPICS_FILE} (written atomically: temp file, fsync, rename) so that they survive restarts.
 * Partition logs themselves belong to the LogManager.
 */
export class TopicRegistry {
  readonly #byName = new Map<string, TopicInfo>();
  readonly #byId = new Map<string, TopicInfo>();
  readonly #path: string;
  readonly #logs: LogManager;
  readonly #config: BrokerConfig;

  constructor(dataDir: string, logs: LogManager, config: BrokerConfig, log: Logger) {
    this.#path = join(dataDir, TOPICS_FILE);
    this.#logs = logs;
    this.#config = config;
    if (existsSync(this.#path)) {
      const file = JSON.parse(readFileSync(this.#path, 'utf8')) as TopicsFile;
      for (const t of file.topics) this.#add({ ...t, internal: isInternalTopic(t.name) });
    }
    // Partition directories without an entry (a crash between creating a log and saving the
    // table, or a data dir copied in): adopt them rather than hide their data.
    let adopted = false;
    for (const l of logs.logs()) {
      const t = this.#byName.get(l.topic);
      if (!t) {
        this.#add({
          name: l.topic,
          topicId: randomUUID(),
          partitions: l.partition + 1,
          configs: {},
          internal: isInternalTopic(l.topic),
        });
        adopted = true;
      } else if (t.partitions <= l.partition) {
        t.partitions = l.partition + 1;
        adopted = true;
      }
    }
    if (adopted) {
      log.warn('adopted partition directories missing from the topic table');
      this.#save();
    }
    for (const t of this.#byName.values())
      this.#logs.updateTopicConfig(t.name, resolveLogConfig(config, t.configs));
  }

  #add(t: TopicInfo): void {
    this.#byName.set(t.name, t);
    this.#byId.set(t.topicId, t);
  }

  #save(): void {
    const file: TopicsFile = {
      version: 1,
      topics: [...this.#byName.values()].map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions,
        configs: t.configs,
      })),
    };
    writeFileAtomic(this.#path, JSON.stringify(file, null, 1));
  }

  get(name: string): TopicInfo | undefined {
    return this.#byName.get(name);
  }

  byId(topicId: string): TopicInfo | undefined {
    return this.#byId.get(topicId);
  }

  /** Every topic, sorted by name. */
  all(): TopicInfo[] {
    return [...this.#byName.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  /**
   * Checks a create request without doing it (CreateTopics validateOnly uses this alone).
   * `partitions`/`replicationFactor` of -1 mean the broker defaults.
   */
  validateCreate(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: TopicConfigs,
  ): number {
    const problem = topicNameProblem(name);
    if (problem) throw new TopicError('INVALID_TOPIC_EXCEPTION', problem);
    if (this.#byName.has(name))
      throw new TopicError('TOPIC_ALREADY_EXISTS', `Topic '${name}' already exists.`);
    const key = collisionKey(name);
    for (const other of this.#byName.keys()) {
      if (collisionKey(other) === key) {
        throw new TopicError(
          'INVALID_TOPIC_EXCEPTION',
          `Topic '${name}' collides with existing topic: ${other}`,
        );
      }
    }
    const n = partitions === -1 ? this.#config.int('num.partitions') : partitions;
    if (!Number.isInteger(n) || n < 1) {
      throw new TopicError(
        'INVALID_PARTITIONS',
        'Number of partitions was set to an invalid non-positive value.',
      );
    }
    if (n > 100000)
      throw new TopicError('INVALID_PARTITIONS', `Number of partitions ${n} is too large.`);
    const rf =
      replicationFactor === -1 ? this.#config.int('default.replication.factor') : replicationFactor;
    if (rf < 1) {
      throw new TopicError(
        'INVALID_REPLICATION_FACTOR',
        'Replication factor must be larger than 0, or -1 to use the default value.',
      );
    }
    if (rf > 1) {
      throw new TopicError(
        'INVALID_REPLICATION_FACTOR',
        `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only 1 broker(s) are registered.`,
      );
    }
    try {
      resolveLogConfig(this.#config, configs);
    } catch (err) {
      throw new TopicError('INVALID_CONFIG', (err as Error).message);
    }
    return n;
  }

  /** Creates a topic and its partition logs. Throws {@link TopicError}. */
  create(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: TopicConfigs,
  ): TopicInfo {
    const n = this.validateCreate(name, partitions, replicationFactor, configs);
    const t: TopicInfo = {
      name,
      topicId: randomUUID(),
      partitions: n,
      configs: { ...configs },
      internal: isInternalTopic(name),
    };
    const logConfig = resolveLogConfig(this.#config, t.configs);
    for (let p = 0; p < n; p++) this.#logs.getOrCreateLog(name, p, logConfig);
    this.#add(t);
    this.#save();
    return t;
  }

  /** Deletes a topic and its logs. */
  async delete(name: string): Promise<void> {
    const t = this.#byName.get(name);
    if (!t)
      throw new TopicError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        'This server does not host this topic-partition.',
      );
    this.#byName.delete(name);
    this.#byId.delete(t.topicId);
    this.#save();
    for (let p = 0; p < t.partitions; p++) await this.#logs.deleteLog(name, p);
  }

  /** Raises a topic's partition count (CreatePartitions). */
  addPartitions(name: string, count: number, validateOnly: boolean): void {
    const t = this.#byName.get(name);
    if (!t)
      throw new TopicError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        'This server does not host this topic-partition.',
      );
    if (count <= t.partitions) {
      throw new TopicError(
        'INVALID_PARTITIONS',
        count === t.partitions
          ? `Topic already has ${t.partitions} partitions.`
          : `Topic currently has ${t.partitions} partitions, which is higher than the requested ${count}.`,
      );
    }
    if (validateOnly) return;
    const logConfig = resolveLogConfig(this.#config, t.configs);
    for (let p = t.partitions; p < count; p++) this.#logs.getOrCreateLog(name, p, logConfig);
    t.partitions = count;
    this.#save();
  }

  /** Replaces a topic's config overrides (validated first). */
  setConfigs(name: string, configs: TopicConfigs, validateOnly: boolean): void {
    const t = this.#byName.get(name);
    if (!t)
      throw new TopicError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        'This server does not host this topic-partition.',
      );
    let logConfig: ReturnType<typeof resolveLogConfig>;
    try {
      logConfig = resolveLogConfig(this.#config, configs);
    } catch (err) {
      throw new TopicError('INVALID_CONFIG', (err as Error).message);
    }
    if (validateOnly) return;
    t.configs = { ...configs };
    this.#logs.updateTopicConfig(name, logConfig);
    this.#save();
  }

  /** The log of a partition of a known topic, or undefined. */
  log(topic: TopicInfo, partition: number): Log | undefined {
    if (partition < 0 || partition >= topic.partitions) return undefined;
    return (
      this.#logs.getLog(topic.name, partition) ??
      this.#logs.getOrCreateLog(
        topic.name,
        partition,
        resolveLogConfig(this.#config, topic.configs),
      )
    );
  }
}
