/**
 * Consumer group operations of the admin client: list, describe (members with decoded
 * assignments), committed offsets, lag per partition, delete, and offset resets.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { Connection } from '../connection.js';
import { decodeAssignment, decodeSubscription } from '../consumer/consumer-protocol.js';
import {
  commitOffsets,
  EARLIEST_TIMESTAMP,
  fetchCommitted,
  findCoordinator,
  LATEST_TIMESTAMP,
  listOffsets,
  type TopicPartition,
  type TopicPartitionOffset,
  tpKey,
} from '../consumer/offsets.js';
import type { AdminContext } from './context.js';
import { throwOnError } from './response-errors.js';
import { describeTopics } from './topics.js';

/** A group member as DescribeGroups reports it, with its decoded assignment. */
export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  assignment: TopicPartition[];
  subscribedTopics: string[];
}

/** A group as DescribeGroups reports it. */
export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
  errorCode: number;
}

/** Offsets and lag of one partition for a group, like `kafka-consumer-groups --describe`. */
export interface GroupPartitionLag {
  topic: string;
  partition: number;
  /** -1 when the group has no committed offset. */
  committedOffset: number;
  logEndOffset: number;
  /** null when nothing is committed. */
  lag: number | null;
  memberId: string | null;
  clientId: string | null;
  host: string | null;
  metadata: string | null;
}

/** Where to reset a group's offsets. */
export type ResetSpec =
  | { to: 'earliest' }
  | { to: 'latest' }
  | { to: 'timestamp'; timestamp: number }
  | { to: 'offset'; offset: number }
  | { to: 'shift'; by: number };

const byTopicPartition = (a: TopicPartition, b: TopicPartition): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

function coordinator(ctx: AdminContext, groupId: string): Promise<Connection> {
  return findCoordinator(ctx.cluster, groupId, 0, ctx.timeoutMs);
}

/** Groups of every broker. */
export async function listGroups(
  ctx: AdminContext,
): Promise<Array<{ groupId: string; protocolType: string; state: string | null }>> {
  await ctx.cluster.refreshMetadata();
  const out = new Map<string, { groupId: string; protocolType: string; state: string | null }>();
  for (const b of ctx.cluster.brokers.values()) {
    const conn = await ctx.cluster.broker(b.nodeId);
    const res = await conn.request(16, {});
    throwOnError(res.errorCode, null, `ListGroups on broker ${b.nodeId}`);
    for (const g of res.groups)
      out.set(g.groupId, {
        groupId: g.groupId,
        protocolType: g.protocolType,
        state: g.groupState || null,
      });
  }
  return [...out.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
}

/** Members, state and assignments of a group. */
export async function describeGroup(ctx: AdminContext, groupId: string): Promise<GroupDescription> {
  const conn = await coordinator(ctx, groupId);
  const res = await conn.request(15, { groups: [groupId] });
  const g = res.groups[0];
  if (!g) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, '(empty DescribeGroups response)');
  throwOnError(g.errorCode, g.errorMessage, `group "${groupId}"`);
  return {
    groupId: g.groupId,
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    errorCode: g.errorCode,
    members: g.members.map((m) => {
      let assignment: TopicPartition[] = [];
      let subscribedTopics: string[] = [];
      if (g.protocolType === 'consumer') {
        try {
          assignment = decodeAssignment(m.memberAssignment);
          if (m.memberMetadata.length > 0)
            subscribedTopics = decodeSubscription(m.memberMetadata).topics;
        } catch {
          // A non-standard consumer protocol payload: leave it out.
        }
      }
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment,
        subscribedTopics,
      };
    }),
  };
}

/** Committed offsets of a group (all partitions it has offsets for by default). */
export async function fetchOffsets(
  ctx: AdminContext,
  groupId: string,
  partitions: TopicPartition[] | null = null,
): Promise<TopicPartitionOffset[]> {
  const conn = await coordinator(ctx, groupId);
  const res = await fetchCommitted(conn, groupId, partitions);
  return [...res.values()]
    .map((v) => ({
      topic: v.topic,
      partition: v.partition,
      offset: v.offset,
      metadata: v.metadata,
    }))
    .sort(byTopicPartition);
}

/**
 * Per partition: committed offset, log end offset and lag, and the member that owns it — what
 * `kafka-consumer-groups --describe` prints. Covers committed partitions and assigned ones.
 */
