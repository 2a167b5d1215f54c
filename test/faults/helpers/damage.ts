/**
 * Damaging a stopped broker's segment files the way crashes and bad disks do: a file cut at a
 * byte position (a torn write, a lost tail) and bytes flipped in place (bit rot). Each helper
 * says which batch the damage hit, so a scenario knows which offsets must survive.
 */
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { SeededRandom } from './random.js';

/** Where a batch lies in a `.log` file. */
export interface BatchExtent {
  baseOffset: number;
  lastOffset: number;
  position: number;
  size: number;
}

/** The `.log` files of a partition directory, oldest first. */
export function segmentFiles(partitionDir: string): string[] {
  return readdirSync(partitionDir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .sort()
    .map((n) => join(partitionDir, n));
}

/** The batches of a `.log` file, by their headers (stops at the first frame that does not fit). */
export function batchExtents(logFile: string): BatchExtent[] {
  const buf = readFileSync(logFile);
  const out: BatchExtent[] = [];
  let at = 0;
  while (at + 61 <= buf.length) {
    const size = buf.readInt32BE(at + 8) + 12;
    if (size < 61 || at + size > buf.length) break;
    const baseOffset = Number(buf.readBigInt64BE(at));
    out.push({ baseOffset, lastOffset: baseOffset + buf.readInt32BE(at + 23), position: at, size });
    at += size;
  }
  return out;
}

/** What was done to a partition, and the first offset it may have destroyed. */
export interface Damage {
  kind: 'cut' | 'flip';
  file: string;
  /** Byte positions cut at or flipped. */
  positions: number[];
  /** Base offset of the first batch the damage touched: every offset below it must survive. */
  firstDamagedOffset: number;
}

function firstHit(extents: BatchExtent[], position: number): number | undefined {
  return extents.find((e) => position < e.position + e.size)?.baseOffset;
}

/** Cuts `file` at a random byte position (a torn write). */
export function cutAtRandom(file: string, random: SeededRandom): Damage | undefined {
  const extents = batchExtents(file);
  const end = extents.at(-1);
  if (!end) return undefined;
  const at = random.int(0, end.position + end.size - 1);
  truncateSync(file, at);
  return {
    kind: 'cut',
    file,
    positions: [at],
    firstDamagedOffset: firstHit(extents, at) ?? end.lastOffset + 1,
  };
}

/** XORs 1-3 random bytes of `file` with random non-zero masks (bit rot). */
export function flipAtRandom(file: string, random: SeededRandom): Damage | undefined {
  const extents = batchExtents(file);
  const end = extents.at(-1);
  if (!end) return undefined;
  const positions = Array.from({ length: random.int(1, 3) }, () =>
    random.int(0, end.position + end.size - 1),
  );
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    for (const p of positions) {
      readSync(fd, b, 0, 1, p);
      b[0] ^= random.int(1, 255);
      writeSync(fd, b, 0, 1, p);
    }
  } finally {
    closeSync(fd);
  }
  const first = Math.min(...positions.map((p) => firstHit(extents, p) ?? Number.MAX_SAFE_INTEGER));
  return { kind: 'flip', file, positions, firstDamagedOffset: first };
}
