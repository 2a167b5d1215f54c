import { Reader, Writer } from '../../../src/protocol/primitives/index.js';

/** A decoded ApiVersions response (the fields the tests look at). */
export interface ApiVersionsResult {
  correlationId: number;
  errorCode: number;
  apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
  throttleTimeMs: number;
}

/** The ApiVersions v3+ request body (client software name and version). */
export function apiVersionsV3Body(name = 'brook-test', version = '1.0'): Buffer {
  return Buffer.from(new Writer().compactString(name).compactString(version).uvarint(0).finish());
}

/** Decodes an ApiVersions response frame of `version` (header v0 in every version). */
export function decodeApiVersions(frame: Buffer, version: number): ApiVersionsResult {
  const r = new Reader(frame);
  const correlationId = r.int32();
  const errorCode = r.int16();
  const flexible = version >= 3;
  const n = flexible ? r.compactArrayLength() : r.arrayLength();
  const apiKeys: ApiVersionsResult['apiKeys'] = [];
  for (let i = 0; i < n; i++) {
    apiKeys.push({ apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() });
    if (flexible) r.taggedFields();
  }
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  if (flexible) r.taggedFields();
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after ApiVersions v${version}`);
  return { correlationId, errorCode, apiKeys, throttleTimeMs };
}
