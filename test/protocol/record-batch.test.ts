import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CompressionType,
  ControlRecordType,
  decodeRecordBatch,
  encodeControlBatch,
  encodeRecordBatch,
  parseControlRecord,
  type RecordInput,
  RecordCursor,
  TimestampType,
} from '../../src/protocol/record-batch/index.js';

const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(bytes(40), { nil: null }),
  value: fc.option(bytes(300), { nil: null }),
  headers: fc.array(
    fc.record({ key: fc.string({ maxLength: 12 }), value: fc.option(bytes(20), { nil: null }) }),
    { maxLength: 3 },
  ),
  timestamp: fc.integer({ min: 0, max: 4_000_000_000_000 }),
});

function expectSame(
  records: readonly RecordInput[],
  decoded: ReturnType<typeof decodeRecordBatch>,
) {
  const out = decoded.toArray();
  assert.equal(out.length, records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const d = out[i];
    assert.deepEqual(d.key, r.key ?? null);
    assert.deepEqual(d.value, r.value ?? null);
    assert.equal(d.timestamp, r.timestamp);
    assert.deepEqual(
      d.headers,
      (r.headers ?? []).map((h) => ({
        key: h.key,
        value: h.value === null ? null : Buffer.from(h.value),
      })),
    );
  }
}

