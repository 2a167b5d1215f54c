/**
 * Property-based test: random sequences of appends, reads, rolls, retention, DeleteRecords,
 * truncation, flushes and crashes (with torn or corrupted tails) against a simple in-memory model.
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { logConfig } from '../../src/storage/config.js';
import { Log } from '../../src/storage/log.js';
import { batch, readAll, tempDir } from './helpers.js';

interface ModelBatch {
  base: number;
  last: number;
  values: string[];
}

type Op =
  | { kind: 'append'; n: number; size: number }
  | { kind: 'read'; at: number; maxBytes: number }
  | { kind: 'roll' }
  | { kind: 'retention'; bytes: number }
  | { kind: 'deleteRecords'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'flush' }
  | { kind: 'cleanRestart' }
  | { kind: 'indexDamage'; cut: boolean; segment: number; at: number; time: boolean }
  | { kind: 'crash'; damage: 'none' | 'cut' | 'flip'; at: number; within: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      n: fc.integer({ min: 1, max: 5 }),
      size: fc.integer({ min: 1, max: 300 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      maxBytes: fc.integer({ min: 1, max: 3000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('roll' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('retention' as const),
      bytes: fc.integer({ min: 0, max: 6000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteRecords' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cleanRestart' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('indexDamage' as const),
      cut: fc.boolean(),
      segment: fc.double({ min: 0, max: 1, noNaN: true }),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      time: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('crash' as const),
      damage: fc.constantFrom('none' as const, 'cut' as const, 'flip' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      within: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

const CONFIG = { 'segment.bytes': 2000, 'index.interval.bytes': 300, 'retention.ms': -1 };

test('the log behaves like the model under random operations and crashes', async (t) => {
  const root = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
      const dir = join(root, `run-${run++}`);
      const open = (
        extra: { cleanShutdown?: boolean; recoveryPoint?: number; logStartOffset?: number } = {},
      ) => Log.open({ dir, topic: 'm', partition: 0, config: logConfig(CONFIG), ...extra });
      let log = open();
      let model: ModelBatch[] = [];
      let lso = 0;
      let seq = 0;
      const expected = () =>
        model
          .flatMap((b) => b.values.map((v, i) => ({ offset: b.base + i, value: v })))
          .filter((r) => r.offset >= lso);
      const check = () => {
        assert.equal(log.logStartOffset, lso);
        assert.equal(log.logEndOffset, model.at(-1) ? model.at(-1)!.last + 1 : log.logEndOffset);
        assert.deepEqual(
          readAll(log).map((r) => ({ offset: r.offset, value: r.value })),
          expected(),
        );
      };
      try {
        for (const op of ops) {
          switch (op.kind) {
            case 'append': {
              const values = Array.from({ length: op.n }, () => `${seq++}:${'x'.repeat(op.size)}`);
              const r = await log.append(batch(values.map((v) => ({ key: null, value: v }))));
              assert.equal(r.baseOffset, log.logEndOffset - op.n);
              model.push({ base: r.baseOffset, last: r.lastOffset, values });
              break;
            }
            case 'read': {
              if (log.logEndOffset === lso) break;
              const offset = Math.min(
                lso + Math.floor(op.at * (log.logEndOffset - lso)),
                log.logEndOffset - 1,
              );
              const r = log.read(offset, op.maxBytes);
              const holder = model.find((b) => b.base <= offset && b.last >= offset)!;
              assert.equal(r.firstOffset, holder.base);
              assert.ok(r.lastOffset >= offset);
              break;
            }
            case 'roll':
              log.roll();
              break;
            case 'retention': {
              log.config = logConfig({ ...CONFIG, 'retention.bytes': op.bytes });
              const activeBase = log.segments.at(-1)!.baseOffset;
              log.applyRetention();
              log.config = logConfig(CONFIG);
              assert.equal(log.segments.at(-1)!.baseOffset, activeBase, 'the active segment stays');
              lso = log.logStartOffset;
              break;
            }
            case 'deleteRecords': {
              const target = Math.min(
                lso + Math.floor(op.at * (log.logEndOffset - lso + 1)),
                log.logEndOffset,
              );
              lso = log.deleteRecordsBefore(target);
              assert.equal(lso, Math.max(target, lso));
              break;
            }
            case 'truncate': {
              const end = log.logEndOffset;
              const target = Math.min(lso + Math.floor(op.at * (end - lso + 1)), end);
              log.truncateTo(target);
              // Every batch holding an offset >= target goes whole: the log ends at the first
              // removed batch's base offset (or at target when that batch starts after it).
              const firstRemoved = model.find((b) => b.last >= target);
              model = model.filter((b) => b.last < target);
              const newEnd = firstRemoved ? Math.min(firstRemoved.base, target) : end;
              assert.equal(log.logEndOffset, newEnd);
              lso = Math.min(lso, log.logEndOffset);
              break;
            }
            case 'flush':
              await log.flush();
              assert.equal(log.recoveryPoint, log.logEndOffset);
              break;
            case 'cleanRestart':
              await log.close();
              log = open({ cleanShutdown: true, logStartOffset: lso });
              break;
            case 'indexDamage': {
              // Indexes are hints: whatever happens to them, every record stays readable and
              // look-ups stay right (they are checked against the log as they are used).
              await log.close();
              const segs = readdirSync(dir)
                .filter((n) => n.endsWith(op.time ? '.timeindex' : '.index'))
                .sort();
              const name = segs[Math.min(Math.floor(op.segment * segs.length), segs.length - 1)];
              const file = name === undefined ? undefined : join(dir, name);
              const size = file === undefined ? 0 : statSync(file).size;
              if (file !== undefined && size > 0) {
                const fd = openSync(file, 'r+');
                const at = Math.floor(op.at * size);
                if (op.cut) ftruncateSync(fd, at);
                else {
                  const b = Buffer.alloc(1);
                  readSync(fd, b, 0, 1, at);
                  b[0] ^= 1 << Math.floor(op.at * 8);
                  writeSync(fd, b, 0, 1, at);
                }
                closeSync(fd);
              }
              log = open({ cleanShutdown: true, logStartOffset: lso });
              for (const b of model) {
                if (b.last < lso) continue;
                const r = log.read(Math.max(b.base, lso), 1);
                assert.equal(r.firstOffset, b.base, `read of ${b.base} after index damage`);
              }
              break;
            }
            case 'crash': {
              const recoveryPoint = log.recoveryPoint;
              // Candidates for damage: batches at or after the recovery point's segment (earlier
              // ones are trusted as flushed, and recovery does not rescan them).
              const segs = log.segments;
              let first = segs.length - 1;
              while (first > 0 && segs[first].baseOffset > recoveryPoint) first--;
              const from = segs[first].baseOffset;
              const candidates = model.filter((b) => b.last >= Math.max(from, lso));
              let damaged: ModelBatch | undefined;
              let range: { file: string; position: number; length: number } | undefined;
              let leftBytes = 0;
              if (op.damage !== 'none' && candidates.length > 0) {
                damaged = candidates[Math.floor(op.at * candidates.length)];
                const r = log.read(damaged.base, 1);
                range = {
                  file: r.ranges[0].file,
                  position: r.ranges[0].position,
                  length: r.ranges[0].length,
                };
              }
              log.closeWithoutFlush();
              if (damaged && range) {
                const fd = openSync(range.file, 'r+');
                if (op.damage === 'cut') {
                  leftBytes = Math.floor(op.within * range.length);
                  ftruncateSync(fd, range.position + leftBytes);
                } else {
                  // Any byte from the magic on (bytes 16..end are checked by magic and CRC).
                  const at = range.position + 16 + Math.floor(op.within * (range.length - 16));
                  const b = Buffer.alloc(1);
                  readSync(fd, b, 0, 1, at);
                  b[0] ^= 0x5a;
                  writeSync(fd, b, 0, 1, at);
                }
                closeSync(fd);
                model = model.filter((b) => b.last < damaged.base);
              }
              log = open({ recoveryPoint, logStartOffset: lso });
              if (damaged && (op.damage === 'flip' || leftBytes > 0))
                assert.ok(log.recovery.problem !== undefined || log.recovery.truncatedBytes > 0);
              lso = Math.min(lso, log.logEndOffset);
              break;
            }
          }
          check();
        }
      } finally {
        if (!log.isClosed) await log.close();
      }
    }),
    {
      numRuns: Number(process.env.STORAGE_PROPERTY_RUNS ?? 40),
      ...(process.env.STORAGE_SEED ? { seed: Number(process.env.STORAGE_SEED) } : {}),
    },
  );
});
