/*
 * The topics a job needs before its container joins the group: outputs it asked to have
 * created (intermediate topics it also reads), and one compacted changelog per store with one
 * partition per task. Every container of a job runs this; creation races end in
 * TOPIC_ALREADY_EXISTS, which is fine.
 */
import type { Logger } from 'pino';
import { type Admin, KafkaError } from '../../client/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CopartitioningError, notCopartitionedMessage } from '../errors.js';
import type { AnyJob, Inputs, Outputs, Stores } from '../job.js';
import { CHANGELOG_TOPIC_CONFIGS, changelogTopic } from '../stores/changelog.js';

/**
 * The changelog topics the job's stores write: stores with `changelog: false` have none, and a
 * table kept from an input topic (`sourceTopic`) uses that topic.
 */
export function changelogTopics(job: AnyJob, jobId: string): string[] {
  return Object.entries(job.stores as Stores)
    .filter(([, spec]) => spec.changelog !== false && spec.sourceTopic === undefined)
    .map(([name]) => changelogTopic(jobId, name));
}

/** Refuses stores whose `sourceTopic` is not one of the job's inputs. */
export function validateSourceTopics(job: AnyJob, jobId: string): void {
  const inputs = new Set(Object.values(job.inputs as Inputs).map((spec) => spec.topic));
  for (const [name, spec] of Object.entries(job.stores as Stores)) {
    if (spec.sourceTopic !== undefined && !inputs.has(spec.sourceTopic)) {
      throw new TypeError(
        `job ${jobId}: store ${name} is kept from topic ${spec.sourceTopic}, which is not one of the job's inputs; add it to inputs`,
      );
    }
  }
}

/**
 * Checks the job's co-partitioned input groups against the topics' partition counts (task N
 * reads partition N of each: with different counts some keys would meet nothing to join with).
 */
export function checkCopartitioned(
  job: AnyJob,
  partitionsByTopic: ReadonlyMap<string, number>,
): void {
  const inputs = job.inputs as Inputs;
  const errors: string[] = [];
  for (const group of job.copartitioned ?? []) {
    const topics = group.inputs.map((name) => {
      const spec = inputs[name];
      if (spec === undefined) {
        throw new TypeError(`job ${job.id}: co-partitioned input "${name}" is not an input`);
      }
      return spec.topic;
    });
    const [first, ...rest] = topics;
    if (first === undefined) continue;
    const n = partitionsByTopic.get(first);
    for (const other of rest) {
      const m = partitionsByTopic.get(other);
      if (n !== undefined && m !== undefined && n !== m) {
        errors.push(notCopartitionedMessage(group.by ?? `job ${job.id}`, first, n, other, m));
      }
    }
  }
  if (errors.length > 0) throw new CopartitioningError(errors.join('\n'));
}

/** A topic's partition count, or undefined when it does not exist. */
export async function partitionsOf(admin: Admin, topic: string): Promise<number | undefined> {
  try {
    const [info] = await admin.describeTopics([topic]);
    return info?.partitions.length;
  } catch (error) {
    if (error instanceof KafkaError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
      return undefined;
    }
    throw error;
  }
}

/**
 * Creates the outputs marked for creation that are missing, then the changelogs; returns the
 * number of tasks (the largest partition count among the inputs).
 */
export async function createJobTopics(
  admin: Admin,
  job: AnyJob,
  jobId: string,
  logger: Logger,
): Promise<number> {
  const inputTopics = new Set(Object.values(job.inputs as Inputs).map((spec) => spec.topic));
  const creatable = new Map<string, number | 'tasks'>();
  for (const spec of Object.values(job.outputs as Outputs)) {
    const partitions = (spec as { partitions?: number | 'tasks' }).partitions;
    if (partitions !== undefined) creatable.set(spec.topic, partitions);
  }
  let tasks = 0;
  const counts = new Map<string, number>();
  for (const topic of inputTopics) {
    const n = await partitionsOf(admin, topic);
    if (n === undefined && !creatable.has(topic)) {
      throw new TypeError(`input topic ${topic} does not exist; create it first`);
    }
    if (n !== undefined) counts.set(topic, n);
    tasks = Math.max(tasks, n ?? 0);
  }
  for (const [topic, partitions] of creatable) {
    if ((await partitionsOf(admin, topic)) !== undefined) continue;
    const numPartitions = partitions === 'tasks' ? Math.max(1, tasks) : partitions;
    try {
      await admin.createTopics([{ topic, numPartitions }]);
      logger.info({ event: 'topic-created', topic, partitions: numPartitions }, `created ${topic}`);
    } catch (error) {
      // Another container of the job created it first.
      if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) {
        throw error;
      }
    }
    if (inputTopics.has(topic)) {
      tasks = Math.max(tasks, numPartitions);
      counts.set(topic, numPartitions);
    }
  }
  // Before any changelog exists: a job that cannot run correctly leaves nothing behind.
  checkCopartitioned(job, counts);
  await createChangelogs(admin, changelogTopics(job, jobId), tasks, logger);
  return tasks;
}

/** Creates missing changelog topics (compacted, one partition per task). */
async function createChangelogs(
  admin: Admin,
  topics: readonly string[],
  tasks: number,
  logger: Logger,
): Promise<void> {
  for (const topic of topics) {
    try {
      await admin.createTopics([
        { topic, numPartitions: tasks, configs: { ...CHANGELOG_TOPIC_CONFIGS } },
      ]);
      logger.info(
        { event: 'changelog-created', topic, partitions: tasks },
        `created changelog ${topic}`,
      );
    } catch (error) {
      if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) {
        throw error;
      }
      const n = await partitionsOf(admin, topic);
      if (n !== undefined && n < tasks) {
        throw new TypeError(
          `changelog ${topic} has ${n} partitions but the job has ${tasks} tasks; add partitions to it`,
        );
      }
    }
  }
}
