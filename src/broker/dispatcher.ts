import { performance } from 'node:perf_hooks';
import { DecodeError, Reader } from '../protocol/primitives/index.js';
import { API_VERSIONS_KEY, writeApiVersionsFallback } from './handlers/18-api-versions.js';
import { ErrorCode } from '../protocol/errors.js';
import type { HandlerRegistry } from './handlers/registry.js';
import type { ApiHandler, BrokerContext, RequestContext, RequestHeader } from './handlers/types.js';
import type { BrokerMetrics } from './metrics.js';
import {
  CloseConnection,
  type Connection,
  type FrameHandler,
  type ResponseFrame,
} from './net/connection.js';
import { ResponseBuilder } from './net/response-builder.js';

/** Fetch's API key: its responses carry record data, up to the request's max bytes. */
const FETCH_KEY = 1;

/** The fields of a decoded Fetch request that bound its response. */
interface FetchShape {
  maxBytes?: number;
  sessionEpoch?: number;
  topics?: { partitions?: { partitionMaxBytes?: number }[] }[];
}

/**
 * Turns request frames into response frames: reads the request header, finds the handler for the
 * API key and version, decodes, runs the handler, encodes. Anything the client got wrong (an API
 * or version we do not serve, bytes that do not decode) closes that connection only, as Kafka
 * does; a handler that throws answers UNKNOWN_SERVER_ERROR.
 */
export class RequestDispatcher implements FrameHandler {
  readonly #registry: HandlerRegistry;
  readonly #broker: BrokerContext;
  readonly #metrics: BrokerMetrics | undefined;

  constructor(registry: HandlerRegistry, broker: BrokerContext, metrics?: BrokerMetrics) {
    this.#registry = registry;
    this.#broker = broker;
    this.#metrics = metrics;
  }

  #close(reason: string, message: string): never {
    this.#metrics?.closedForProtocolError.inc({ reason });
    throw new CloseConnection(message);
  }

  onFrame(frame: Buffer, conn: Connection): ResponseFrame | Promise<ResponseFrame> {
    if (frame.length < 8)
      this.#close('truncated', `request of ${frame.length} bytes is shorter than a request header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const handler = this.#registry.get(apiKey);
    if (!handler) this.#close('unknown_api', `unknown API key ${apiKey} (version ${apiVersion})`);
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        // KIP-511: answer in v0 form (which every client can read) with our ranges.
        const out = new ResponseBuilder(correlationId, false);
        writeApiVersionsFallback(out.w, this.#registry);
        this.#metrics?.requests.inc({
          api: handler.name,
          error_code: ErrorCode.UNSUPPORTED_VERSION,
        });
        conn.log.debug({ apiVersion }, 'ApiVersions version not served; answered with our ranges');
        return out.finish();
      }
      this.#close(
        'unsupported_version',
        `unsupported version ${apiVersion} of ${handler.name} (served: ${handler.minVersion}-${handler.maxVersion})`,
      );
    }

    const flexible = apiVersion >= handler.firstFlexibleVersion;
    const reader = new Reader(frame, 8);
    let header: RequestHeader;
    let request: unknown;
    try {
      header = { apiKey, apiVersion, correlationId, clientId: reader.nullableString() };
      if (flexible) reader.taggedFields();
      request = handler.decodeRequest(reader, apiVersion);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.#close('decode', `cannot decode ${handler.name} v${apiVersion} request: ${err.message}`);
    }

    // Requests whose responses can be large reserve their size while in flight, so that a
    // client cannot pipeline many of them (and never read the answers) to tie up memory.
    const bound = this.#responseBound(apiKey, request);
    if (bound > 0) conn.reserveResponseBytes(bound);

    const started = performance.now();
    const ctx: RequestContext = {
      broker: this.#broker,
      header,
      remote: conn.remote,
      log: conn.log,
      errorCode: ErrorCode.NONE,
    };
    let result: unknown;
    try {
      result = handler.handle(request, ctx);
    } catch (err) {
      return this.#failed(handler, request, ctx, err as Error, started);
    }
    if (result instanceof Promise) {
      return result.then(
        (response) => this.#respond(handler, response, ctx, started),
        (err: Error) => this.#failed(handler, request, ctx, err, started),
      );
    }
    return this.#respond(handler, result, ctx, started);
  }

  /**
   * The most response bytes a request can produce, for the APIs whose responses scale with data;
   * 0 for the others, whose responses are small and bounded by their requests. For Fetch: the
   * client's max bytes within the broker's fetch.max.bytes, and when the request lists every
   * partition it will be answered for (no incremental session), no more than each partition's
   * max bytes, or one batch of message.max.bytes (Kafka's "at least one batch" rule), summed.
   */
  #responseBound(apiKey: number, request: unknown): number {
    if (apiKey !== FETCH_KEY) return 0;
    const req = request as FetchShape;
    const limit = this.#broker.config.int('fetch.max.bytes');
    let bound = typeof req.maxBytes === 'number' && req.maxBytes > 0 ? req.maxBytes : limit;
    bound = Math.min(bound, limit);
    if ((req.sessionEpoch ?? -1) <= 0 && Array.isArray(req.topics)) {
      const batch = this.#broker.config.int('message.max.bytes');
      let sum = 0;
      for (const t of req.topics) {
        for (const p of t.partitions ?? []) sum += Math.max(p.partitionMaxBytes ?? 0, batch);
      }
      bound = Math.min(bound, sum);
    }
    return bound;
  }

  #respond(
    handler: ApiHandler,
    response: unknown,
    ctx: RequestContext,
    started: number,
  ): ResponseFrame {
    const { apiKey, apiVersion, correlationId } = ctx.header;
    let frame: ResponseFrame = null;
    if (response !== null) {
      // ApiVersions keeps response header v0 in every version, so that a client can read it
      // before it knows which versions the broker speaks.
      const flexibleHeader =
        apiVersion >= handler.firstFlexibleVersion && apiKey !== API_VERSIONS_KEY;
      const out = new ResponseBuilder(correlationId, flexibleHeader);
      handler.encodeResponse(response, apiVersion, out);
      frame = out.finish();
    }
    this.#metrics?.requests.inc({ api: handler.name, error_code: ctx.errorCode });
    this.#metrics?.requestSeconds.observe(
      { api: handler.name },
      (performance.now() - started) / 1000,
    );
    return frame;
  }

  #failed(
    handler: ApiHandler,
    request: unknown,
    ctx: RequestContext,
    err: Error,
    started: number,
  ): ResponseFrame {
    // A handler may ask for the connection to be closed (Produce acks=0 failing, as in Kafka).
    if (err instanceof CloseConnection) {
      this.#metrics?.requests.inc({ api: handler.name, error_code: ctx.errorCode });
      throw err;
    }
    ctx.log.error(
      { err, api: handler.name, version: ctx.header.apiVersion },
      'request handler failed',
    );
    if (!handler.errorResponse) {
      this.#close(
        'handler_error',
        `${handler.name} handler failed and has no error response: ${err.message}`,
      );
    }
    ctx.errorCode = ErrorCode.UNKNOWN_SERVER_ERROR;
    const response = handler.errorResponse(
      request,
      ctx.header.apiVersion,
      ErrorCode.UNKNOWN_SERVER_ERROR,
    );
    return this.#respond(handler, response, ctx, started);
  }
}
