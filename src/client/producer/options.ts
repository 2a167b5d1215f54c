/**
 * The producer's settings and record types, with Kafka's names and the Java client's defaults.
 */
import { codecByName } from '../../protocol/compression/index.js';
import { CompressionType } from '../../protocol/record-batch/header.js';
import type { ClientOptions } from '../cluster.js';
import type { Bytes, ProducerHeader } from './batch-builder.js';
import type { Partitioner } from './partitioner.js';

/** Compression by id or by Kafka's name. */
export type CompressionOption = CompressionType | 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Producer settings; names and defaults follow the Java client's. */
export interface ProducerOptions extends ClientOptions {
  /** 0 (no acknowledgement), 1 (leader) or -1/'all' (all in-sync replicas). Default 'all'. */
  acks?: 0 | 1 | -1 | 'all';
  /** Bytes per partition batch. Default 16384. */
  batchSize?: number;
  /** Milliseconds a batch waits for more records before it is sent. Default 5. */
  lingerMs?: number;
  compression?: CompressionOption;
  /** Attempts after the first for retriable errors. Default unbounded (bounded by deliveryTimeoutMs). */
  retries?: number;
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** Time from send to acknowledgement (or failure) of a record. Default 120000. */
  deliveryTimeoutMs?: number;
  /**
   * Idempotent delivery (no duplicates from retries, order kept). Default: on when the broker
   * supports InitProducerId and acks is 'all'; `true` makes it mandatory, `false` turns it off.
   */
  idempotent?: boolean;
  /** Bytes of records buffered before `send` waits. Default 32 MiB. */
  bufferMemory?: number;
  /** How long `send` waits for buffer space or topic metadata before failing. Default 60000. */
  maxBlockMs?: number;
  /** Largest Produce request. Default 1 MiB. */
  maxRequestSize?: number;
  partitioner?: Partitioner;
}

/** One record to send. Keys and values may be Buffers or strings (UTF-8). */
export interface ProducerRecord {
  key?: Bytes;
  value: Bytes;
  headers?: ProducerHeader[] | Record<string, Bytes>;
  /** Explicit partition; otherwise the partitioner chooses. */
  partition?: number;
  /** Milliseconds since the epoch; default now. */
  timestamp?: number;
}

/** Where an acknowledged record landed. offset is -1 with acks=0. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp (the broker's append time when the topic uses LogAppendTime). */
  timestamp: number;
}

export const DEFAULTS = {
  batchSize: 16384,
  lingerMs: 5,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1000,
  deliveryTimeoutMs: 120000,
  bufferMemory: 32 * 1024 * 1024,
  maxBlockMs: 60000,
  maxRequestSize: 1024 * 1024,
  requestTimeoutMs: 30000,
};

export function toCompression(c: CompressionOption | undefined): CompressionType {
  if (c === undefined) return CompressionType.None;
  if (typeof c === 'number') return c;
  return codecByName(c).type;
}

export function toHeaders(h: ProducerRecord['headers']): ProducerHeader[] | undefined {
  if (h === undefined || Array.isArray(h)) return h;
  return Object.entries(h).map(([key, value]) => ({ key, value }));
}

export function keyBytes(key: Bytes): Uint8Array | null {
  if (key === null || key === undefined) return null;
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}
