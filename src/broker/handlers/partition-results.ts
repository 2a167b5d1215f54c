/**
 * Small pieces every handler with per-topic or per-partition results shares: counting the first
 * failure as the request's error code, and building one result per requested partition.
 */
import type { Log } from '../../storage/log.js';
import type { BrokerContext, RequestContext } from './types.js';

/**
 * Counts `errorCode` as the request's error code in the metrics, unless the request already has
 * one: the first failing part of a request names it.
 */
export function noteError(ctx: RequestContext, errorCode: number): void {
  if (errorCode !== 0 && ctx.errorCode === 0) ctx.errorCode = errorCode;
}

/** A requested topic with its partitions, as ListOffsets and DeleteRecords requests name them. */
interface RequestedTopic<P> {
  name: string;
  partitions: readonly P[];
}

/** One result per requested partition, grouped by topic in request order. */
export function perPartition<P, R>(
  topics: readonly RequestedTopic<P>[],
  result: (partition: P) => R,
): { name: string; partitions: R[] }[] {
  return topics.map((t) => ({ name: t.name, partitions: t.partitions.map(result) }));
}

/** The log of a requested partition; undefined when the topic or the partition does not exist. */
export function partitionLog(
  broker: BrokerContext,
  topicName: string,
  partition: number,
): Log | undefined {
  const topic = broker.topics.get(topicName);
  return topic ? broker.topics.log(topic, partition) : undefined;
}
