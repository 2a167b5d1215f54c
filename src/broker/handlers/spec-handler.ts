import { type ApiMessages, API_SPECS, type Complete } from '../../protocol/generated/index.js';
import type { ApiHandler, RequestContext } from './types.js';

type Req<K extends keyof ApiMessages> = Complete<ApiMessages[K]['request']>;
type Res<K extends keyof ApiMessages> = ApiMessages[K]['response'];

/** What a handler built on the generated codecs supplies: versions served and the work. */
export interface SpecHandlerOptions<K extends keyof ApiMessages> {
  /** The versions served: a sub-range of the specification's. */
  minVersion: number;
  maxVersion: number;
  handle(request: Req<K>, ctx: RequestContext): Res<K> | null | Promise<Res<K> | null>;
  errorResponse?(request: Req<K>, version: number, errorCode: number): Res<K>;
  /** Splice large byte fields (record data) into the response by reference (Fetch). */
  spliceRecords?: boolean;
}

/**
 * A handler whose request decoding and response encoding are the generated codecs of `apiKey`
 * (src/protocol/generated), so the handler file holds only the broker's logic.
 */
export function specHandler<K extends keyof ApiMessages>(
  apiKey: K,
  opts: SpecHandlerOptions<K>,
): ApiHandler {
  const spec = API_SPECS[apiKey];
  if (opts.minVersion < spec.validVersions.min || opts.maxVersion > spec.validVersions.max) {
    throw new Error(
      `${spec.name}: versions ${opts.minVersion}-${opts.maxVersion} exceed the specification`,
    );
  }
  const handler: ApiHandler<Req<K>, Res<K>> = {
    apiKey,
    name: spec.name,
    minVersion: opts.minVersion,
    maxVersion: opts.maxVersion,
    firstFlexibleVersion: spec.flexibleFrom ?? Number.POSITIVE_INFINITY,
    decodeRequest: (r, version) => spec.decodeRequest(r, version) as Req<K>,
    handle: opts.handle,
    encodeResponse(response, version, out) {
      out.w.splice = opts.spliceRecords === true;
      spec.encodeResponse(out.w, response, version);
      out.w.splice = false;
    },
    errorResponse: opts.errorResponse,
  };
  return handler as unknown as ApiHandler;
}
