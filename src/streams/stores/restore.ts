import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { ChangelogInconsistentError } from '../errors.js';
import type {
  ChangelogOffset,
  ChangelogReader,
  ChangelogRecord,
  ChangelogWriter,
} from './changelog.js';
import type { BytesStore, Entry } from './key-value-store.js';
import {
  type ChangelogPartition,
  type LocalStateOffset,
  OFFSET_FILE,
  OffsetFile,
} from './offset-file.js';

/**
 * How a store gets to its checkpointed changelog offset C:
 * - `replay-tail`: the local state is exactly at L <= C; replay the changelog records (L, C].
 * - `rebuild`: no usable local state, or local state ahead of the checkpoint (L > C: changes the
 *   checkpoint does not include, from a run that failed before checkpointing). Discard it and
 *   replay [0, C] into an empty engine. Rolling back instead would need each changed key's value
 *   as of C, which only a scan of the changelog from its start can give: no cheaper than this.
 */
export type RestorePlan =
  | { readonly kind: 'replay-tail'; readonly from: number; readonly to: ChangelogOffset }
  | { readonly kind: 'rebuild'; readonly reason: string; readonly to: ChangelogOffset };

/** Decides how to restore, from the local state's offset and the checkpointed offset. */
export function planRestore(local: LocalStateOffset, checkpoint: ChangelogOffset): RestorePlan {
  if (!local.usable) return { kind: 'rebuild', reason: local.reason, to: checkpoint };
  if (local.offset > checkpoint) {
    return {
      kind: 'rebuild',
      reason: `local state at changelog offset ${local.offset} is ahead of the checkpoint (${checkpoint})`,
      to: checkpoint,
    };
  }
  return { kind: 'replay-tail', from: local.offset + 1, to: checkpoint };
}

/** A restore progress report, for the runtime's log line and metrics. */
export interface RestoreProgress {
  readonly store: string;
  /** Changelog records applied so far. */
  readonly records: number;
  /** Records to apply in all: an upper bound, from the offset span (compaction leaves gaps). */
  readonly totalRecords: number;
  readonly recordsPerSecond: number;
  /** Seconds left at the current rate; `null` before a rate is known. */
  readonly etaSeconds: number | null;
  /** The offset of the last record applied (`-1`: none yet). */
  readonly offset: ChangelogOffset;
  readonly done: boolean;
}

/** What a replay did. */
export interface ReplayResult {
  /** Records applied (offsets <= `to`). */
  readonly records: number;
  /** Keys changed after `to`: changes the checkpoint does not include. */
  readonly tailKeys: Buffer[];
}

/** Options of {@link replayChangelog}. */
export interface ReplayOptions {
  readonly store: string;
  readonly from: number;
  readonly to: ChangelogOffset;
  readonly onProgress?: (progress: RestoreProgress) => void;
  /** Milliseconds between progress reports (default 5000); one more comes at the end. */
  readonly progressIntervalMs?: number;
  /** Records written to the engine per batch (default 4096). */
  readonly batchSize?: number;
  /**
   * Whether to read on past `to` to collect the keys changed after it (default true). A table
   * kept from its source topic has no tail to trim: what follows is input it reads again.
   */
  readonly readTail?: boolean;
}

/**
 * Applies the changelog records with `from <= offset <= to` to `engine`, in batches, and reads
 * on to the end to learn which keys changed after `to`. Within a batch only the last change per
 * key is written, so puts and deletes of one key cannot be reordered.
 */
export async function replayChangelog(
  engine: BytesStore,
  reader: ChangelogReader,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const { store, from, to, onProgress } = options;
  const interval = options.progressIntervalMs ?? 5000;
  const batchSize = options.batchSize ?? 4096;
  const totalRecords = Math.max(0, to - from + 1);
  const started = performance.now();
  let lastReport = started;
  let records = 0;
  let offset = from - 1;
  let batch = new Map<string, ChangelogRecord>();
  const tail = new Map<string, Buffer>();

  const report = (done: boolean): void => {
    if (onProgress === undefined) return;
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? records / seconds : 0;
    const left = Math.max(0, totalRecords - records);
    onProgress({
      store,
      records,
      totalRecords,
      recordsPerSecond: rate,
      etaSeconds: done ? 0 : rate > 0 ? left / rate : null,
      offset,
      done,
    });
  };

  if (to >= from) {
    for await (const record of reader.readFrom(from)) {
      if (record.offset > to) {
        if (options.readTail === false) break;
        tail.set(record.key.toString('latin1'), record.key);
        continue;
      }
      batch.set(record.key.toString('latin1'), record);
      records++;
      offset = record.offset;
      if (batch.size >= batchSize) {
        apply(engine, batch);
        batch = new Map();
        const now = performance.now();
        if (now - lastReport >= interval) {
          lastReport = now;
          report(false);
        }
      }
    }
  } else if (options.readTail !== false) {
    // Nothing to apply; still read what lies past the checkpoint, to trim it.
    for await (const record of reader.readFrom(to + 1)) {
      tail.set(record.key.toString('latin1'), record.key);
    }
  }
  apply(engine, batch);
  report(true);
  return { records, tailKeys: [...tail.values()] };
}