describe('record batch encode/decode', () => {
  for (const compression of CODECS) {
    it(`round-trips arbitrary records with codec ${CompressionType[compression]}`, () => {
      fc.assert(
        fc.property(
          fc.array(recordArb, { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 0, max: 2 ** 50 }),
          fc.integer({ min: -1, max: 2 ** 40 }),
          fc.integer({ min: -1, max: 32767 }),
          fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          fc.boolean(),
          (records, baseOffset, producerId, producerEpoch, baseSequence, transactional) => {
            const buf = encodeRecordBatch({
              records,
              baseOffset,
              producerId,
              producerEpoch,
              baseSequence,
              transactional,
              compression,
              partitionLeaderEpoch: 7,
            });
            const batch = decodeRecordBatch(buf);
            assert.equal(batch.sizeInBytes, buf.length);
            assert.equal(batch.baseOffset, baseOffset);
            assert.equal(batch.lastOffset, baseOffset + records.length - 1);
            assert.equal(batch.recordsCount, records.length);
            assert.equal(batch.producerId, producerId);
            assert.equal(batch.producerEpoch, producerEpoch);
            assert.equal(batch.baseSequence, baseSequence);
            assert.equal(batch.isTransactional, transactional);
            assert.equal(batch.isControl, false);
            assert.equal(batch.partitionLeaderEpoch, 7);
            assert.equal(batch.compression, compression);
            assert.equal(batch.baseTimestamp, records[0].timestamp);
            assert.equal(batch.maxTimestamp, Math.max(...records.map((r) => r.timestamp ?? 0)));
            expectSame(records, batch);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('decompresses off the event loop on request, then reads from the cache', async () => {
    for (const compression of CODECS) {
      const records = Array.from({ length: 500 }, (_, i) => ({
        key: Buffer.from(`key-${i}`),
        value: Buffer.alloc(100, i),
        timestamp: 1000 + i,
      }));
      const batch = decodeRecordBatch(encodeRecordBatch({ records, compression }));
      const data = await batch.decompressAsync();
      assert.equal(batch.recordsBuffer(), data);
      expectSame(records, batch);
    }
  });

  it('gives uncompressed keys and values as views into the batch, not copies', () => {
    const buf = encodeRecordBatch({
      records: [{ key: Buffer.from('k'), value: Buffer.from('v') }],
    });
    const cursor = decodeRecordBatch(buf).cursor();
    assert.ok(cursor.next());
    assert.equal(cursor.buffer.buffer, buf.buffer);
    assert.equal(cursor.buffer.byteOffset, buf.byteOffset);
    assert.equal(cursor.key()!.buffer, buf.buffer);
    assert.equal(cursor.value()!.buffer, buf.buffer);
    assert.equal(buf[cursor.valueOffset], 'v'.charCodeAt(0));
  });

  it('walks records and headers with a reusable cursor', () => {
    const buf = encodeRecordBatch({
      baseOffset: 10,
      timestamp: 1000,
      records: [
        { key: null, value: Buffer.from('a'), headers: [{ key: 'x', value: Buffer.from('1') }] },
        {
          key: Buffer.from('k'),
          value: null,
          headers: [
            { key: 'é', value: null },
            { key: 'y', value: Buffer.alloc(0) },
          ],
        },
      ],
    });
    const cursor = new RecordCursor();
    decodeRecordBatch(buf).cursor(cursor);
    assert.ok(cursor.next());
    assert.equal(cursor.offset, 10);
    assert.equal(cursor.keyLength, -1);
    assert.equal(cursor.headerCount, 1);
    assert.ok(cursor.nextHeader());
    assert.equal(cursor.headerKey(), 'x');
    assert.deepEqual(cursor.headerValue(), Buffer.from('1'));
    assert.equal(cursor.nextHeader(), false);
    assert.ok(cursor.next());
    assert.equal(cursor.offset, 11);
    assert.equal(cursor.valueLength, -1);
    assert.equal(cursor.value(), null);
    assert.deepEqual(cursor.headers(), [
      { key: 'é', value: null },
      { key: 'y', value: Buffer.alloc(0) },
    ]);
    assert.equal(cursor.next(), false);
    assert.equal(cursor.next(), false);
  });

  it('round-trips header keys: ASCII, multi-byte, long, and many distinct ones', () => {
    const keys = ['', 'a', 'trace-id', 'é', '日本語', '😀x', 'k'.repeat(33), 'ascii-'.repeat(20)];
    for (let i = 0; i < 1500; i++) keys.push(`key-${i}`);
    const records = keys.map((key, i) => ({
      value: null,
      headers: [{ key, value: Buffer.from([i & 255]) }],
    }));
    // Twice, so that the second pass decodes keys from the cache of the first.
    for (let pass = 0; pass < 2; pass++) {
      const decoded = decodeRecordBatch(encodeRecordBatch({ records })).toArray();
      assert.deepEqual(
        decoded.map((r) => r.headers[0].key),
        keys,
      );
    }
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 20 }),
        (ks) => {
          const recs = ks.map((key) => ({ value: null, headers: [{ key, value: null }] }));
          const out = decodeRecordBatch(encodeRecordBatch({ records: recs })).toArray();
          assert.deepEqual(
            out.map((r) => r.headers[0].key),
            ks,
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps offset gaps and lastOffsetDelta of compacted batches', () => {
    const buf = encodeRecordBatch({
      baseOffset: 100,
      lastOffsetDelta: 9,
      records: [
        { value: Buffer.from('a'), offsetDelta: 2 },
        { value: Buffer.from('b'), offsetDelta: 5 },
      ],
    });
    const batch = decodeRecordBatch(buf);
    assert.equal(batch.lastOffset, 109);
    assert.deepEqual(
      batch.toArray().map((r) => r.offset),
      [102, 105],
    );
    assert.throws(
      () => encodeRecordBatch({ records: [{ offsetDelta: 3 }, { offsetDelta: 3 }] }),
      RangeError,
    );
  });

  it('writes the delete horizon and LogAppendTime attributes', () => {
    const buf = encodeRecordBatch({
      deleteHorizonMs: 5000,
      timestampType: TimestampType.LogAppendTime,
      maxTimestamp: 9000,
      records: [
        { value: null, timestamp: 4000 },
        { value: null, timestamp: 6000 },
      ],
    });
    const batch = decodeRecordBatch(buf);
    assert.equal(batch.hasDeleteHorizon, true);
    assert.equal(batch.deleteHorizonMs, 5000);
    assert.equal(batch.baseTimestamp, 5000);
    assert.equal(batch.timestampType, TimestampType.LogAppendTime);
    // LogAppendTime: every record takes the batch's maxTimestamp.
    assert.deepEqual(
      batch.toArray().map((r) => r.timestamp),
      [9000, 9000],
    );
    assert.deepEqual(
      batch.toArray().map((r) => r.timestampDelta),
      [-1000, 1000],
    );
  });

  it('encodes and decodes an empty batch', () => {
    for (const compression of CODECS) {
      const buf = encodeRecordBatch({
        records: [],
        compression,
        baseOffset: 5,
        lastOffsetDelta: 3,
      });
      const batch = decodeRecordBatch(buf);
      assert.equal(batch.recordsCount, 0);
      assert.equal(batch.lastOffset, 8);
      assert.deepEqual(batch.toArray(), []);
    }
  });

  it('encodes and parses control batches (transaction markers)', () => {
    for (const type of [ControlRecordType.Commit, ControlRecordType.Abort]) {
      const buf = encodeControlBatch({
        type,
        producerId: 42,
        producerEpoch: 3,
        coordinatorEpoch: 17,
        baseOffset: 50,
        timestamp: 1234,
      });
      const batch = decodeRecordBatch(buf);
      assert.equal(batch.isControl, true);
      assert.equal(batch.isTransactional, true);
      assert.equal(batch.producerId, 42);
      assert.equal(batch.producerEpoch, 3);
      const [record] = batch.toArray();
      assert.equal(record.offset, 50);
      assert.equal(record.timestamp, 1234);
      assert.deepEqual(parseControlRecord(record.key, record.value), {
        version: 0,
        type,
        coordinatorEpoch: 17,
      });
    }
  });

  it('handles timestamps deltas beyond 32 bits and negative ones', () => {
    const records = [
      { value: null, timestamp: 2 ** 45 },
      { value: null, timestamp: 0 },
      { value: null, timestamp: 2 ** 46 + 3 },
    ];
    const batch = decodeRecordBatch(encodeRecordBatch({ records }));
    assert.deepEqual(
      batch.toArray().map((r) => r.timestamp),
      records.map((r) => r.timestamp),
    );
  });
});
