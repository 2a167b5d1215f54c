/**
 * Request and response headers, and whole frames (size prefix + header + body), for the broker's
 * connection code and the client. The header version follows from the API key and version:
 * requests use header v2 from the API's first flexible version (v1 before), responses v1 (v0
 * before), except ApiVersions responses which always use v0. In every request header version the
 * ClientId is a classic nullable string (int16 length), never a compact one.
 */
import {
  API_KEY,
  type ApiMessages,
  apiSpec,
  type Complete,
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './generated/index.js';
import { DecodeError, Reader, type TaggedFields, Writer } from './primitives/index.js';

/** A decoded request header, with where the request body starts. */
export interface RequestHeaderInfo {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** 1 or 2: the header version implied by the API key and version. */
  headerVersion: number;
  /** Offset in the frame of the first byte of the request body. */
  bodyOffset: number;
  /** Tagged fields of a v2 header that this codec does not know. */
  unknownTaggedFields?: TaggedFields;
}

/**
 * Decodes the request header at `offset` of `frame` (a request without its 4-byte size prefix).
 * Unknown API keys and versions are decoded with the header version they imply (v1 for unknown
 * keys), so that the caller can still answer with the correlation id. Throws DecodeError.
 */
export function readRequestHeader(frame: Buffer, offset = 0): RequestHeaderInfo {
  const r = new Reader(frame, offset);
  // The API key and version come first in every header version; peek them to pick the version.
  r.need(4, 'request header');
  const apiKey = frame.readInt16BE(offset);
  const apiVersion = frame.readInt16BE(offset + 2);
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const h = decodeRequestHeader(r, headerVersion);
  const info: RequestHeaderInfo = {
    apiKey,
    apiVersion,
    correlationId: h.correlationId,
    clientId: h.clientId,
    headerVersion,
    bodyOffset: r.offset,
  };
  if (h._unknownTaggedFields) info.unknownTaggedFields = h._unknownTaggedFields;
  return info;
}

/**
 * Decodes a whole request frame (without its size prefix): the header, then the body with the
 * API's decoder. Returns undefined for the body when the API key is unknown or the version is
 * outside the specification's range (the caller answers UNSUPPORTED_VERSION). Throws DecodeError
 * for malformed bytes, including bytes left over after the body.
 */
export function readRequest(frame: Buffer): {
  header: RequestHeaderInfo;
  body: object | undefined;
} {
  const header = readRequestHeader(frame);
  const spec = apiSpec(header.apiKey);
  const v = spec?.validVersions;
  if (!spec || !v || header.apiVersion < v.min || header.apiVersion > v.max) {
    return { header, body: undefined };
  }
  const r = new Reader(frame, header.bodyOffset);
  const body = spec.decodeRequest(r, header.apiVersion);
  checkConsumed(r, spec.name);
  return { header, body };
}

/** A frame must end exactly where its body does: trailing bytes mean a framing or codec bug. */
function checkConsumed(r: Reader, what: string): void {
  if (r.remaining !== 0) {
    throw new DecodeError(`${what}: ${r.remaining} bytes left after the body`, r.offset);
  }
}

/** Writes an int32 size prefix placeholder; returns its position for {@link endFrame}. */
function beginFrame(w: Writer): number {
  return w.reserve(4);
}

function endFrame(w: Writer, at: number): Buffer {
  w.buf.writeInt32BE(w.offset - at - 4, at);
  return w.buf.subarray(at, w.offset);
}

/**
 * Encodes a complete response frame: int32 size, response header (v0 or v1 as the API and
 * version require), body. Returns a view of the writer's buffer; pass a writer to reuse one
 * (and copy or send the result before reusing it again).
 */
export function encodeResponseFrame<K extends keyof ApiMessages>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  response: ApiMessages[K]['response'],
  w: Writer = new Writer(256),
): Buffer {
  const spec = apiSpec(apiKey);
  if (!spec) throw new RangeError(`unknown API key ${apiKey}`);
  const at = beginFrame(w);
  encodeResponseHeader(w, { correlationId }, responseHeaderVersion(apiKey, apiVersion));
  spec.encodeResponse(w, response, apiVersion);
  return endFrame(w, at);
}

/**
 * Encodes a complete request frame: int32 size, request header (v1 or v2), body. For clients.
 */
export function encodeRequestFrame<K extends keyof ApiMessages>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  request: ApiMessages[K]['request'],
  w: Writer = new Writer(256),
): Buffer {
  const spec = apiSpec(apiKey);
  if (!spec) throw new RangeError(`unknown API key ${apiKey}`);
  const at = beginFrame(w);
  encodeRequestHeader(
    w,
    { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId },
    requestHeaderVersion(apiKey, apiVersion),
  );
  spec.encodeRequest(w, request, apiVersion);
  return endFrame(w, at);
}

/**
 * Decodes a response frame (without its size prefix) to a request the client sent with
 * `apiKey`/`apiVersion`. Throws DecodeError for malformed bytes or bytes left after the body.
 *
 * ApiVersions is special (KIP-511): a broker that does not know the version a client sent
 * answers with a version 0 body carrying UNSUPPORTED_VERSION and the versions it does support.
 * So when an ApiVersions body does not decode at the version sent, it is decoded again as v0,
 * as Kafka's own client does.
 */
export function readResponse<K extends keyof ApiMessages>(
  frame: Buffer,
  apiKey: K,
  apiVersion: number,
): { correlationId: number; body: Complete<ApiMessages[K]['response']> } {
  const spec = apiSpec(apiKey);
  if (!spec) throw new RangeError(`unknown API key ${apiKey}`);
  const r = new Reader(frame);
  const h = decodeResponseHeader(r, responseHeaderVersion(apiKey, apiVersion));
  const bodyAt = r.offset;
  let body: object;
  try {
    body = spec.decodeResponse(r, apiVersion);
    checkConsumed(r, spec.name);
  } catch (e) {
    if (!(e instanceof DecodeError) || apiKey !== API_KEY.ApiVersions || apiVersion === 0) throw e;
    const v0 = new Reader(frame, bodyAt);
    body = spec.decodeResponse(v0, 0);
    checkConsumed(v0, spec.name);
  }
  return { correlationId: h.correlationId, body: body as Complete<ApiMessages[K]['response']> };
}

/** Reads only the correlation id of a response frame (the first int32 in every header version). */
export function readResponseCorrelationId(frame: Buffer): number {
  if (frame.length < 4) throw new DecodeError('response frame shorter than its header', 0);
  return frame.readInt32BE(0);
}
