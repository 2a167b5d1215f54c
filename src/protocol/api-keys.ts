/**
 * The Kafka API key table as the protocol specification defines it (Kafka 4.4 message JSON):
 * each API's name, key, version range and first flexible version. Derived from the generated
 * codec table; the broker declares per handler which versions it actually serves.
 */
import { ALL_API_SPECS, API_KEY, type ApiKey, apiSpec } from './generated/index.js';

export { API_KEY, type ApiKey, apiSpec };

/** One row of the API key table. */
export interface ApiKeyInfo {
  readonly name: string;
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible version (compact encodings, tagged fields), or null if none is flexible. */
  readonly flexibleFrom: number | null;
  /** True when Kafka marks the highest version as unstable (not to be advertised). */
  readonly latestVersionUnstable: boolean;
  /** Where Kafka serves the API: `broker`, `controller` (KRaft quorum APIs have only the latter). */
  readonly listeners: readonly string[];
}

/** Every API key of the specification, in key order. */
export const API_KEYS: readonly ApiKeyInfo[] = ALL_API_SPECS.map((s) => ({
  name: s.name,
  apiKey: s.apiKey,
  minVersion: s.validVersions.min,
  maxVersion: s.validVersions.max,
  flexibleFrom: s.flexibleFrom,
  latestVersionUnstable: s.latestVersionUnstable,
  listeners: s.listeners,
}));

const NAMES = new Map<number, string>(ALL_API_SPECS.map((s) => [s.apiKey, s.name]));

/** Kafka's name of an API key (`Produce` for 0), or `Unknown(<key>)`. */
export function apiKeyName(apiKey: number): string {
  return NAMES.get(apiKey) ?? `Unknown(${apiKey})`;
}
