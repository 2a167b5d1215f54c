import assert from 'node:assert/strict';
import { cpSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ControlRecordType, encodeControlBatch } from '../../src/protocol/record-batch/index.js';
import { Cleaner } from '../../src/storage/cleaner.js';
import { logConfig } from '../../src/storage/config.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { commitSwap } from '../../src/storage/log-dir.js';
import { batch, openLog, type ReadRecord, readAll, type SimpleRecord, tempDir } from './helpers.js';

const DELETE_RETENTION = 1000;

interface ModelRecord {
  offset: number;
  key: string;
  value: string | null;
  /** Delete horizon given by the first clean that kept this tombstone. */
  horizon?: number;
}

/** The model of one cleaning pass over everything below `end` at time `now`. */
function modelClean(records: ModelRecord[], end: number, now: number): ModelRecord[] {
  const latest = new Map<string, number>();
  for (const r of records) if (r.offset < end) latest.set(r.key, r.offset);
  const out: ModelRecord[] = [];
  for (const r of records) {
    if (r.offset >= end) {
      out.push(r);
      continue;
    }
    if (latest.get(r.key) !== r.offset) continue;
    if (r.value === null) {
      if (r.horizon !== undefined && now >= r.horizon) continue;
      out.push({ ...r, horizon: r.horizon ?? now + DELETE_RETENTION });
    } else out.push(r);
  }
  return out;
}

const view = (rs: (ModelRecord | ReadRecord)[]) => rs.map((r) => [r.offset, r.key, r.value]);

test('compaction with many keys and tombstones equals the model (property-based)', async (t) => {
  const root = tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          {
            weight: 6,
            arbitrary: fc.array(
              fc.record({ key: fc.integer({ min: 0, max: 40 }), tombstone: fc.boolean() }),
              { minLength: 1, maxLength: 6 },
            ),
          },
          { weight: 1, arbitrary: fc.constant('clean' as const) },
          { weight: 1, arbitrary: fc.constant('tick' as const) },
          { weight: 1, arbitrary: fc.constant('crash' as const) },
        ),
        { minLength: 5, maxLength: 80 },
      ),
      async (ops) => {
        let now = 10_000;
        const dir = join(root, `run-${run++}`);
        const cfg = {
          'segment.bytes': 600,
          'cleanup.policy': 'compact',
          'delete.retention.ms': DELETE_RETENTION,
        };
        let log = openLog(dir, cfg, { now: () => now });
        const cleaner = new Cleaner({ now: () => now });
        let model: ModelRecord[] = [];
        let firstDirty = 0;
        let seq = 0;
        for (const op of [...ops, 'clean' as const, 'tick' as const, 'clean' as const]) {
          if (op === 'tick') now += 700;
          else if (op === 'crash') {
            // A crash after cleaning: a full rescan must accept the gaps compaction made.
            log.closeWithoutFlush();
            log = openLog(dir, cfg, { now: () => now, recoveryPoint: 0 });
            assert.equal(log.recovery.problem, undefined);
          } else if (op === 'clean') {
            const end = log.segments.at(-1)!.baseOffset;
            const stats = await cleaner.clean(log, firstDirty);
            firstDirty = stats.cleanedUpTo;
            model = modelClean(model, end, now);
          } else {
            const recs: SimpleRecord[] = op.map((r) => ({
              key: `key-${r.key}`,
              value: r.tombstone ? null : `val-${seq++}`,
              timestamp: now,
            }));
            const res = await log.append(batch(recs));
            recs.forEach((r, i) => {
              model.push({ offset: res.baseOffset + i, key: r.key!, value: r.value });
            });
          }
          assert.deepEqual(view(readAll(log)), view(model));
        }
        await log.close();
        // Reopening reads the same compacted log (indexes of cleaned segments are valid).
        const again = openLog(dir, { 'segment.bytes': 600 }, { cleanShutdown: true });
        assert.deepEqual(view(readAll(again)), view(model));
        for (let o = 0; o < again.logEndOffset; o += 3) {
          const r = again.read(o, 1);
          if (r.ranges.length > 0) assert.ok(r.lastOffset >= o);
        }
        await again.close();
      },
    ),
    { numRuns: 25 },
  );
});

