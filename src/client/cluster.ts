/**
 * The client's picture of the cluster: bootstrap servers, broker connections (one per broker and
 * purpose), and a metadata cache of topics, partitions and leaders, refreshed on demand and when
 * older than `metadataMaxAgeMs`.
 */
import type { ApiMessages, Complete } from '../protocol/generated/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { ConnectionError } from './errors.js';

/** Options shared by producer, consumer and admin. */
export interface ClientOptions {
  /** `host:port` list, as an array or comma-separated. Default `localhost:9092`. */
  bootstrapServers?: string | string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Requests in flight per broker connection. Default 5. */
  maxInFlightRequests?: number;
  /**
   * Metadata older than this is refreshed on the next use (a send, a fetch), so that leader
   * moves and added partitions are noticed without an error first; a subscribed consumer also
   * rejoins its group when a topic gained partitions. Default 300000, as Java's
   * `metadata.max.age.ms`.
   */
  metadataMaxAgeMs?: number;
}

/** A broker as metadata describes it. */
export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** One partition of a topic in the metadata cache. */
export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}

/** One topic in the metadata cache. */
export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  errorCode: number;
  /** Indexed by partition number. */
  partitions: PartitionInfo[];
}

/** Parses `host:port[,host:port]`; a missing port means 9092. */
export function parseBootstrap(
  servers: string | string[] | undefined,
): Array<{ host: string; port: number }> {
  const list = (Array.isArray(servers) ? servers : (servers ?? 'localhost:9092').split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0) throw new TypeError('bootstrap servers: give at least one HOST:PORT');
  return list.map((s) => {
    const at = s.lastIndexOf(':');
    const host = at > 0 ? s.slice(0, at).replace(/^\[|\]$/g, '') : s;
    const port = at > 0 ? Number(s.slice(at + 1)) : 9092;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new TypeError(`bootstrap server "${s}": expected HOST:PORT`);
    }
    return { host, port };
  });
}

type MetadataResponse = Complete<ApiMessages[3]['response']>;

/** Connection purposes: long-poll fetches must not delay group heartbeats or produce. */
export type ConnectionPurpose = 'default' | 'coordinator' | 'fetch';

/**
 * Cluster state for one client instance. Connections are opened lazily and re-opened after a
 * failure; metadata refreshes are coalesced.
 */
export class Cluster {
  readonly options: ClientOptions;
  readonly bootstrap: Array<{ host: string; port: number }>;
  brokers = new Map<number, BrokerInfo>();
  topics = new Map<string, TopicInfo>();
  controllerId = -1;
  clusterId: string | null = null;
  private readonly connections = new Map<string, Promise<Connection>>();
  /** Whether metadata requests may auto-create topics (producers: yes; admin: no). */
  allowAutoTopicCreation = false;
  private closed = false;
  /** Topics this client cares about; metadata refreshes cover all of them. */
  readonly interest = new Set<string>();
  /** When metadata was last applied (0: never). */
  private metadataAt = 0;
  private staleRefresh: Promise<unknown> | undefined;

  constructor(options: ClientOptions = {}) {
    this.options = options;
    this.bootstrap = parseBootstrap(options.bootstrapServers);
  }

  private connectionOptions(host: string, port: number): ConnectionOptions {
    const o: ConnectionOptions = { host, port, clientId: this.options.clientId ?? 'brook' };
    if (this.options.connectTimeoutMs !== undefined)
      o.connectTimeoutMs = this.options.connectTimeoutMs;
    if (this.options.requestTimeoutMs !== undefined)
      o.requestTimeoutMs = this.options.requestTimeoutMs;
    if (this.options.maxInFlightRequests !== undefined)
      o.maxInFlight = this.options.maxInFlightRequests;
    return o;
  }

  private open(key: string, host: string, port: number): Promise<Connection> {
    const existing = this.connections.get(key);
    if (existing) return existing;
    if (this.closed)
      return Promise.reject(new ConnectionError(`${host}:${port}`, 'the client is closed'));
    const p = Connection.connect(this.connectionOptions(host, port)).then(
      (c) => {
        c.onClose(() => {
          if (this.connections.get(key) === p) this.connections.delete(key);
        });
        if (this.closed) c.close();
        return c;
      },
      (err: unknown) => {
        this.connections.delete(key);
        throw err;
      },
    );
    this.connections.set(key, p);
    return p;
  }

  /** A connection to any broker: a known one, else the bootstrap servers in turn. */
  async any(): Promise<Connection> {
    for (const [key, p] of this.connections) {
      if (key.endsWith('/default')) {
        const c = await p.catch(() => undefined);
        if (c?.isOpen) return c;
      }
    }
    const candidates = [
      ...[...this.brokers.values()].map((b) => ({
        host: b.host,
        port: b.port,
        key: `${b.nodeId}/default`,
      })),
      ...this.bootstrap.map((b) => ({
        host: b.host,
        port: b.port,
        key: `bootstrap:${b.host}:${b.port}/default`,
      })),
    ];
    let last: unknown;
    for (const c of candidates) {
      try {
        return await this.open(c.key, c.host, c.port);
      } catch (err) {
        last = err;
      }
    }
    if (this.bootstrap.length === 1 && last instanceof Error) throw last;
    const list = this.bootstrap.map((b) => `${b.host}:${b.port}`).join(', ');
    throw new ConnectionError(
      list,
      `cannot reach any of ${list} — is \`brook start\` running? (${(last as Error)?.message ?? ''})`,
      { cause: last },
    );
  }