function hasEngineFiles(storeDir: string): boolean {
  return readdirSync(storeDir).some((name) => name !== OFFSET_FILE && !name.endsWith('.tmp'));
}

function apply(engine: BytesStore, batch: Map<string, ChangelogRecord>): void {
  const puts: Entry<Buffer, Buffer>[] = [];
  const deletes: Buffer[] = [];
  for (const { key, value } of batch.values()) {
    if (value === null) deletes.push(key);
    else puts.push({ key, value });
  }
  if (puts.length > 0) engine.putAll(puts);
  if (deletes.length > 0) engine.deleteAll(deletes);
}

/** Options of {@link restoreStore}. */
export interface RestoreOptions {
  readonly store: string;
  /** The store's folder for a persistent engine; omit for an in-memory engine. */
  readonly storeDir?: string;
  readonly changelog: ChangelogPartition;
  /** Opens the engine; called after the folder has been emptied when the plan is a rebuild. */
  openEngine(storeDir: string | undefined): Promise<BytesStore>;
  /** The checkpointed changelog offset; `-1` when the task has no checkpoint (empty state). */
  readonly checkpoint: ChangelogOffset;
  readonly reader: ChangelogReader;
  /**
   * Writes compensating records for keys changed after the checkpoint (see
   * docs/streams-state.md); without it, such records stay in the changelog untrimmed.
   */
  readonly writer?: ChangelogWriter;
  /** See {@link ReplayOptions.readTail}. */
  readonly readTail?: boolean;
  readonly onProgress?: (progress: RestoreProgress) => void;
  readonly progressIntervalMs?: number;
}

/** A restored store, ready to be wrapped in a `LoggedStore`. */
export interface RestoredStore {
  readonly engine: BytesStore;
  readonly plan: RestorePlan;
  readonly records: number;
  /** Keys whose post-checkpoint changes were compensated in the changelog. */
  readonly trimmedKeys: number;
  /** Keys changed after the checkpoint left uncompensated (no writer was given). */
  readonly untrimmedKeys: number;
  /** The changelog offset the engine is at: the LoggedStore's `initialOffset`. */
  readonly changelogOffset: ChangelogOffset;
  /** The OFFSET file to hand to the LoggedStore (persistent engines only). */
  readonly offsetFile: OffsetFile | undefined;
}

/**
 * Brings a task's store to exactly its checkpointed changelog offset: reuses local state when
 * its OFFSET file says it is at or before the checkpoint (host affinity, replaying only the
 * tail), otherwise rebuilds from the changelog; discards everything after the checkpoint, and
 * trims the changelog by writing, for every key changed after the checkpoint, its value as of
 * the checkpoint. Records the result in the OFFSET file.
 */
export async function restoreStore(options: RestoreOptions): Promise<RestoredStore> {
  const { store, storeDir, checkpoint, reader, writer } = options;
  const offsetFile =
    storeDir === undefined ? undefined : new OffsetFile(storeDir, options.changelog);
  let local: LocalStateOffset = offsetFile?.read() ?? {
    usable: false,
    reason: 'in-memory engine keeps no local state',
  };
  if (local.usable && storeDir !== undefined && !hasEngineFiles(storeDir)) {
    // An OFFSET file beside no engine files (deleted by hand): opening would create an empty
    // engine that claims to be at the offset.
    local = { usable: false, reason: 'OFFSET file present but the engine files are missing' };
  }
  const plan = planRestore(local, checkpoint);

  const end = await reader.endOffset();
  if (checkpoint >= end) {
    throw new ChangelogInconsistentError(
      `store ${store}: checkpoint is at changelog offset ${checkpoint} but ${options.changelog.topic}-${options.changelog.partition} ends at ${end}`,
    );
  }

  if (plan.kind === 'rebuild' && storeDir !== undefined) {
    rmSync(storeDir, { recursive: true, force: true });
    mkdirSync(storeDir, { recursive: true });
  } else if (storeDir !== undefined) {
    mkdirSync(storeDir, { recursive: true });
  }

  const engine = await options.openEngine(storeDir);
  try {
    const from = plan.kind === 'rebuild' ? 0 : plan.from;
    const replay = await replayChangelog(engine, reader, {
      store,
      from,
      to: checkpoint,
      onProgress: options.onProgress,
      progressIntervalMs: options.progressIntervalMs,
      readTail: options.readTail,
    });

    let changelogOffset = checkpoint;
    let trimmedKeys = 0;
    if (replay.tailKeys.length > 0 && writer !== undefined) {
      for (const key of replay.tailKeys) writer.append(key, engine.get(key) ?? null);
      const offset = await writer.flush();
      if (offset !== null) changelogOffset = offset;
      trimmedKeys = replay.tailKeys.length;
    }
    await engine.flush();
    offsetFile?.write(changelogOffset);
    return {
      engine,
      plan,
      records: replay.records,
      trimmedKeys,
      untrimmedKeys: replay.tailKeys.length - trimmedKeys,
      changelogOffset,
      offsetFile,
    };
  } catch (error) {
    await engine.close().catch(() => {});
    throw error;
  }
}