export async function groupLag(
  ctx: AdminContext,
  groupId: string,
): Promise<{ group: GroupDescription | null; partitions: GroupPartitionLag[] }> {
  let group: GroupDescription | null = null;
  try {
    group = await describeGroup(ctx, groupId);
  } catch (err) {
    if (!(err instanceof KafkaError)) throw err;
  }
  const committed = await fetchOffsets(ctx, groupId);
  const owners = new Map<string, GroupMemberDescription>();
  for (const m of group?.members ?? [])
    for (const tp of m.assignment) owners.set(tpKey(tp.topic, tp.partition), m);
  const all = new Map<string, TopicPartition>();
  for (const c of committed) all.set(tpKey(c.topic, c.partition), c);
  for (const m of group?.members ?? [])
    for (const tp of m.assignment) all.set(tpKey(tp.topic, tp.partition), tp);
  const tps = [...all.values()];
  const ends = tps.length > 0 ? await listOffsets(ctx.cluster, tps, LATEST_TIMESTAMP) : new Map();
  const byKey = new Map(committed.map((c) => [tpKey(c.topic, c.partition), c]));
  const partitions = tps
    .map((tp) => {
      const k = tpKey(tp.topic, tp.partition);
      const c = byKey.get(k);
      const end = ends.get(k)?.offset ?? -1;
      const off = c && c.offset >= 0 ? c.offset : -1;
      const owner = owners.get(k);
      return {
        topic: tp.topic,
        partition: tp.partition,
        committedOffset: off,
        logEndOffset: end,
        lag: off >= 0 && end >= 0 ? Math.max(0, end - off) : null,
        memberId: owner?.memberId ?? null,
        clientId: owner?.clientId ?? null,
        host: owner?.clientHost ?? null,
        metadata: c?.metadata ?? null,
      };
    })
    .sort(byTopicPartition);
  return { group, partitions };
}

/** Deletes groups (they must have no members). */
export async function deleteGroups(ctx: AdminContext, groupIds: string[]): Promise<void> {
  for (const groupId of groupIds) {
    const conn = await coordinator(ctx, groupId);
    const res = await conn.request(42, { groupsNames: [groupId] });
    for (const r of res.results) throwOnError(r.errorCode, r.errorMessage, `group "${r.groupId}"`);
  }
}

/** The offsets `spec` names for `tps`, clamped to each partition's log as Kafka's tool does. */
async function resetTargets(
  ctx: AdminContext,
  groupId: string,
  tps: TopicPartition[],
  spec: ResetSpec,
): Promise<TopicPartitionOffset[]> {
  const cluster = ctx.cluster;
  if (spec.to === 'offset' || spec.to === 'shift') {
    const current =
      spec.to === 'shift'
        ? new Map(
            (await fetchOffsets(ctx, groupId, tps)).map((c) => [
              tpKey(c.topic, c.partition),
              c.offset,
            ]),
          )
        : new Map<string, number>();
    const [lo, hi] = await Promise.all([
      listOffsets(cluster, tps, EARLIEST_TIMESTAMP),
      listOffsets(cluster, tps, LATEST_TIMESTAMP),
    ]);
    return tps.map((tp) => {
      const k = tpKey(tp.topic, tp.partition);
      const min = lo.get(k)?.offset ?? 0;
      if (spec.to === 'offset') {
        const max = hi.get(k)?.offset ?? spec.offset;
        return { ...tp, offset: Math.min(Math.max(spec.offset, min), max) };
      }
      const base = current.get(k) ?? -1;
      const max = hi.get(k)?.offset ?? 0;
      return { ...tp, offset: Math.min(Math.max((base < 0 ? max : base) + spec.by, min), max) };
    });
  }
  const ts =
    spec.to === 'earliest'
      ? EARLIEST_TIMESTAMP
      : spec.to === 'latest'
        ? LATEST_TIMESTAMP
        : spec.timestamp;
  const found = await listOffsets(cluster, tps, ts);
  const missing = tps.filter((tp) => (found.get(tpKey(tp.topic, tp.partition))?.offset ?? -1) < 0);
  const ends =
    missing.length > 0 ? await listOffsets(cluster, missing, LATEST_TIMESTAMP) : new Map();
  return tps.map((tp) => {
    const k = tpKey(tp.topic, tp.partition);
    const o = found.get(k)?.offset ?? -1;
    return { ...tp, offset: o >= 0 ? o : (ends.get(k)?.offset ?? 0) };
  });
}

/**
 * Resets a group's committed offsets for the partitions of `topics` (or the given partitions).
 * The group must be empty (no active members), as Kafka requires. Returns the new offsets;
 * with `dryRun` nothing is committed.
 */
export async function resetOffsets(
  ctx: AdminContext,
  groupId: string,
  target: { topics?: string[]; partitions?: TopicPartition[] },
  spec: ResetSpec,
  options: { dryRun?: boolean } = {},
): Promise<TopicPartitionOffset[]> {
  let tps = target.partitions ?? [];
  if (target.topics && target.topics.length > 0) {
    const infos = await describeTopics(ctx, target.topics);
    tps = tps.concat(
      infos.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition }))),
    );
  }
  if (tps.length === 0)
    throw new TypeError('reset-offsets: name the topics or partitions to reset');
  const offsets = await resetTargets(ctx, groupId, tps, spec);
  if (!options.dryRun) {
    const conn = await coordinator(ctx, groupId);
    await commitOffsets(conn, groupId, offsets);
  }
  return offsets;
}