  /** A connection to broker `nodeId` (refreshing metadata once if it is unknown). */
  async broker(nodeId: number, purpose: ConnectionPurpose = 'default'): Promise<Connection> {
    let b = this.brokers.get(nodeId);
    if (!b) {
      await this.refreshMetadata();
      b = this.brokers.get(nodeId);
    }
    if (!b)
      throw new ConnectionError(
        `node ${nodeId}`,
        `broker ${nodeId} is not in the cluster metadata`,
      );
    return this.open(`${nodeId}/${purpose}`, b.host, b.port);
  }

  /** A connection to an explicit address (coordinators are given as host/port). */
  connectTo(
    nodeId: number,
    host: string,
    port: number,
    purpose: ConnectionPurpose,
  ): Promise<Connection> {
    return this.open(`${nodeId}@${host}:${port}/${purpose}`, host, port);
  }

  /** Adds topics to the interest set (they are included in every refresh). */
  addTopics(topics: Iterable<string>): void {
    for (const t of topics) this.interest.add(t);
  }

  /**
   * Refreshes metadata for the topics of interest plus `topics` (or for every topic when
   * `allTopics`). Concurrent calls share a request when it covers what they need.
   */
  async refreshMetadata(
    topics: Iterable<string> = [],
    allTopics = false,
  ): Promise<MetadataResponse> {
    for (const t of topics) this.interest.add(t);
    const want = allTopics ? null : new Set(this.interest);
    let result: MetadataResponse | undefined;
    const run = async (): Promise<void> => {
      const conn = await this.any();
      const v = conn.versionFor(3);
      const req: ApiMessages[3]['request'] = {
        // Metadata v0 has no null (all topics): an empty list means all there.
        topics: want === null ? (v === 0 ? [] : null) : [...want].map((name) => ({ name })),
      };
      // Versions before 4 always auto-create (broker permitting) and have no field for it.
      if (v >= 4) req.allowAutoTopicCreation = this.allowAutoTopicCreation;
      const res = await conn.request(3, req);
      this.apply(res, want === null);
      result = res;
    };
    await run();
    return result as MetadataResponse;
  }

  /**
   * Starts a refresh in the background when the metadata is older than `metadataMaxAgeMs` (and
   * none is running); cheap enough to call on every send or fetch.
   */
  refreshIfStale(now = Date.now()): void {
    if (this.staleRefresh || this.closed || this.metadataAt === 0) return;
    if (now - this.metadataAt < (this.options.metadataMaxAgeMs ?? 300000)) return;
    this.staleRefresh = this.refreshMetadata()
      .catch(() => undefined)
      .finally(() => {
        this.staleRefresh = undefined;
      });
  }

  private apply(res: MetadataResponse, all: boolean): void {
    this.metadataAt = Date.now();
    const brokers = new Map<number, BrokerInfo>();
    for (const b of res.brokers)
      brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    this.brokers = brokers;
    this.controllerId = res.controllerId;
    this.clusterId = res.clusterId;
    if (all) this.topics.clear();
    for (const t of res.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== 0 && t.partitions.length === 0) {
        this.topics.set(t.name, {
          name: t.name,
          topicId: t.topicId,
          isInternal: t.isInternal,
          errorCode: t.errorCode,
          partitions: [],
        });
        continue;
      }
      const partitions: PartitionInfo[] = [];
      for (const p of t.partitions) {
        partitions[p.partitionIndex] = {
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          errorCode: p.errorCode,
        };
      }
      this.topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        errorCode: t.errorCode,
        partitions,
      });
    }
  }

  /**
   * Metadata of `topic`, refreshing when it is missing. Throws UNKNOWN_TOPIC_OR_PARTITION (a
   * KafkaError) if the broker does not know the topic.
   */
  async topic(topic: string): Promise<TopicInfo> {
    let t = this.topics.get(topic);
    if (!t || t.partitions.length === 0) {
      await this.refreshMetadata([topic]);
      t = this.topics.get(topic);
    }
    if (!t || t.partitions.length === 0) {
      throw new KafkaError(
        t?.errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `(topic "${topic}")`,
      );
    }
    return t;
  }

  /**
   * Like {@link topic}, but waits (refreshing with backoff) while the topic is being created or
   * has no leader yet, up to `timeoutMs`.
   */
  async waitForTopic(topic: string, timeoutMs: number): Promise<TopicInfo> {
    const deadline = Date.now() + timeoutMs;
    let delay = 50;
    for (;;) {
      try {
        const t = await this.topic(topic);
        if (t.partitions.every((p) => p && p.leader >= 0)) return t;
      } catch (err) {
        const retriable =
          err instanceof KafkaError ? err.retriable : err instanceof ConnectionError;
        if (!retriable || Date.now() + delay > deadline) throw err;
      }
      if (Date.now() + delay > deadline) return this.topic(topic);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
      this.topics.delete(topic);
    }
  }

  /** Leader node id of a partition from the cache, or -1. */
  leaderOf(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }

  /** A connection to the controller (or any broker when the controller is not a known broker). */
  async controller(): Promise<Connection> {
    if (this.brokers.size === 0) await this.refreshMetadata();
    if (this.brokers.has(this.controllerId)) return this.broker(this.controllerId);
    return this.any();
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const p of all) {
      const c = await p.catch(() => undefined);
      c?.close();
    }
  }
}
