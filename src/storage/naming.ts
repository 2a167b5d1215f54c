/** Kafka's on-disk names: partition directories and segment files. */
import { join } from 'node:path';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** Written by the cleaner before the swap; removed on startup when no swap manifest exists. */
export const CLEANED_SUFFIX = '.cleaned';
/** Files renamed for removal after `file.delete.delay.ms` (so that in-flight reads finish). */
export const DELETED_SUFFIX = '.deleted';
export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
/** Commit point of a compaction swap (see cleaner.ts). */
export const CLEANER_SWAP_MANIFEST = 'cleaner-swap';

/** `00000000000000000042` for offset 42. */
export function offsetFileStem(offset: number): string {
  return String(offset).padStart(20, '0');
}

export function segmentFile(dir: string, baseOffset: number, suffix: string): string {
  return join(dir, offsetFileStem(baseOffset) + suffix);
}

/** Directory name of a partition: `<topic>-<partition>`. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Parses `<topic>-<partition>` (topics may contain '-'); undefined if it is not one. */
export function parsePartitionDirName(
  name: string,
): { topic: string; partition: number } | undefined {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return undefined;
  const p = name.slice(dash + 1);
  if (!/^\d+$/.test(p)) return undefined;
  return { topic: name.slice(0, dash), partition: Number(p) };
}

/** Parses a segment stem (`00000000000000000042.log` → 42); undefined for other files. */
export function parseSegmentFile(name: string, suffix = LOG_SUFFIX): number | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const stem = name.slice(0, -suffix.length);
  if (!/^\d{20}$/.test(stem)) return undefined;
  return Number(stem);
}
