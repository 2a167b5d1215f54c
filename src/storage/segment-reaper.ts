/**
 * Deferred removal of segments, as Kafka does it: the files are renamed `.deleted` at once (so a
 * restart never sees them as part of the log) and closed and unlinked after
 * `file.delete.delay.ms`, so that fetches holding file ranges of them can finish. A deleted
 * partition's descriptors are kept open as long (its directory is removed at once). Both the
 * unlinking and those late closes run on the thread pool: they free blocks, which waits for the
 * device on a file system mounted with `discard`.
 */
import { storageError } from './errors.js';
import { removeFiles } from './fs-util.js';
import { DELETED_SUFFIX } from './naming.js';
import type { LogSegment } from './segment.js';

export class SegmentReaper {
  private readonly pending = new Set<{ seg: LogSegment; timer: NodeJS.Timeout | undefined }>();

  constructor(
    /** Delay before the files are closed and removed (read on each schedule). */
    private readonly delayMs: () => number,
    /** True while an fdatasync may be using a descriptor: closing waits for it. */
    private readonly busy: () => boolean,
  ) {}

  /** Renames the segment's files to `.deleted` and removes them after the delay. */
  schedule(seg: LogSegment): void {
    seg.offsetIndex.unload();
    seg.timeIndex.unload();
    try {
      seg.renameAll(DELETED_SUFFIX);
    } catch (err) {
      throw storageError(`cannot delete segment ${seg.logPath}`, err);
    }
    const entry: { seg: LogSegment; timer: NodeJS.Timeout | undefined } = { seg, timer: undefined };
    const reap = (): void => {
      if (this.busy()) {
        entry.timer = setTimeout(reap, 10);
        entry.timer.unref();
        return;
      }
      this.pending.delete(entry);
      seg.close();
      // Unlinked on the thread pool: freeing a segment's blocks waits for the device on a file
      // system mounted with `discard` (~0.8 ms per MB here), which stalled every connection.
      void removeFiles(seg.filePaths(DELETED_SUFFIX));
    };
    this.pending.add(entry);
    entry.timer = setTimeout(reap, this.delayMs());
    entry.timer.unref();
  }

  /**
   * For a deleted partition (whose files are unlinked with its directory): keeps the descriptors
   * of `segs` open for `delayMs`, then closes them, and removes what is pending, on the thread
   * pool (the last close of an unlinked file frees its blocks, which waits for the device).
   * Returns a closer that does it at once, synchronously (shutdown).
   */
  retire(segs: readonly LogSegment[], delayMs: number): () => void {
    for (const seg of segs) {
      seg.offsetIndex.unload();
      seg.timeIndex.unload();
    }
    let done = false;
    const closeAll = (background: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (background) {
        for (const seg of segs) void seg.closeInBackground();
      } else {
        for (const seg of segs) seg.close();
      }
      this.reapAll(background);
    };
    const timer = setTimeout(() => closeAll(true), delayMs);
    timer.unref();
    return () => closeAll(false);
  }

  /**
   * Removes everything pending now (the log is closing); with `background`, descriptors are
   * closed and files removed on the thread pool.
   */
  reapAll(background = false): void {
    for (const e of this.pending) {
      clearTimeout(e.timer);
      if (background) {
        const seg = e.seg;
        void seg.closeInBackground().then(() => removeFiles(seg.filePaths(DELETED_SUFFIX)));
      } else {
        e.seg.close();
        e.seg.deleteFiles(DELETED_SUFFIX);
      }
    }
    this.pending.clear();
  }
}
