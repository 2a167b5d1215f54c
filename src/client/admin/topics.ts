/**
 * Topic operations of the admin client: create, delete, list, describe, add partitions and
 * delete records, each one request (to the controller, or to the leaders for DeleteRecords);
 * creation and deletion wait until the metadata shows them.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { TopicInfo } from '../cluster.js';
import { type TopicPartition, tpKey } from '../consumer/offsets.js';
import type { AdminContext } from './context.js';
import { throwOnError } from './response-errors.js';

/** A topic to create. */
export interface NewTopic {
  topic: string;
  /** Default -1: the broker's num.partitions. */
  numPartitions?: number;
  /** Default -1: the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** Creates topics; throws the first error (TOPIC_ALREADY_EXISTS, INVALID_*, ...). */
export async function createTopics(
  ctx: AdminContext,
  topics: NewTopic[],
  options: { validateOnly?: boolean } = {},
): Promise<void> {
  const conn = await ctx.cluster.controller();
  const res = await conn.request(19, {
    topics: topics.map((t) => ({
      name: t.topic,
      numPartitions: t.numPartitions ?? -1,
      replicationFactor: t.replicationFactor ?? -1,
      assignments: [],
      configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: ctx.timeoutMs,
    validateOnly: options.validateOnly ?? false,
  });
  for (const t of res.topics) throwOnError(t.errorCode, t.errorMessage, `topic "${t.name}"`);
  if (!options.validateOnly)
    await waitForTopics(
      ctx,
      topics.map((t) => t.topic),
      true,
    );
}

/** Waits until metadata shows the topics (created) or not (deleted). */
async function waitForTopics(ctx: AdminContext, names: string[], present: boolean): Promise<void> {
  const deadline = Date.now() + ctx.timeoutMs;
  for (;;) {
    await ctx.cluster.refreshMetadata(names);
    const ok = names.every((n) => {
      const t = ctx.cluster.topics.get(n);
      const exists =
        t !== undefined && t.partitions.length > 0 && t.partitions.every((p) => p && p.leader >= 0);
      return exists === present;
    });
    if (ok || Date.now() > deadline) {
      if (!present) for (const n of names) ctx.cluster.interest.delete(n);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Deletes topics. */
export async function deleteTopics(ctx: AdminContext, topics: string[]): Promise<void> {
  const conn = await ctx.cluster.controller();
  const v = conn.versionFor(20);
  const res = await conn.request(
    20,
    v >= 6
      ? {
          topics: topics.map((name) => ({
            name,
            topicId: '00000000-0000-0000-0000-000000000000',
          })),
          timeoutMs: ctx.timeoutMs,
        }
      : { topicNames: topics, timeoutMs: ctx.timeoutMs },
  );
  for (const t of res.responses) throwOnError(t.errorCode, t.errorMessage, `topic "${t.name}"`);
  await waitForTopics(ctx, topics, false);
}

/** Names of every topic (internal ones only when asked). */
export async function listTopics(
  ctx: AdminContext,
  options: { includeInternal?: boolean } = {},
): Promise<string[]> {
  await ctx.cluster.refreshMetadata([], true);
  return [...ctx.cluster.topics.values()]
    .filter((t) => t.errorCode === 0 && (options.includeInternal || !t.isInternal))
    .map((t) => t.name)
    .sort();
}

/** Partitions, leaders, replicas and ISR of topics. */
export async function describeTopics(ctx: AdminContext, topics: string[]): Promise<TopicInfo[]> {
  await ctx.cluster.refreshMetadata(topics);
  return topics.map((name) => {
    const t = ctx.cluster.topics.get(name);
    if (t === undefined) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `(topic "${name}")`);
    }
    if (t.errorCode !== 0) throw new KafkaError(t.errorCode, `(topic "${name}")`);
    return t;
  });
}

/** Raises the partition count of topics (`count` is the new total). */
export async function createPartitions(
  ctx: AdminContext,
  topics: Array<{ topic: string; count: number }>,
): Promise<void> {
  const conn = await ctx.cluster.controller();
  const res = await conn.request(37, {
    topics: topics.map((t) => ({ name: t.topic, count: t.count, assignments: null })),
    timeoutMs: ctx.timeoutMs,
    validateOnly: false,
  });
  for (const r of res.results) throwOnError(r.errorCode, r.errorMessage, `topic "${r.name}"`);
  await ctx.cluster.refreshMetadata(topics.map((t) => t.topic));
}

/** Deletes records before `offset` in each partition (-1: up to the high watermark). */
export async function deleteRecords(
  ctx: AdminContext,
  partitions: Array<TopicPartition & { offset: number }>,
): Promise<Map<string, number>> {
  const byLeader = new Map<number, Array<TopicPartition & { offset: number }>>();
  for (const p of partitions) {
    if (ctx.cluster.leaderOf(p.topic, p.partition) < 0) await ctx.cluster.topic(p.topic);
    const leader = ctx.cluster.leaderOf(p.topic, p.partition);
    const l = byLeader.get(leader) ?? [];
    l.push(p);
    byLeader.set(leader, l);
  }
  const out = new Map<string, number>();
  for (const [leader, ps] of byLeader) {
    const conn = await ctx.cluster.broker(leader);
    const topics = new Map<string, Array<{ partitionIndex: number; offset: bigint }>>();
    for (const p of ps) {
      const l = topics.get(p.topic) ?? [];
      l.push({ partitionIndex: p.partition, offset: BigInt(p.offset) });
      topics.set(p.topic, l);
    }
    const res = await conn.request(21, {
      topics: [...topics].map(([name, parts]) => ({ name, partitions: parts })),
      timeoutMs: ctx.timeoutMs,
    });
    for (const t of res.topics) {
      for (const p of t.partitions) {
        throwOnError(p.errorCode, null, `${t.name}-${p.partitionIndex}`);
        out.set(tpKey(t.name, p.partitionIndex), Number(p.lowWatermark));
      }
    }
  }
  return out;
}
