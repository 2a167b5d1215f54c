/**
 * Tidying a partition directory at open: finishing or discarding an interrupted compaction swap,
 * removing leftovers of deletions, and listing the segments.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, readTextIfExists, writeFileAtomic } from './fs-util.js';
import {
  CLEANED_SUFFIX,
  CLEANER_SWAP_MANIFEST,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  TIME_INDEX_SUFFIX,
  parseSegmentFile,
  segmentFile,
} from './naming.js';

const SEGMENT_SUFFIXES = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] as const;

/** What the cleaner commits to before swapping: the segments replaced by `base`'s cleaned files. */
export interface SwapManifest {
  base: number;
  replaced: number[];
}

/** Writes the swap manifest: from here on, a restart completes the swap. */
export function commitSwap(dir: string, manifest: SwapManifest): void {
  writeFileAtomic(join(dir, CLEANER_SWAP_MANIFEST), JSON.stringify(manifest));
}

/**
 * Finishes a committed swap (idempotently: safe to crash and run again at any step), or, with no
 * manifest, discards cleaned files of an unfinished clean.
 */
export function completeSwap(dir: string): void {
  const manifestPath = join(dir, CLEANER_SWAP_MANIFEST);
  const text = readTextIfExists(manifestPath);
  if (text !== undefined) {
    let manifest: SwapManifest | undefined;
    try {
      manifest = JSON.parse(text) as SwapManifest;
    } catch {
      manifest = undefined; // written atomically, so unreadable means never committed
    }
    if (manifest) {
      // The cleaned files were complete and synced before the manifest was written, so rolling
      // forward is always possible: the replaced segments go whatever step the crash hit.
      for (const r of manifest.replaced) {
        if (r === manifest.base) continue;
        for (const s of SEGMENT_SUFFIXES) rmSync(segmentFile(dir, r, s), { force: true });
      }
    }
    if (manifest) {
      for (const s of SEGMENT_SUFFIXES) {
        const cleaned = segmentFile(dir, manifest.base, s + CLEANED_SUFFIX);
        if (existsSync(cleaned)) renameSync(cleaned, segmentFile(dir, manifest.base, s));
      }
    }
    fsyncDir(dir);
    rmSync(manifestPath, { force: true });
  }
  for (const name of readdirSync(dir)) {
    if (name.endsWith(CLEANED_SUFFIX) || name.endsWith(DELETED_SUFFIX) || name.endsWith('.tmp'))
      rmSync(join(dir, name), { force: true });
  }
}

/** Prepares the directory and returns the base offsets of its segments, ascending. */
export function listSegments(dir: string): number[] {
  completeSwap(dir);
  const bases: number[] = [];
  const names = readdirSync(dir);
  const logs = new Set<number>();
  for (const name of names) {
    const b = parseSegmentFile(name, LOG_SUFFIX);
    if (b !== undefined) {
      bases.push(b);
      logs.add(b);
    }
  }
  // Index files without a log (e.g. a crash between deleting a segment's files) are leftovers.
  for (const name of names) {
    for (const s of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
      const b = parseSegmentFile(name, s);
      if (b !== undefined && !logs.has(b)) rmSync(join(dir, name), { force: true });
    }
  }
  return bases.sort((a, b) => a - b);
}
