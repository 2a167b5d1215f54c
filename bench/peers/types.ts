/**
 * The contract between the benchmark suite (`bench/run.ts`, `bench/suite/`) and each peer
 * message system it measures beside Brook (Redis Streams, NATS JetStream, RabbitMQ streams).
 * Each peer starts its own server on 127.0.0.1 with a temporary data directory, runs the same
 * workload as Brook's cases, and stops everything it started.
 */

/** One measured run of a peer workload. */
export interface PeerResult {
  /** Records written or read. */
  readonly records: number;
  /** Wall-clock seconds of the measured part (server start excluded). */
  readonly seconds: number;
  readonly recordsPerSec: number;
  /** Payload megabytes (10^6 bytes) per second: records × recordSize / seconds. */
  readonly mbPerSec: number;
  /** The durability setting in force, in the peer's own words (e.g. "appendfsync everysec"). */
  readonly durability: string;
  /**
   * true when every acknowledged write was fsynced before its ack; false when the peer cannot
   * (or was not asked to) — a report puts this beside the figure for durability parity.
   */
  readonly fsyncPerWrite?: boolean;
  /** Every parameter that shaped the figure (client, pipeline depth, batch size, ...). */
  readonly params: Readonly<Record<string, unknown>>;
}

/** Options for starting a peer server. */
export interface PeerStartOptions {
  /** true: every acknowledged write is fsynced before the ack (the durability-parity case). */
  readonly fsync: boolean;
}

/** Options for a produce or consume workload. */
export interface PeerWorkload {
  readonly records: number;
  /** Payload bytes per record (100 or 1024 in the suite). */
  readonly recordSize: number;
}

/** A peer message system the benchmark can start, load and stop. */
export interface Peer {
  /**
   * Stable id used in results: 'redis-streams' | 'redis-streams-c' (written by redis-benchmark)
   * | 'nats-jetstream' | 'rabbitmq-stream'.
   */
  readonly name: string;
  /** null when it can run here, else why not and how to fix it (e.g. "run bench/setup-peers.sh"). */
  available(): Promise<string | null>;
  /** Starts the server (fresh temp data dir, 127.0.0.1, a free port) and creates the stream. */
  start(options: PeerStartOptions): Promise<void>;
  /** Writes `records` records of `recordSize` bytes as fast as the peer's best client allows. */
  produce(workload: PeerWorkload): Promise<PeerResult>;
  /** Reads back `records` records written by the preceding produce. */
  consume(workload: PeerWorkload): Promise<PeerResult>;
  /** Stops the server and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}
