/** Shared helpers for storage tests: temp dirs, batches from the real encoder, reading back. */
import { mkdtempSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRecordBatch, encodeRecordBatch } from '../../src/protocol/record-batch/index.js';
import type { RecordBatchOptions } from '../../src/protocol/record-batch/types.js';
import { type LogConfig, logConfig } from '../../src/storage/config.js';
import { Log, type LogOptions } from '../../src/storage/log.js';

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'brook-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface SimpleRecord {
  key: string | null;
  value: string | null;
  timestamp?: number;
}

/** A batch of `n` records `${prefix}-i` (or explicit records). */
export function batch(
  records: number | SimpleRecord[],
  opts: Partial<Omit<RecordBatchOptions, 'records'>> & { timestamp?: number; prefix?: string } = {},
): Buffer {
  const list: SimpleRecord[] =
    typeof records === 'number'
      ? Array.from({ length: records }, (_, i) => ({
          key: `k${i}`,
          value: `${opts.prefix ?? 'v'}-${i}`,
        }))
      : records;
  return encodeRecordBatch({
    timestamp: 1_000,
    ...opts,
    records: list.map((r) => ({
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp: r.timestamp,
    })),
  });
}

/** A batch of one record with a value of `size` bytes (for size-driven tests). */
export function sizedBatch(size: number, timestamp = 1_000): Buffer {
  return encodeRecordBatch({ timestamp, records: [{ key: null, value: Buffer.alloc(size, 7) }] });
}

export function openLog(
  dir: string,
  config: Partial<Record<keyof LogConfig, unknown>> = {},
  extra: Partial<LogOptions> = {},
): Log {
  return Log.open({ dir, topic: 't', partition: 0, config: logConfig(config), ...extra });
}

/** The bytes of a read's file ranges. */
export function rangeBytes(ranges: { fd: number; position: number; length: number }[]): Buffer {
  const parts = ranges.map((r) => {
    const b = Buffer.allocUnsafe(r.length);
    let got = 0;
    while (got < r.length) {
      const n = readSync(r.fd, b, got, r.length - got, r.position + got);
      if (n === 0) throw new Error('short read');
      got += n;
    }
    return b;
  });
  return Buffer.concat(parts);
}

export interface ReadRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

/** Every record from `from` to the log end, through `read` (validating CRCs on the way). */
export function readAll(log: Log, from = log.logStartOffset, maxBytes = 1 << 20): ReadRecord[] {
  const out: ReadRecord[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, maxBytes);
    if (r.ranges.length === 0) break;
    const bytes = rangeBytes(r.ranges);
    let at = 0;
    while (at < bytes.length) {
      const b = decodeRecordBatch(bytes, at);
      for (const rec of b) {
        if (rec.offset >= from)
          out.push({
            offset: rec.offset,
            key: rec.key === null ? null : rec.key.toString(),
            value: rec.value === null ? null : rec.value.toString(),
            timestamp: rec.timestamp,
          });
      }
      at += b.sizeInBytes;
    }
    offset = r.lastOffset + 1;
  }
  return out;
}
