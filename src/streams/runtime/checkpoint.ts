/*
 * The checkpoint lives in the consumer group's committed offsets: each input partition's offset is
 * the input offset, and its OffsetCommit metadata string carries, as JSON, the changelog offset of
 * every store of the task at the same commit. One OffsetCommit request writes both, atomically
 * (one record per partition in __consumer_offsets, in one batch), so the input offsets and the
 * store state they match can never be read apart.
 */
import type { ChangelogOffset } from '../stores/changelog.js';

/** Format version of the metadata JSON. */
const VERSION = 1;
/** Marks metadata written by Brook's stream runtime. */
const TAG = 'brook-streams';

interface CheckpointMetadata {
  v: number;
  by: string;
  /** Store name → changelog offset of the last record the checkpointed state includes. */
  changelog: Record<string, number>;
}

/** Encodes the stores' changelog offsets as OffsetCommit metadata. */
export function encodeCheckpointMetadata(
  changelogOffsets: ReadonlyMap<string, ChangelogOffset>,
): string {
  const body: CheckpointMetadata = {
    v: VERSION,
    by: TAG,
    changelog: Object.fromEntries(changelogOffsets),
  };
  return JSON.stringify(body);
}

/**
 * Reads the changelog offsets back; `undefined` when the metadata is absent or not ours (offsets
 * committed by another tool: the input offsets stand, the stores have no checkpoint).
 */
export function decodeCheckpointMetadata(
  metadata: string | null | undefined,
): Map<string, ChangelogOffset> | undefined {
  if (metadata === null || metadata === undefined || metadata === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const p = parsed as Partial<CheckpointMetadata>;
  if (p.by !== TAG || p.v !== VERSION || typeof p.changelog !== 'object' || p.changelog === null) {
    return undefined;
  }
  const out = new Map<string, ChangelogOffset>();
  for (const [store, offset] of Object.entries(p.changelog)) {
    if (Number.isSafeInteger(offset) && (offset as number) >= -1) out.set(store, offset as number);
  }
  return out;
}