test('compaction keeps control batches, removes aborted records and never lets them shadow committed ones', async (t) => {
  const log = openLog(tempDir(t), { 'segment.bytes': 300, 'cleanup.policy': 'compact' });
  const pid = 77;
  await log.append(
    batch([{ key: 'a', value: 'committed-1' }], {
      producerId: pid,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
    }),
  );
  await log.append(
    encodeControlBatch({
      type: ControlRecordType.Commit,
      producerId: pid,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      timestamp: 1000,
    }),
  );
  await log.append(
    batch([{ key: 'a', value: 'aborted' }], {
      producerId: pid,
      producerEpoch: 0,
      baseSequence: 1,
      transactional: true,
    }),
  );
  await log.append(
    encodeControlBatch({
      type: ControlRecordType.Abort,
      producerId: pid,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      timestamp: 1000,
    }),
  );
  await log.append(batch([{ key: 'b', value: 'plain-1' }]));
  await log.append(batch([{ key: 'b', value: 'plain-2' }]));
  for (let i = 0; i < 10; i++)
    await log.append(batch([{ key: `fill-${i}`, value: 'x'.repeat(50) }]));
  const stats = await new Cleaner().clean(log, 0);
  assert.ok(stats.recordsRemoved >= 1);
  const values = readAll(log).map((r) => r.value);
  assert.ok(
    values.includes('committed-1'),
    'committed record kept: the aborted one does not shadow it',
  );
  assert.ok(!values.includes('aborted'), 'records of an aborted transaction are removed');
  assert.ok(!values.includes('plain-1'));
  assert.ok(values.includes('plain-2'));
  // Both markers are still there (control records have a 4-byte key and a value).
  const markers = readAll(log).filter((r) => r.offset === 1 || r.offset === 3);
  assert.equal(markers.length, 2);
  await log.close();
});

test('min.cleanable.dirty.ratio decides when the LogManager cleans', async (t) => {
  const dir = tempDir(t);
  const lm = LogManager.open(dir);
  const cfg = logConfig({
    'segment.bytes': 400,
    'cleanup.policy': 'compact',
    'min.cleanable.dirty.ratio': 0.5,
  });
  const log = lm.getOrCreateLog('c', 0, cfg);
  for (let i = 0; i < 40; i++) await log.append(batch([{ key: `k${i % 5}`, value: `v${i}` }]));
  const first = await lm.runCleaner();
  assert.equal(first.length, 1);
  assert.equal(lm.cleanerCheckpoint('c', 0), first[0].cleanedUpTo);
  // Just cleaned: nothing dirty, so the next pass does nothing.
  assert.deepEqual(await lm.runCleaner(), []);
  const keys = new Map(readAll(log).map((r) => [r.key, r.value]));
  assert.equal(keys.get('k4'), 'v39');
  await lm.shutdown();
});

