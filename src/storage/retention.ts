/**
 * Retention: which old segments `retention.ms`, `retention.bytes` and the log start offset make
 * deletable. Only whole segments go, oldest first, and never the active (last) one.
 */
export interface RetentionSegment {
  baseOffset: number;
  size: number;
  largestTimestamp: number;
}

/**
 * How many segments from the front of `segments` may be deleted. `nextBaseOf(i)` is where segment
 * i ends (the base offset of segment i+1).
 */
export function deletableSegmentCount(
  segments: readonly RetentionSegment[],
  opts: {
    now: number;
    retentionMs: number;
    retentionBytes: number;
    logStartOffset: number;
    deleteByTimeAndSize: boolean;
  },
): number {
  const sealed = segments.length - 1;
  let n = 0;
  // Segments wholly below the log start offset (DeleteRecords) go whatever the policy.
  while (n < sealed && segments[n + 1].baseOffset <= opts.logStartOffset) n++;
  if (!opts.deleteByTimeAndSize) return n;
  if (opts.retentionMs >= 0) {
    while (n < sealed && opts.now - segments[n].largestTimestamp > opts.retentionMs) n++;
  }
  if (opts.retentionBytes >= 0) {
    let total = 0;
    for (const s of segments) total += s.size;
    for (let i = 0; i < n; i++) total -= segments[i].size;
    while (n < sealed && total - segments[n].size >= opts.retentionBytes) {
      total -= segments[n].size;
      n++;
    }
  }
  return n;
}
