/**
 * The admin client: topics, partitions, configs, consumer groups (with offsets and lag), record
 * deletion and the cluster description, each one call over the matching Kafka API.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { type ClientOptions, Cluster, type TopicInfo } from './cluster.js';
import type { Connection } from './connection.js';
import { decodeAssignment, decodeSubscription } from './consumer/group.js';
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
} from './consumer/offsets.js';

/** A topic to create. */
export interface NewTopic {
  topic: string;
  /** Default -1: the broker's num.partitions. */
  numPartitions?: number;
  /** Default -1: the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** Config resource types (Kafka's ConfigResource.Type ids). */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, GROUP: 32 } as const;

/** IncrementalAlterConfigs operations. */
export type ConfigOp = 'set' | 'delete' | 'append' | 'subtract';
const CONFIG_OPS: Record<ConfigOp, number> = { set: 0, delete: 1, append: 2, subtract: 3 };

/** One config entry as described. */
export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  source: number;
}

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

function throwTopicError(code: number, message: string | null | undefined, what: string): void {
  if (code !== 0) throw new KafkaError(code, message ? `(${what}: ${message})` : `(${what})`);
}

/** A Kafka admin client. */
export class Admin {
  readonly cluster: Cluster;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions & { timeoutMs?: number } = {}) {
    this.cluster = new Cluster(options);
    this.timeoutMs = options.timeoutMs ?? 30000;
  }

  /** Creates topics; throws the first error (TOPIC_ALREADY_EXISTS, INVALID_*, ...). */
  async createTopics(topics: NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    const conn = await this.cluster.controller();
    const res = await conn.request(19, {
      topics: topics.map((t) => ({
        name: t.topic,
        numPartitions: t.numPartitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: this.timeoutMs,
      validateOnly: options.validateOnly ?? false,
    });
    for (const t of res.topics) throwTopicError(t.errorCode, t.errorMessage, `topic "${t.name}"`);
    if (!options.validateOnly)
      await this.waitForTopics(
        topics.map((t) => t.topic),
        true,
      );
  }

  /** Waits until metadata shows the topics (created) or not (deleted). */
  private async waitForTopics(names: string[], present: boolean): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      await this.cluster.refreshMetadata(names);
      const ok = names.every((n) => {
        const t = this.cluster.topics.get(n);
        const exists =
          t !== undefined &&
          t.partitions.length > 0 &&
          t.partitions.every((p) => p && p.leader >= 0);
        return exists === present;
      });
      if (ok || Date.now() > deadline) {
        if (!present) for (const n of names) this.cluster.interest.delete(n);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Deletes topics. */
  async deleteTopics(topics: string[]): Promise<void> {
    const conn = await this.cluster.controller();
    const v = conn.versionFor(20);
    const res = await conn.request(
      20,
      v >= 6
        ? {
            topics: topics.map((name) => ({
              name,
              topicId: '00000000-0000-0000-0000-000000000000',
            })),
            timeoutMs: this.timeoutMs,
          }
        : { topicNames: topics, timeoutMs: this.timeoutMs },
    );
    for (const t of res.responses)
      throwTopicError(t.errorCode, t.errorMessage, `topic "${t.name}"`);
    await this.waitForTopics(topics, false);
  }

  /** Names of every topic (internal ones only when asked). */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    await this.cluster.refreshMetadata([], true);
    return [...this.cluster.topics.values()]
      .filter((t) => t.errorCode === 0 && (options.includeInternal || !t.isInternal))
      .map((t) => t.name)
      .sort();
  }

  /** Partitions, leaders, replicas and ISR of topics. */
  async describeTopics(topics: string[]): Promise<TopicInfo[]> {
    await this.cluster.refreshMetadata(topics);
    return topics.map((name) => {
      const t = this.cluster.topics.get(name);
      if (t === undefined) {
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `(topic "${name}")`);
      }
      if (t.errorCode !== 0) throw new KafkaError(t.errorCode, `(topic "${name}")`);
      return t;
    });
  }

  /** Raises the partition count of topics (`count` is the new total). */
  async createPartitions(topics: Array<{ topic: string; count: number }>): Promise<void> {
    const conn = await this.cluster.controller();
    const res = await conn.request(37, {
      topics: topics.map((t) => ({ name: t.topic, count: t.count, assignments: null })),
      timeoutMs: this.timeoutMs,
      validateOnly: false,
    });
    for (const r of res.results) throwTopicError(r.errorCode, r.errorMessage, `topic "${r.name}"`);
    await this.cluster.refreshMetadata(topics.map((t) => t.topic));
  }

  /** Configs of a resource (a topic by default). */
  async describeConfigs(
    name: string,
    type: number = ConfigResourceType.TOPIC,
    keys: string[] | null = null,
  ): Promise<ConfigEntry[]> {
    const conn =
      type === ConfigResourceType.BROKER
        ? await this.cluster.broker(Number(name))
        : await this.cluster.any();
    const res = await conn.request(32, {
      resources: [{ resourceType: type, resourceName: name, configurationKeys: keys }],
      includeSynonyms: false,
    });
    const r = res.results[0];
    if (!r)
      throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, '(empty DescribeConfigs response)');
    throwTopicError(r.errorCode, r.errorMessage, `config of "${name}"`);
    return r.configs.map((c) => ({
      name: c.name,
      value: c.value,
      readOnly: c.readOnly,
      isDefault: c.configSource === 5,
      isSensitive: c.isSensitive,
      source: c.configSource,
    }));
  }

  /** Replaces a resource's whole config (AlterConfigs; keys left out return to defaults). */
  async alterConfigs(
    name: string,
    configs: Record<string, string>,
    type: number = ConfigResourceType.TOPIC,
  ): Promise<void> {
    const conn = await this.cluster.any();
    const res = await conn.request(33, {
      resources: [
        {
          resourceType: type,
          resourceName: name,
          configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
        },
      ],
      validateOnly: false,
    });
    for (const r of res.responses)
      throwTopicError(r.errorCode, r.errorMessage, `config of "${name}"`);
  }

  /** Changes single config keys (IncrementalAlterConfigs). */
  async incrementalAlterConfigs(
    name: string,
    changes: Array<{ name: string; op?: ConfigOp; value?: string | null }>,
    type: number = ConfigResourceType.TOPIC,
  ): Promise<void> {
    const conn = await this.cluster.any();
    const res = await conn.request(44, {
      resources: [
        {
          resourceType: type,
          resourceName: name,
          configs: changes.map((c) => ({
            name: c.name,
            configOperation: CONFIG_OPS[c.op ?? 'set'],
            value: c.value ?? null,
          })),
        },
      ],
      validateOnly: false,
    });
    for (const r of res.responses)
      throwTopicError(r.errorCode, r.errorMessage, `config of "${name}"`);
  }

  /** Groups of every broker. */
  async listGroups(): Promise<
    Array<{ groupId: string; protocolType: string; state: string | null }>
  > {
    await this.cluster.refreshMetadata();
    const out = new Map<string, { groupId: string; protocolType: string; state: string | null }>();
    for (const b of this.cluster.brokers.values()) {
      const conn = await this.cluster.broker(b.nodeId);
      const res = await conn.request(16, {});
      throwTopicError(res.errorCode, null, `ListGroups on broker ${b.nodeId}`);
      for (const g of res.groups)
        out.set(g.groupId, {
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: g.groupState || null,
        });
    }
    return [...out.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  private coordinator(groupId: string): Promise<Connection> {
    return findCoordinator(this.cluster, groupId, 0, this.timeoutMs);
  }

  /** Members, state and assignments of a group. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const conn = await this.coordinator(groupId);
    const res = await conn.request(15, { groups: [groupId] });
    const g = res.groups[0];
    if (!g) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, '(empty DescribeGroups response)');
    throwTopicError(g.errorCode, g.errorMessage, `group "${groupId}"`);
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
  async fetchOffsets(
    groupId: string,
    partitions: TopicPartition[] | null = null,
  ): Promise<TopicPartitionOffset[]> {
    const conn = await this.coordinator(groupId);
    const res = await fetchCommitted(conn, groupId, partitions);
    return [...res.values()]
      .map((v) => ({
        topic: v.topic,
        partition: v.partition,
        offset: v.offset,
        metadata: v.metadata,
      }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /**
   * Per partition: committed offset, log end offset and lag, and the member that owns it — what
   * `kafka-consumer-groups --describe` prints. Covers committed partitions and assigned ones.
   */
  async groupLag(
    groupId: string,
  ): Promise<{ group: GroupDescription | null; partitions: GroupPartitionLag[] }> {
    let group: GroupDescription | null = null;
    try {
      group = await this.describeGroup(groupId);
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
    }
    const committed = await this.fetchOffsets(groupId);
    const owners = new Map<string, GroupMemberDescription>();
    for (const m of group?.members ?? [])
      for (const tp of m.assignment) owners.set(tpKey(tp.topic, tp.partition), m);
    const all = new Map<string, TopicPartition>();
    for (const c of committed) all.set(tpKey(c.topic, c.partition), c);
    for (const m of group?.members ?? [])
      for (const tp of m.assignment) all.set(tpKey(tp.topic, tp.partition), tp);
    const tps = [...all.values()];
    const ends =
      tps.length > 0 ? await listOffsets(this.cluster, tps, LATEST_TIMESTAMP) : new Map();
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
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    return { group, partitions };
  }

  /** Deletes groups (they must have no members). */
  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const groupId of groupIds) {
      const conn = await this.coordinator(groupId);
      const res = await conn.request(42, { groupsNames: [groupId] });
      for (const r of res.results)
        throwTopicError(r.errorCode, r.errorMessage, `group "${r.groupId}"`);
    }
  }

  /**
   * Resets a group's committed offsets for the partitions of `topics` (or the given partitions).
   * The group must be empty (no active members), as Kafka requires. Returns the new offsets;
   * with `dryRun` nothing is committed.
   */
  async resetOffsets(
    groupId: string,
    target: { topics?: string[]; partitions?: TopicPartition[] },
    spec: ResetSpec,
    options: { dryRun?: boolean } = {},
  ): Promise<TopicPartitionOffset[]> {
    let tps = target.partitions ?? [];
    if (target.topics && target.topics.length > 0) {
      const infos = await this.describeTopics(target.topics);
      tps = tps.concat(
        infos.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition }))),
      );
    }
    if (tps.length === 0)
      throw new TypeError('reset-offsets: name the topics or partitions to reset');
    let offsets: TopicPartitionOffset[];
    if (spec.to === 'offset') {
      const [lo, hi] = await Promise.all([
        listOffsets(this.cluster, tps, EARLIEST_TIMESTAMP),
        listOffsets(this.cluster, tps, LATEST_TIMESTAMP),
      ]);
      offsets = tps.map((tp) => {
        const k = tpKey(tp.topic, tp.partition);
        const min = lo.get(k)?.offset ?? 0;
        const max = hi.get(k)?.offset ?? spec.offset;
        return { ...tp, offset: Math.min(Math.max(spec.offset, min), max) };
      });
    } else if (spec.to === 'shift') {
      const current = new Map(
        (await this.fetchOffsets(groupId, tps)).map((c) => [tpKey(c.topic, c.partition), c.offset]),
      );
      const [lo, hi] = await Promise.all([
        listOffsets(this.cluster, tps, EARLIEST_TIMESTAMP),
        listOffsets(this.cluster, tps, LATEST_TIMESTAMP),
      ]);
      offsets = tps.map((tp) => {
        const k = tpKey(tp.topic, tp.partition);
        const base = current.get(k) ?? -1;
        const min = lo.get(k)?.offset ?? 0;
        const max = hi.get(k)?.offset ?? 0;
        return { ...tp, offset: Math.min(Math.max((base < 0 ? max : base) + spec.by, min), max) };
      });
    } else {
      const ts =
        spec.to === 'earliest'
          ? EARLIEST_TIMESTAMP
          : spec.to === 'latest'
            ? LATEST_TIMESTAMP
            : spec.timestamp;
      const found = await listOffsets(this.cluster, tps, ts);
      const missing = tps.filter(
        (tp) => (found.get(tpKey(tp.topic, tp.partition))?.offset ?? -1) < 0,
      );
      const ends =
        missing.length > 0 ? await listOffsets(this.cluster, missing, LATEST_TIMESTAMP) : new Map();
      offsets = tps.map((tp) => {
        const k = tpKey(tp.topic, tp.partition);
        const o = found.get(k)?.offset ?? -1;
        return { ...tp, offset: o >= 0 ? o : (ends.get(k)?.offset ?? 0) };
      });
    }
    if (!options.dryRun) {
      const conn = await this.coordinator(groupId);
      await commitOffsets(conn, groupId, offsets);
    }
    return offsets;
  }

  /** Deletes records before `offset` in each partition (-1: up to the high watermark). */
  async deleteRecords(
    partitions: Array<TopicPartition & { offset: number }>,
  ): Promise<Map<string, number>> {
    const byLeader = new Map<number, Array<TopicPartition & { offset: number }>>();
    for (const p of partitions) {
      if (this.cluster.leaderOf(p.topic, p.partition) < 0) await this.cluster.topic(p.topic);
      const leader = this.cluster.leaderOf(p.topic, p.partition);
      const l = byLeader.get(leader) ?? [];
      l.push(p);
      byLeader.set(leader, l);
    }
    const out = new Map<string, number>();
    for (const [leader, ps] of byLeader) {
      const conn = await this.cluster.broker(leader);
      const topics = new Map<string, Array<{ partitionIndex: number; offset: bigint }>>();
      for (const p of ps) {
        const l = topics.get(p.topic) ?? [];
        l.push({ partitionIndex: p.partition, offset: BigInt(p.offset) });
        topics.set(p.topic, l);
      }
      const res = await conn.request(21, {
        topics: [...topics].map(([name, parts]) => ({ name, partitions: parts })),
        timeoutMs: this.timeoutMs,
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          throwTopicError(p.errorCode, null, `${t.name}-${p.partitionIndex}`);
          out.set(tpKey(t.name, p.partitionIndex), Number(p.lowWatermark));
        }
      }
    }
    return out;
  }

  /** Offsets for a timestamp (-1 latest, -2 earliest) per partition. */
  async listOffsets(partitions: TopicPartition[], timestamp: number): Promise<Map<string, number>> {
    const res = await listOffsets(this.cluster, partitions, timestamp);
    return new Map([...res].map(([k, v]) => [k, v.offset]));
  }

  /** Cluster id, controller and brokers (DescribeCluster when served, else Metadata). */
  async describeCluster(): Promise<{
    clusterId: string | null;
    controllerId: number;
    brokers: Array<{ nodeId: number; host: string; port: number; rack: string | null }>;
  }> {
    const conn = await this.cluster.any();
    if (conn.supports(60)) {
      const res = await conn.request(60, { includeClusterAuthorizedOperations: false });
      throwTopicError(res.errorCode, res.errorMessage, 'DescribeCluster');
      return {
        clusterId: res.clusterId,
        controllerId: res.controllerId,
        brokers: res.brokers.map((b) => ({
          nodeId: b.brokerId,
          host: b.host,
          port: b.port,
          rack: b.rack,
        })),
      };
    }
    await this.cluster.refreshMetadata();
    return {
      clusterId: this.cluster.clusterId,
      controllerId: this.cluster.controllerId,
      brokers: [...this.cluster.brokers.values()],
    };
  }

  async close(): Promise<void> {
    await this.cluster.close();
  }
}
