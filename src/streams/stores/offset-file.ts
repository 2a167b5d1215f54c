import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { StoreEngineError } from '../errors.js';
import type { ChangelogOffset } from './changelog.js';

/** The file in a store folder that says which changelog offset the local state is at. */
export const OFFSET_FILE = 'OFFSET';

/** The changelog partition a store folder belongs to, recorded beside the offset. */
export interface ChangelogPartition {
  readonly topic: string;
  readonly partition: number;
}

/** What the OFFSET file says about the local state. */
export type LocalStateOffset =
  | { readonly usable: true; readonly offset: ChangelogOffset }
  | { readonly usable: false; readonly reason: string };

interface OffsetFileContents {
  version: 1;
  topic: string;
  partition: number;
  offset: ChangelogOffset;
}

/**
 * Samza's OFFSET file: the changelog offset the engine's files in this folder are exactly at.
 *
 * The file is present only while that is true. The first write that reaches the engine after a
 * commit removes it (`invalidate`), and the next commit writes it again once the engine and the
 * changelog are flushed (`write`). So after a crash mid-run there is no OFFSET file and restore
 * rebuilds from the changelog, while after a clean shutdown (which commits) the local state is
 * reused and only the changelog tail is replayed (host affinity).
 *
 * Both operations are synchronous and durable (fsync of the file and the folder): they happen
 * once per commit interval, and the removal must be on disk before the engine write it guards.
 */
export class OffsetFile {
  readonly #dir: string;
  readonly #path: string;
  readonly #changelog: ChangelogPartition;
  #present: boolean | undefined;

  constructor(storeDir: string, changelog: ChangelogPartition) {
    this.#dir = storeDir;
    this.#path = join(storeDir, OFFSET_FILE);
    this.#changelog = changelog;
  }

  /**
   * Reads the local state's offset. A missing, unreadable or foreign file (another changelog)
   * makes the local state unusable, never an error: the changelog can always rebuild it.
   */
  read(): LocalStateOffset {
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (cause) {
      this.#present = false;
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
        return { usable: false, reason: 'no OFFSET file (new store, or not shut down cleanly)' };
      }
      return { usable: false, reason: `OFFSET file unreadable: ${(cause as Error).message}` };
    }
    this.#present = true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { usable: false, reason: 'OFFSET file is not valid JSON' };
    }
    if (!isContents(parsed)) return { usable: false, reason: 'OFFSET file has an unknown format' };
    const { topic, partition } = this.#changelog;
    if (parsed.topic !== topic || parsed.partition !== partition) {
      return {
        usable: false,
        reason: `OFFSET file belongs to ${parsed.topic}-${parsed.partition}, not ${topic}-${partition}`,
      };
    }
    return { usable: true, offset: parsed.offset };
  }

  /** Records that the local state is exactly at `offset` (durably, atomically). */
  write(offset: ChangelogOffset): void {
    const contents: OffsetFileContents = { version: 1, ...this.#changelog, offset };
    const tmp = `${this.#path}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(contents)}\n`);
      syncPath(tmp, 'r+');
      renameSync(tmp, this.#path);
      syncPath(this.#dir, 'r');
    } catch (cause) {
      throw new StoreEngineError(`cannot write ${this.#path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    this.#present = true;
  }

  /** Removes the file (durably) if present: the local state is about to move past its offset. */
  invalidate(): void {
    if (this.#present === false) return;
    try {
      rmSync(this.#path, { force: true });
      syncPath(this.#dir, 'r');
    } catch (cause) {
      throw new StoreEngineError(`cannot remove ${this.#path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    this.#present = false;
  }

  /** Whether the file is believed present (unknown until read, written or invalidated). */
  get present(): boolean | undefined {
    return this.#present;
  }
}

function syncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function isContents(value: unknown): value is OffsetFileContents {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.version === 1 &&
    typeof v.topic === 'string' &&
    Number.isSafeInteger(v.partition) &&
    Number.isSafeInteger(v.offset) &&
    (v.offset as number) >= -1
  );
}
