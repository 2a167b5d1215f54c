import { ErrorCode } from '../../protocol/errors.js';
import { API_SPECS } from '../../protocol/generated/index.js';
import type { Writer } from '../../protocol/primitives/index.js';
import { specHandler } from './spec-handler.js';
import type { HandlerRegistryView } from './types.js';

export const API_VERSIONS_KEY = 18;

/** Kafka's rule for client software names and versions (KIP-511). */
const SOFTWARE_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

/**
 * The KIP-511 answer to an ApiVersions version we do not serve: a v0 body with
 * UNSUPPORTED_VERSION and our ranges, so that the client can retry with a version we know. The
 * dispatcher sends it without decoding the request (whose body it cannot know).
 */
export function writeApiVersionsFallback(w: Writer, registry: HandlerRegistryView): void {
  API_SPECS[18].encodeResponse(
    w,
    { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: [...registry.apiVersions()] },
    0,
  );
}

export const apiVersionsHandler = specHandler(18, {
  minVersion: 0,
  // v5 (KIP-1242, cluster and node id checks) is not served: clients fall back to v4.
  maxVersion: 4,
  handle(req, ctx) {
    const valid =
      ctx.header.apiVersion < 3 ||
      (SOFTWARE_RE.test(req.clientSoftwareName) && SOFTWARE_RE.test(req.clientSoftwareVersion));
    ctx.errorCode = valid ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST;
    // No supported or finalized features: a single broker has nothing to negotiate.
    return {
      errorCode: ctx.errorCode,
      apiKeys: [...ctx.broker.handlers.apiVersions()],
      throttleTimeMs: 0,
    };
  },
  errorResponse(_req, _version, errorCode) {
    return { errorCode, apiKeys: [], throttleTimeMs: 0 };
  },
});
