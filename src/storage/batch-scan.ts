/**
 * Walking the record batches of a `.log` file by their headers, with the checks that recovery and
 * reads rely on. Only headers are decoded; record data is never looked at (except by the CRC).
 */
import { readSync } from 'node:fs';
import { crc32c } from '../protocol/crc32c.js';
import {
  BATCH_HEADER_SIZE,
  BatchHeader,
  CRC_COVERED_FROM,
  LOG_OVERHEAD,
  MAGIC_V2,
} from '../protocol/record-batch/header.js';

/** What a header scan learns about one batch. */
export interface BatchPosition {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/**
 * Checks the header of the batch at `at` in `buf` (`available` bytes of the file from there):
 * returns why it is invalid, or undefined. `minBaseOffset` is the first offset the batch may use.
 */
export function headerProblem(
  buf: Buffer,
  at: number,
  available: number,
  minBaseOffset: number,
): string | undefined {
  if (available < BATCH_HEADER_SIZE) return `truncated batch header (${available} bytes left)`;
  const len = BatchHeader.batchLength(buf, at);
  if (len < BATCH_HEADER_SIZE - LOG_OVERHEAD) return `batch length ${len} is too small`;
  if (len + LOG_OVERHEAD > available)
    return `batch of ${len + LOG_OVERHEAD} bytes runs past the end of the data (${available} bytes left)`;
  const magic = BatchHeader.magic(buf, at);
  if (magic !== MAGIC_V2) return `unsupported magic ${magic}`;
  const base = BatchHeader.baseOffset(buf, at);
  if (base < minBaseOffset) return `base offset ${base} is below the expected ${minBaseOffset}`;
  const delta = BatchHeader.lastOffsetDelta(buf, at);
  if (delta < 0) return `negative last offset delta ${delta}`;
  if (!Number.isSafeInteger(base + delta)) return `offset ${base} out of range`;
  return undefined;
}

/** CRC check of a whole batch held in `buf` at `at`. */
export function crcProblem(buf: Buffer, at: number, size: number): string | undefined {
  const stored = BatchHeader.crc(buf, at);
  const actual = crc32c(buf.subarray(at + CRC_COVERED_FROM, at + size));
  return stored === actual ? undefined : `CRC mismatch (stored ${stored}, computed ${actual})`;
}

/**
 * Reads batch headers one by one with small positional reads. Used by fetch-time scans, which
 * touch only a few headers thanks to the offset index.
 */
export class HeaderReader {
  private readonly scratch = Buffer.allocUnsafe(BATCH_HEADER_SIZE);

  constructor(private readonly fd: number) {}

  /**
   * The batch at `position` (file data ends at `end`); a string describing the damage when the
   * header is invalid; undefined at the end of the data.
   */
  at(position: number, end: number, minBaseOffset: number): BatchPosition | string | undefined {
    if (position >= end) return undefined;
    const want = Math.min(BATCH_HEADER_SIZE, end - position);
    const got = readSync(this.fd, this.scratch, 0, want, position);
    if (got < want) return `short read of a batch header (${got} bytes)`;
    const problem = headerProblem(this.scratch, 0, end - position, minBaseOffset);
    if (problem) return problem;
    return {
      position,
      size: BatchHeader.totalSize(this.scratch),
      baseOffset: BatchHeader.baseOffset(this.scratch),
      lastOffset: BatchHeader.lastOffset(this.scratch),
      maxTimestamp: BatchHeader.maxTimestamp(this.scratch),
    };
  }
}

/**
 * Streams through a file in large chunks, yielding each batch as a view (for recovery, which
 * validates CRCs, and for the cleaner, which reads records). A batch bigger than the chunk gets a
 * buffer of its own.
 */
export class ChunkedBatchReader {
  private buf: Buffer;
  private bufStart = 0; // file position of buf[0]
  private bufLen = 0;
  position: number;

  constructor(
    private readonly fd: number,
    start: number,
    private readonly end: number,
    chunkSize = 4 * 1024 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(chunkSize);
    this.position = start;
    this.bufStart = start;
  }

  private fill(need: number): number {
    const rel = this.position - this.bufStart;
    if (rel + need <= this.bufLen) return rel;
    // Move the unread tail to the front, growing when a single batch is bigger than the buffer.
    const keep = this.bufLen - rel;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(need);
      this.buf.copy(bigger, 0, rel, this.bufLen);
      this.buf = bigger;
    } else if (keep > 0) this.buf.copy(this.buf, 0, rel, this.bufLen);
    this.bufStart = this.position;
    this.bufLen = Math.max(keep, 0);
    while (this.bufLen < this.buf.length && this.bufStart + this.bufLen < this.end) {
      const want = Math.min(
        this.buf.length - this.bufLen,
        this.end - (this.bufStart + this.bufLen),
      );
      const got = readSync(this.fd, this.buf, this.bufLen, want, this.bufStart + this.bufLen);
      if (got === 0) break;
      this.bufLen += got;
      if (this.bufLen >= need) break;
    }
    return 0;
  }

  /**
   * The next batch as `{buf, at, size}` (a view valid until the next call), a string describing
   * the damage, or undefined at the end. With `verifyCrc`, the CRC is checked too.
   */
  next(
    minBaseOffset: number,
    verifyCrc: boolean,
  ): { buf: Buffer; at: number; size: number; position: number } | string | undefined {
    const available = this.end - this.position;
    if (available <= 0) return undefined;
    let at = this.fill(Math.min(BATCH_HEADER_SIZE, available));
    if (this.bufLen - at < Math.min(BATCH_HEADER_SIZE, available)) return 'short read';
    const problem = headerProblem(this.buf, at, available, minBaseOffset);
    if (problem) return problem;
    const size = BatchHeader.totalSize(this.buf, at);
    at = this.fill(size);
    if (this.bufLen - at < size) return `short read: batch of ${size} bytes`;
    if (verifyCrc) {
      const bad = crcProblem(this.buf, at, size);
      if (bad) return bad;
    }
    const position = this.position;
    this.position += size;
    return { buf: this.buf, at, size, position };
  }
}
