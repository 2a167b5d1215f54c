/*
 * The topics a job needs before its container joins the group: outputs it asked to have
 * created (intermediate topics it also reads), and one compacted changelog per store with one
 * partition per task. Every container of a job runs this; creation races end in
 * TOPIC_ALREADY_EXISTS, which is fine.
 */
import type { Logger } from 'pino';
import { type Admin, KafkaError } from '../../client/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { AnyJob, Inputs, Outputs } from '../job.js';
import { CHANGELOG_TOPIC_CONFIGS, changelogTopic } from '../stores/changelog.js';

/** The changelog topics of the job's stores (stores with `changelog: false` have none). */
export function changelogTopics(job: AnyJob, jobId: string): string[] {
  return Object.entries(job.stores)
    .filter(([, spec]) => (spec as { changelog?: boolean }).changelog !== false)
    .map(([name]) => changelogTopic(jobId, name));
}

/** A topic's partition count, or undefined when it does not exist. */
async function partitionsOf(admin: Admin, topic: string): Promise<number | undefined> {
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
  for (const topic of inputTopics) {
    const n = await partitionsOf(admin, topic);
    if (n === undefined && !creatable.has(topic)) {
      throw new TypeError(`input topic ${topic} does not exist; create it first`);
    }
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
    if (inputTopics.has(topic)) tasks = Math.max(tasks, numPartitions);
  }
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
