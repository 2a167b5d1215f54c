/**
 * The output topics of a job version (`<topic>-<version>`), created before it runs like the
 * topics they stand beside: the same partition count and the same non-default configs (a
 * compacted output stays compacted). Topics the job creates itself (repartition topics) and
 * topics that exist are left alone.
 */
import { Admin, KafkaError } from '../client/index.js';
import { ErrorCode } from '../protocol/errors.js';
import type { AnyJob } from '../streams/job.js';
import { partitionsOf } from '../streams/runtime/topics.js';

/**
 * Creates the missing renamed outputs of `versioned` (made from `original` by `withVersion`);
 * returns the topics created.
 */
export async function createVersionOutputs(
  bootstrapServers: string,
  original: AnyJob,
  versioned: AnyJob,
): Promise<string[]> {
  const admin = new Admin({ bootstrapServers });
  const created: string[] = [];
  try {
    const before = original.outputs as Record<string, { topic: string; partitions?: unknown }>;
    const after = versioned.outputs as Record<string, { topic: string; partitions?: unknown }>;
    const inputs = Object.values(original.inputs as Record<string, { topic: string }>);
    let fallback = 1;
    for (const { topic } of inputs)
      fallback = Math.max(fallback, (await partitionsOf(admin, topic)) ?? 1);
    for (const [name, spec] of Object.entries(after)) {
      const from = before[name]?.topic;
      if (from === undefined || from === spec.topic || spec.partitions !== undefined) continue;
      if ((await partitionsOf(admin, spec.topic)) !== undefined) continue;
      const partitions = await partitionsOf(admin, from);
      const configs: Record<string, string> = {};
      if (partitions !== undefined) {
        for (const c of await admin.describeConfigs(from)) {
          if (!c.isDefault && !c.readOnly && c.value !== null) configs[c.name] = c.value;
        }
      }
      try {
        await admin.createTopics([
          { topic: spec.topic, numPartitions: partitions ?? fallback, configs },
        ]);
        created.push(spec.topic);
      } catch (error) {
        if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) {
          throw error;
        }
      }
    }
  } finally {
    await admin.close();
  }
  return created;
}
