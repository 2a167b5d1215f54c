/**
 * Which version of each API the client speaks: the highest both sides support, within what the
 * generated codecs cover, minus versions whose shape the client does not handle yet.
 */
import { apiSpec } from '../protocol/generated/index.js';

/** API key → negotiated version. */
export type VersionTable = Map<number, number>;

/**
 * Upper bounds below the codecs' maximum. Produce v13, Fetch v13+ and OffsetCommit v10 name topics
 * by id instead of by name (KIP-516/KIP-848); the client addresses topics by name, so it stays on
 * the last by-name versions, which every broker that serves the newer ones also serves.
 */
export const API_VERSION_CAPS: ReadonlyMap<number, number> = new Map([
  [0, 12], // Produce
  [1, 12], // Fetch
  [8, 9], // OffsetCommit
  [9, 9], // OffsetFetch
]);

/** The version to use for `apiKey` given the broker's range, or undefined if none is shared. */
export function pickVersion(
  apiKey: number,
  brokerMin: number,
  brokerMax: number,
): number | undefined {
  const spec = apiSpec(apiKey);
  if (!spec) return undefined;
  let ourMax = spec.validVersions.max;
  if (spec.latestVersionUnstable) ourMax--;
  const cap = API_VERSION_CAPS.get(apiKey);
  if (cap !== undefined && cap < ourMax) ourMax = cap;
  const hi = Math.min(ourMax, brokerMax);
  const lo = Math.max(spec.validVersions.min, brokerMin);
  return hi >= lo ? hi : undefined;
}
