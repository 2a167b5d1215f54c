import type { Reader, Writer } from '../../protocol/primitives/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type HandlerRegistryView } from './types.js';

/** ApiVersions request (v3+ names the client software; v0-v2 are empty). */
export interface ApiVersionsRequest {
  clientSoftwareName: string;
  clientSoftwareVersion: string;
}

/** ApiVersions response. */
export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: readonly { apiKey: number; minVersion: number; maxVersion: number }[];
  throttleTimeMs: number;
}

export const API_VERSIONS_KEY = 18;

/** Kafka's rule for client software names and versions (KIP-511). */
const SOFTWARE_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

function writeApiKeys(w: Writer, keys: ApiVersionsResponse['apiKeys'], flexible: boolean): void {
  if (flexible) w.compactArrayLength(keys.length);
  else w.arrayLength(keys.length);
  for (const k of keys) {
    w.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion);
    if (flexible) w.uvarint(0);
  }
}

/**
 * The KIP-511 answer to an ApiVersions version we do not serve: a v0 body with
 * UNSUPPORTED_VERSION and our ranges, so that the client can retry with a version we know.
 */
export function writeApiVersionsFallback(w: Writer, registry: HandlerRegistryView): void {
  w.int16(ErrorCode.UNSUPPORTED_VERSION);
  writeApiKeys(w, registry.apiVersions(), false);
}

// Hand-written: this codec must exist before any generated one, and its v0 form doubles as the
// KIP-511 fallback that the dispatcher sends without decoding the request.
export const apiVersionsHandler = defineHandler<ApiVersionsRequest, ApiVersionsResponse>({
  apiKey: API_VERSIONS_KEY,
  name: 'ApiVersions',
  minVersion: 0,
  // v5 (KIP-1242, cluster/node id checks) is not served: clients fall back to v4.
  maxVersion: 4,
  firstFlexibleVersion: 3,

  decodeRequest(r: Reader, version: number): ApiVersionsRequest {
    if (version < 3) return { clientSoftwareName: '', clientSoftwareVersion: '' };
    const clientSoftwareName = r.compactString();
    const clientSoftwareVersion = r.compactString();
    r.taggedFields();
    return { clientSoftwareName, clientSoftwareVersion };
  },

  handle(req, ctx) {
    const apiKeys = ctx.broker.handlers.apiVersions();
    const valid =
      ctx.header.apiVersion < 3 ||
      (SOFTWARE_RE.test(req.clientSoftwareName) && SOFTWARE_RE.test(req.clientSoftwareVersion));
    ctx.errorCode = valid ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST;
    return { errorCode: ctx.errorCode, apiKeys, throttleTimeMs: 0 };
  },

  encodeResponse(resp, version, out) {
    const w = out.w;
    const flexible = version >= 3;
    w.int16(resp.errorCode);
    writeApiKeys(w, resp.apiKeys, flexible);
    if (version >= 1) w.int32(resp.throttleTimeMs);
    if (flexible) w.uvarint(0); // no supported/finalized features: a single broker has none to negotiate
  },

  errorResponse(_req, _version, errorCode) {
    return { errorCode, apiKeys: [], throttleTimeMs: 0 };
  },
});
