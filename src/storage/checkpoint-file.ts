/**
 * Kafka's checkpoint text format, used for `recovery-point-offset-checkpoint`,
 * `log-start-offset-checkpoint`, `cleaner-offset-checkpoint` (per data dir: `topic partition
 * offset` lines) and `leader-epoch-checkpoint` (per partition: `epoch startOffset` lines):
 *
 * ```
 * 0            ← version
 * 2            ← number of entries
 * orders 0 42
 * orders 1 17
 * ```
 */
import { readTextIfExists, replaceFile, writeFileAtomic } from './fs-util.js';

/** Raised when a checkpoint file is malformed; callers fall back to a safe default. */
export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
}

function parse(path: string, fields: number): string[][] {
  const text = readTextIfExists(path);
  if (text === undefined) return [];
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '0') throw new CheckpointFormatError(`${path}: unknown version ${lines[0]}`);
  const n = Number(lines[1]);
  if (!Number.isInteger(n) || n < 0 || lines.length !== n + 2)
    throw new CheckpointFormatError(
      `${path}: expected ${lines[1]} entries, found ${lines.length - 2}`,
    );
  return lines.slice(2).map((l) => {
    const parts = l.split(' ');
    if (parts.length !== fields) throw new CheckpointFormatError(`${path}: bad line "${l}"`);
    return parts;
  });
}

function num(s: string, path: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new CheckpointFormatError(`${path}: bad number ${s}`);
  return n;
}

/** Reads a per-data-dir offset checkpoint into a map keyed by `topic-partition`. */
export function readOffsetCheckpoint(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [topic, partition, offset] of parse(path, 3))
    out.set(`${topic}-${num(partition, path)}`, num(offset, path));
  return out;
}

/** The text of a per-data-dir offset checkpoint. */
export function formatOffsetCheckpoint(
  entries: Iterable<{ topic: string; partition: number; offset: number }>,
): string {
  const lines: string[] = [];
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`);
  return `0\n${lines.length}\n${lines.map((l) => `${l}\n`).join('')}`;
}

/** Writes a per-data-dir offset checkpoint atomically. */
export function writeOffsetCheckpoint(
  path: string,
  entries: Iterable<{ topic: string; partition: number; offset: number }>,
): void {
  writeFileAtomic(path, formatOffsetCheckpoint(entries));
}

/** Reads `epoch startOffset` pairs. */
export function readEpochCheckpoint(path: string): { epoch: number; startOffset: number }[] {
  return parse(path, 2).map(([e, o]) => ({ epoch: num(e, path), startOffset: num(o, path) }));
}

/**
 * Writes `epoch startOffset` pairs atomically, without waiting for the disk (the caller fsyncs
 * the file later, see LeaderEpochCache).
 */
export function writeEpochCheckpoint(
  path: string,
  entries: readonly { epoch: number; startOffset: number }[],
): void {
  const body = entries.map((e) => `${e.epoch} ${e.startOffset}\n`).join('');
  replaceFile(path, `0\n${entries.length}\n${body}`);
}
