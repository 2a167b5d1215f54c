/**
 * Loading a log's segments at open: the quick path after a clean shutdown, the rescan after a
 * crash, and lazy index loading with rebuild.
 */
import { CorruptRecordError } from './errors.js';
import { type LogSegment, isOutOfSpace } from './segment.js';

/**
 * Told the leader epoch and base offset of every batch a rescan keeps, so that the leader epoch
 * cache is rebuilt from the log itself (as Kafka's recovery does): the checkpoint file is not
 * fsynced when an epoch starts, so after a power loss it may lag the batches that survived.
 */
export type EpochSeen = (partitionLeaderEpoch: number, baseOffset: number) => void;

/** What recovery did, for logs, tests and the benchmark. */
export interface RecoveryStats {
  segmentsScanned: number;
  truncatedBytes: number;
  problem?: string;
}

/**
 * Rescans `segments[from..]` (validating every batch, rebuilding indexes), cuts the first damage
 * and deletes every later segment. Returns the log end offset. `allowGaps`: a sealed segment may
 * end before the next one starts (compaction); otherwise such a gap is a lost tail.
 */
export function recoverSegments(
  segments: LogSegment[],
  from: number,
  allowGaps: boolean,
  stats: RecoveryStats,
  onBatch?: EpochSeen,
): number {
  let next = segments[from].baseOffset;
  for (let i = from; i < segments.length; i++) {
    const seg = segments[i];
    const r = seg.recover(next, true, !allowGaps, onBatch);
    stats.segmentsScanned++;
    stats.truncatedBytes += r.truncatedBytes;
    next = Math.max(r.nextOffset, seg.baseOffset);
    const following = segments[i + 1];
    if (r.problem === undefined && following && next < following.baseOffset && !allowGaps) {
      // Only compaction leaves gaps between segments; otherwise the tail of this segment was
      // lost (e.g. unflushed pages after a power loss) and later data must not survive it.
      r.problem = `segment ends at offset ${next} but the next one starts at ${following.baseOffset}`;
    }
    if (r.problem === undefined && following) sealIfRoom(seg); // final time index entry, fds released
    if (r.problem !== undefined) {
      stats.problem = `${seg.logPath}: ${r.problem}`;
      // Everything after the damage is dropped: later segments hold offsets after it.
      for (const later of segments.splice(i + 1)) {
        stats.truncatedBytes += later.size;
        later.close();
        later.deleteFiles();
      }
      break;
    }
  }
  const active = segments[segments.length - 1];
  if (active.size === 0 && segments.length > 1) next = active.baseOffset;
  return next;
}

/**
 * Seals a recovered segment; on a full disk its index files wait (in memory) for a later write,
 * so that a broker whose disk filled up can still start and serve what it holds.
 */
function sealIfRoom(seg: LogSegment): void {
  try {
    seg.seal();
  } catch (err) {
    if (!isOutOfSpace(err)) throw err;
  }
}

/** After a crash: recover every segment from the one holding `recoveryPoint`. */
export function recoverFrom(
  segments: LogSegment[],
  recoveryPoint: number,
  allowGaps: boolean,
  stats: RecoveryStats,
  onBatch?: EpochSeen,
): number {
  let i = segments.length - 1;
  while (i > 0 && segments[i].baseOffset > recoveryPoint) i--;
  return recoverSegments(segments, i, allowGaps, stats, onBatch);
}

/**
 * After a clean shutdown: only the active segment's tail is read to find the log end (a full
 * recovery of that segment if its index or tail is not as a clean shutdown leaves them).
 */
export function loadAfterCleanShutdown(
  segments: LogSegment[],
  allowGaps: boolean,
  stats: RecoveryStats,
  where: { topic: string; partition: number },
): number {
  const last = segments.length - 1;
  const seg = segments[last];
  if (loadIndexes(seg, where) !== true) return recoverSegments(segments, last, allowGaps, stats);
  const r = seg.readNextOffset();
  if (r.problem !== undefined || r.at !== seg.size)
    return recoverSegments(segments, last, allowGaps, stats);
  return r.nextOffset;
}

/**
 * Loads a segment's indexes on first use. Malformed index files (a partial entry, entries out of
 * order, a position past the end) are rebuilt from the log without cutting it. Returns true when
 * the files were fine, false after a rebuild, or the damage the rebuild ran into.
 */
export function loadIndexes(
  seg: LogSegment,
  where: { topic: string; partition: number },
): true | false | CorruptRecordError {
  if (seg.offsetIndex.isLoaded && seg.timeIndex.isLoaded) return true;
  const ok = seg.offsetIndex.ensureLoaded() && seg.timeIndex.ensureLoaded();
  const lastEntry = seg.offsetIndex.lastEntry();
  if (ok && (!lastEntry || lastEntry.position < seg.size)) return true;
  const r = seg.rebuildIndexes();
  if (r.problem === undefined) return false;
  // Reads before the damage still work; from its first offset on they fail.
  return new CorruptRecordError(
    where.topic,
    where.partition,
    r.nextOffset,
    seg.logPath,
    -1,
    r.problem,
  );
}