test('a crash during the swap leaves the old or the new segments, never a mix', async (t) => {
  const root = tempDir(t);
  const src = join(root, 'src');
  const cfg = { 'segment.bytes': 500, 'cleanup.policy': 'compact' };
  let log = openLog(src, cfg);
  for (let i = 0; i < 90; i++) await log.append(batch([{ key: `k${i % 7}`, value: `v${i}` }]));
  // A first clean leaves many small segments; the second (the one that "crashes") merges them.
  await new Cleaner().clean(log, 0);
  for (let i = 0; i < 30; i++) await log.append(batch([{ key: `k${i % 7}`, value: `w${i}` }]));
  const before = readAll(log);
  await log.close();
  const old = join(root, 'old');
  cpSync(src, old, { recursive: true });
  log = openLog(src, cfg, { cleanShutdown: true });
  const baseOffsets = log.segments.map((s) => s.baseOffset);
  await new Cleaner().clean(log, 0);
  const after = readAll(log);
  const newBases = log.segments.map((s) => s.baseOffset);
  await log.close();
  assert.ok(after.length < before.length);
  const replaced = baseOffsets.filter((b) => b < newBases.at(-1)!);
  const cleanedBase = newBases[0];
  const firstGroup = replaced.filter((b) => b < (newBases[1] ?? Number.MAX_SAFE_INTEGER));
  assert.ok(firstGroup.length > 1, `the first cleaned segment replaced ${firstGroup.length}`);
  const stem = (o: number) => String(o).padStart(20, '0');

  // 1. Crash before the manifest: cleaned files beside the old segments are discarded.
  const d1 = join(root, 'd1');
  cpSync(old, d1, { recursive: true });
  for (const s of ['.log', '.index', '.timeindex'])
    cpSync(join(src, stem(cleanedBase) + s), join(d1, `${stem(cleanedBase)}${s}.cleaned`));
  let l1 = openLog(d1, cfg, { cleanShutdown: true });
  assert.deepEqual(readAll(l1), before);
  assert.ok(!readdirSync(d1).some((n) => n.endsWith('.cleaned')));
  await l1.close();

  // 2. Crash right after the manifest: the swap completes on open.
  const d2 = join(root, 'd2');
  cpSync(old, d2, { recursive: true });
  for (const s of ['.log', '.index', '.timeindex'])
    cpSync(join(src, stem(cleanedBase) + s), join(d2, `${stem(cleanedBase)}${s}.cleaned`));
  // Only the first group is swapped in this simulation: the others stay old, which is fine.
  commitSwap(d2, { base: cleanedBase, replaced: firstGroup });
  l1 = openLog(d2, cfg, { cleanShutdown: true });
  const got = readAll(l1);
  const cutoff = newBases[1] ?? Number.MAX_SAFE_INTEGER;
  assert.deepEqual(
    got.filter((r) => r.offset < cutoff),
    after.filter((r) => r.offset < cutoff),
  );
  assert.deepEqual(
    got.filter((r) => r.offset >= cutoff),
    before.filter((r) => r.offset >= cutoff),
  );
  await l1.close();

  // 3. Crash mid-rename: the log file already swapped, an index still `.cleaned`, old segments of
  //    the group not yet removed. Running the swap again finishes it.
  const d3 = join(root, 'd3');
  cpSync(old, d3, { recursive: true });
  for (const s of ['.log', '.index', '.timeindex'])
    cpSync(join(src, stem(cleanedBase) + s), join(d3, `${stem(cleanedBase)}${s}.cleaned`));
  commitSwap(d3, { base: cleanedBase, replaced: firstGroup });
  renameSync(join(d3, `${stem(cleanedBase)}.log.cleaned`), join(d3, `${stem(cleanedBase)}.log`));
  l1 = openLog(d3, cfg, { cleanShutdown: true });
  const got3 = readAll(l1);
  assert.deepEqual(got3, got);
  await l1.close();
});

test('a bounded offset map cleans in several passes to the same result', async (t) => {
  const log = openLog(tempDir(t), { 'segment.bytes': 400, 'cleanup.policy': 'compact' });
  const model: ModelRecord[] = [];
  for (let i = 0; i < 200; i++) {
    const key = `k${(i * 7) % 31}`;
    const r = await log.append(batch([{ key, value: `v${i}` }]));
    model.push({ offset: r.baseOffset, key, value: `v${i}` });
  }
  const end = log.segments.at(-1)!.baseOffset;
  const cleaner = new Cleaner({ maxMapKeys: 5 });
  let firstDirty = 0;
  let passes = 0;
  while (firstDirty < end) {
    const stats = await cleaner.clean(log, firstDirty);
    assert.ok(stats.cleanedUpTo > firstDirty, 'every pass makes progress');
    firstDirty = stats.cleanedUpTo;
    passes++;
  }
  assert.ok(passes > 2, `${passes} passes`);
  assert.deepEqual(view(readAll(log)), view(modelClean(model, end, 0)));
  await log.close();
});
