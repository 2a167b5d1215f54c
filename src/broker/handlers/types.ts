import type { Logger } from 'pino';
import type { Reader } from '../../protocol/primitives/index.js';
import type { LogManager } from '../../storage/log-manager.js';
import type { BrokerConfig } from '../config.js';
import type { AppendWatchers } from '../fetch/append-watchers.js';
import type { FetchSessionCache } from '../fetch/fetch-sessions.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { ProducerStateManager } from '../producers/manager.js';
import type { ResponseBuilder } from '../net/response-builder.js';
import type { TopicRegistry } from '../topics/topic-registry.js';

/** The parsed request header (v1, or v2 for flexible request versions). */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** The broker as handlers see it: identity, configuration, the handler table, and (later) storage. */
export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly nodeId: number;
  readonly clusterId: string;
  /** The address clients are told to connect to (Metadata, FindCoordinator, DescribeCluster). */
  readonly advertised: { host: string; port: number };
  readonly handlers: HandlerRegistryView;
  readonly log: Logger;
  /** Topic names, ids, partition counts and configs. */
  readonly topics: TopicRegistry;
  /** The partition logs. */
  readonly logs: LogManager;
  /** Wakes Fetch long polls when Produce appends. */
  readonly appends: AppendWatchers;
  /** Fetch sessions (KIP-227). */
  readonly fetchSessions: FetchSessionCache;
  /** Consumer groups and committed offsets (__consumer_offsets). */
  readonly groups: GroupCoordinator;
  /** Producer ids and idempotent producer state. */
  readonly producers: ProducerStateManager;
}

/** The part of the handler registry a handler may read (ApiVersions builds its answer from it). */
export interface HandlerRegistryView {
  /** Every served API key with its version range, in key order. */
  apiVersions(): readonly { apiKey: number; minVersion: number; maxVersion: number }[];
}

/** Everything a handler knows about the request it serves. */
export interface RequestContext {
  readonly broker: BrokerContext;
  readonly header: RequestHeader;
  /** The client's `ip:port`. */
  readonly remote: string;
  readonly log: Logger;
  /**
   * The error code to count this request under in the metrics: the top-level error code, or the
   * first per-partition one. Handlers set it; it starts at 0 (NONE).
   */
  errorCode: number;
}

/**
 * One API key's handler: the versions it serves, how to read its request and write its response,
 * and the work in between. One file per API key under `src/broker/handlers/`.
 */
export interface ApiHandler<Req = unknown, Resp = unknown> {
  readonly apiKey: number;
  /** Kafka's name of the API, e.g. `ApiVersions` (the metrics label). */
  readonly name: string;
  /** The versions this broker serves (a sub-range of what the Kafka 4.4 spec allows). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The first flexible version (request header v2, response header v1); Infinity if none. */
  readonly firstFlexibleVersion: number;
  /** Decodes the request body (after the header). Throws DecodeError on bad input. */
  decodeRequest(reader: Reader, version: number): Req;
  /** Does the work. Returns null when the request gets no response (Produce with acks=0). */
  handle(request: Req, ctx: RequestContext): Resp | null | Promise<Resp | null>;
  /** Writes the response body into `out.w`, splicing large byte ranges in with `out.appendRef`. */
  encodeResponse(response: Resp, version: number, out: ResponseBuilder): void;
  /**
   * The response that reports `errorCode` for every part of `request`, used when `handle` throws.
   * Without it, a handler exception closes the connection.
   */
  errorResponse?(request: Req, version: number, errorCode: number): Resp;
}

/** Erases a handler's request/response types for the registry. */
export function defineHandler<Req, Resp>(h: ApiHandler<Req, Resp>): ApiHandler {
  return h as unknown as ApiHandler;
}
