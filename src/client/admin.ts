/**
 * The admin client: topics, partitions, configs, consumer groups (with offsets and lag), record
 * deletion and the cluster description, each one call over the matching Kafka API. The
 * operations live in `admin/` by subject (topics, configs, groups); this class holds the
 * cluster and hands each call on.
 */
import type { ClientOptions, TopicInfo } from './cluster.js';
import { Cluster } from './cluster.js';
import {
  alterConfigs,
  type ConfigEntry,
  type ConfigOp,
  ConfigResourceType,
  describeConfigs,
  incrementalAlterConfigs,
} from './admin/configs.js';
import type { AdminContext } from './admin/context.js';
import {
  deleteGroups,
  describeGroup,
  fetchOffsets,
  type GroupDescription,
  type GroupMemberDescription,
  type GroupPartitionLag,
  groupLag,
  listGroups,
  type ResetSpec,
  resetOffsets,
} from './admin/groups.js';
import { throwOnError } from './admin/response-errors.js';
import {
  createPartitions,
  createTopics,
  deleteRecords,
  deleteTopics,
  describeTopics,
  listTopics,
  type NewTopic,
} from './admin/topics.js';
import { listOffsets, type TopicPartition, type TopicPartitionOffset } from './consumer/offsets.js';

export type {
  ConfigEntry,
  ConfigOp,
  GroupDescription,
  GroupMemberDescription,
  GroupPartitionLag,
  NewTopic,
  ResetSpec,
};
export { ConfigResourceType };

/** A Kafka admin client. */
export class Admin {
  readonly cluster: Cluster;
  private readonly ctx: AdminContext;

  /** `timeoutMs` (default 30000) is sent with requests and bounds waits for metadata. */
  constructor(options: ClientOptions & { timeoutMs?: number } = {}) {
    this.cluster = new Cluster(options);
    this.ctx = { cluster: this.cluster, timeoutMs: options.timeoutMs ?? 30000 };
  }

  /** Creates topics and waits until metadata shows their leaders; throws the first error. */
  createTopics(topics: NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    return createTopics(this.ctx, topics, options);
  }

  /** Deletes topics and waits until metadata no longer shows them. */
  deleteTopics(topics: string[]): Promise<void> {
    return deleteTopics(this.ctx, topics);
  }

  /** Names of every topic (internal ones only when asked). */
  listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    return listTopics(this.ctx, options);
  }

  /** Partitions, leaders, replicas and ISR of topics. */
  describeTopics(topics: string[]): Promise<TopicInfo[]> {
    return describeTopics(this.ctx, topics);
  }

  /** Raises the partition count of topics (`count` is the new total). */
  createPartitions(topics: Array<{ topic: string; count: number }>): Promise<void> {
    return createPartitions(this.ctx, topics);
  }

  /** Configs of a resource (a topic by default). */
  describeConfigs(
    name: string,
    type: number = ConfigResourceType.TOPIC,
    keys: string[] | null = null,
  ): Promise<ConfigEntry[]> {
    return describeConfigs(this.ctx, name, type, keys);
  }

  /** Replaces a resource's whole config (AlterConfigs; keys left out return to defaults). */
  alterConfigs(
    name: string,
    configs: Record<string, string>,
    type: number = ConfigResourceType.TOPIC,
  ): Promise<void> {
    return alterConfigs(this.ctx, name, configs, type);
  }

  /** Changes single config keys (IncrementalAlterConfigs). */
  incrementalAlterConfigs(
    name: string,
    changes: Array<{ name: string; op?: ConfigOp; value?: string | null }>,
    type: number = ConfigResourceType.TOPIC,
  ): Promise<void> {
    return incrementalAlterConfigs(this.ctx, name, changes, type);
  }

  /** Groups of every broker. */
  listGroups(): Promise<Array<{ groupId: string; protocolType: string; state: string | null }>> {
    return listGroups(this.ctx);
  }

  /** Members, state and assignments of a group. */
  describeGroup(groupId: string): Promise<GroupDescription> {
    return describeGroup(this.ctx, groupId);
  }

  /** Committed offsets of a group (all partitions it has offsets for by default). */
  fetchOffsets(
    groupId: string,
    partitions: TopicPartition[] | null = null,
  ): Promise<TopicPartitionOffset[]> {
    return fetchOffsets(this.ctx, groupId, partitions);
  }

  /**
   * Per partition: committed offset, log end offset and lag, and the member that owns it — what
   * `kafka-consumer-groups --describe` prints. Covers committed partitions and assigned ones.
   */
  groupLag(
    groupId: string,
  ): Promise<{ group: GroupDescription | null; partitions: GroupPartitionLag[] }> {
    return groupLag(this.ctx, groupId);
  }

  /** Deletes groups (they must have no members). */
  deleteGroups(groupIds: string[]): Promise<void> {
    return deleteGroups(this.ctx, groupIds);
  }

  /**
   * Resets a group's committed offsets for the partitions of `topics` (or the given partitions).
   * The group must be empty (no active members), as Kafka requires. Returns the new offsets;
   * with `dryRun` nothing is committed.
   */
  resetOffsets(
    groupId: string,
    target: { topics?: string[]; partitions?: TopicPartition[] },
    spec: ResetSpec,
    options: { dryRun?: boolean } = {},
  ): Promise<TopicPartitionOffset[]> {
    return resetOffsets(this.ctx, groupId, target, spec, options);
  }

  /** Deletes records before `offset` in each partition (-1: up to the high watermark). */
  deleteRecords(
    partitions: Array<TopicPartition & { offset: number }>,
  ): Promise<Map<string, number>> {
    return deleteRecords(this.ctx, partitions);
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
      throwOnError(res.errorCode, res.errorMessage, 'DescribeCluster');
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

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.cluster.close();
  }
}
