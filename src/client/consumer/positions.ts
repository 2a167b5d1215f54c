/**
 * Where a consumer starts reading: offsets for a timestamp (or the earliest/latest sentinels) with
 * the log end where no record is that late, and starting positions from committed offsets or the
 * `autoOffsetReset` policy.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { Cluster } from '../cluster.js';
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  listOffsets,
  type TopicPartition,
  tpKey,
} from './offsets.js';

/**
 * The first offset at or after `timestamp` per partition (EARLIEST_TIMESTAMP / LATEST_TIMESTAMP
 * for the log start / end); partitions with no such record get their log end offset.
 */
export async function offsetsForTimestamp(
  cluster: Cluster,
  tps: TopicPartition[],
  timestamp: number,
  isolationLevel: number,
): Promise<Map<string, number>> {
  const found = await listOffsets(cluster, tps, timestamp, isolationLevel);
  const needEnd = tps.filter((tp) => (found.get(tpKey(tp.topic, tp.partition))?.offset ?? -1) < 0);
  const ends =
    needEnd.length > 0
      ? await listOffsets(cluster, needEnd, LATEST_TIMESTAMP, isolationLevel)
      : new Map();
  const out = new Map<string, number>();
  for (const tp of tps) {
    const k = tpKey(tp.topic, tp.partition);
    const o = found.get(k)?.offset ?? -1;
    out.set(k, o >= 0 ? o : (ends.get(k)?.offset ?? 0));
  }
  return out;
}

/**
 * Starting positions of `tps`: the committed offset where `committed` has one, else the log
 * start (`earliest`) or end (`latest`); `none` fails with OFFSET_OUT_OF_RANGE naming the
 * partitions without a committed offset.
 */
export async function startingPositions(
  cluster: Cluster,
  tps: TopicPartition[],
  committed: Map<string, number>,
  policy: 'earliest' | 'latest' | 'none',
  isolationLevel: number,
): Promise<Map<string, number>> {
  const rest = tps.filter((tp) => !committed.has(tpKey(tp.topic, tp.partition)));
  if (rest.length > 0 && policy === 'none') {
    throw new KafkaError(
      ErrorCode.OFFSET_OUT_OF_RANGE,
      `(no committed offset for ${rest.map((tp) => `${tp.topic}-${tp.partition}`).join(', ')} and autoOffsetReset is 'none')`,
    );
  }
  const found =
    rest.length > 0
      ? await listOffsets(
          cluster,
          rest,
          policy === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
          isolationLevel,
        )
      : new Map();
  const out = new Map<string, number>();
  for (const tp of tps) {
    const k = tpKey(tp.topic, tp.partition);
    const o = committed.get(k) ?? found.get(k)?.offset;
    if (o !== undefined) out.set(k, o);
  }
  return out;
}
