/**
 * The consumer protocol's payloads inside JoinGroup and SyncGroup: a member's subscription
 * (topics, owned partitions, generation) and its assignment, each behind an int16 version as the
 * Java client writes them.
 */
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '../../protocol/generated/index.js';
import { Reader, Writer } from '../../protocol/primitives/index.js';
import type { TopicPartition } from './offsets.js';

const SUBSCRIPTION_VERSION = 1;
const ASSIGNMENT_VERSION = 1;

/** Encodes ConsumerProtocolSubscription with its int16 version prefix. */
export function encodeSubscription(
  topics: string[],
  owned: TopicPartition[],
  generationId: number,
): Buffer {
  const w = new Writer(64);
  w.int16(SUBSCRIPTION_VERSION);
  encodeConsumerProtocolSubscription(
    w,
    { topics, userData: null, ownedPartitions: groupByTopic(owned), generationId },
    SUBSCRIPTION_VERSION,
  );
  return Buffer.from(w.finish());
}

/** Decodes a member's subscription (newer versions are read as the newest we know). */
export function decodeSubscription(buf: Buffer): {
  topics: string[];
  owned: TopicPartition[];
  generationId: number;
} {
  const r = new Reader(buf);
  const v = Math.min(r.int16(), 3);
  const s = decodeConsumerProtocolSubscription(r, Math.max(0, v));
  const owned: TopicPartition[] = [];
  for (const t of s.ownedPartitions)
    for (const p of t.partitions) owned.push({ topic: t.topic, partition: p });
  return { topics: s.topics, owned, generationId: s.generationId };
}

/** Encodes ConsumerProtocolAssignment with its int16 version prefix. */
export function encodeAssignment(partitions: TopicPartition[]): Buffer {
  const w = new Writer(64);
  w.int16(ASSIGNMENT_VERSION);
  encodeConsumerProtocolAssignment(
    w,
    { assignedPartitions: groupByTopic(partitions), userData: null },
    ASSIGNMENT_VERSION,
  );
  return Buffer.from(w.finish());
}

/** Decodes a member's assignment (empty bytes: nothing assigned). */
export function decodeAssignment(buf: Buffer): TopicPartition[] {
  if (buf.length === 0) return [];
  const r = new Reader(buf);
  const v = Math.min(r.int16(), 3);
  const a = decodeConsumerProtocolAssignment(r, Math.max(0, v));
  const out: TopicPartition[] = [];
  for (const t of a.assignedPartitions)
    for (const p of t.partitions) out.push({ topic: t.topic, partition: p });
  return out;
}

function groupByTopic(tps: TopicPartition[]): { topic: string; partitions: number[] }[] {
  const m = new Map<string, number[]>();
  for (const tp of tps) {
    const l = m.get(tp.topic) ?? [];
    l.push(tp.partition);
    m.set(tp.topic, l);
  }
  return [...m].map(([topic, partitions]) => ({
    topic,
    partitions: partitions.sort((a, b) => a - b),
  }));
}
