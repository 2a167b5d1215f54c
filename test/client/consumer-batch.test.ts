import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsumerBatch } from '../../src/client/index.js';
import { BatchBuilder } from '../../src/client/producer/batch-builder.js';
import {
  CompressionType,
  ControlRecordType,
  decodeRecordBatch,
  encodeControlBatch,
  encodeRecordBatch,
  type RecordBatch,
} from '../../src/protocol/record-batch/index.js';

const txn = (baseOffset: number, producerId: number, values: string[]): RecordBatch =>
  decodeRecordBatch(
    encodeRecordBatch({
      baseOffset,
      producerId,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
      records: values.map((v) => ({ value: Buffer.from(v) })),
    }),
  );
const marker = (baseOffset: number, producerId: number, type: ControlRecordType): RecordBatch =>
  decodeRecordBatch(
    encodeControlBatch({ baseOffset, producerId, producerEpoch: 0, coordinatorEpoch: 0, type }),
  );
const values = (b: ConsumerBatch): string[] =>
  b.records().map((r) => r.value?.toString() ?? 'null');

test('read_committed drops aborted transactions and control records; read_uncommitted keeps data', () => {
  const batches = [
    txn(0, 7, ['a0', 'a1']), // producer 7, aborted
    txn(2, 8, ['c0']), // producer 8, committed
    marker(3, 7, ControlRecordType.Abort),
    marker(4, 8, ControlRecordType.Commit),
    txn(5, 7, ['a2']), // producer 7 again, a new (committed) transaction
    marker(6, 7, ControlRecordType.Commit),
  ];
  const committed = new ConsumerBatch('t', 0, batches, 0, 7, 7, 1, [
    { producerId: 7, firstOffset: 0 },
  ]);
  assert.deepEqual(values(committed), ['c0', 'a2']);
  assert.equal(committed.count, 2);
  const uncommitted = new ConsumerBatch('t', 0, batches, 0, 7, 7, 1, null);
  assert.deepEqual(values(uncommitted), ['a0', 'a1', 'c0', 'a2']);
  const onlyMarkers = new ConsumerBatch(
    't',
    0,
    [marker(3, 7, ControlRecordType.Abort)],
    0,
    4,
    4,
    1,
    null,
  );
  assert.equal(onlyMarkers.isEmpty, true);
});

test('records before the fetch position are skipped; values are views; forEachValue allocates nothing per record', () => {
  const b = decodeRecordBatch(
    encodeRecordBatch({
      baseOffset: 10,
      records: ['x', 'y', 'z'].map((v) => ({ key: Buffer.from(`k${v}`), value: Buffer.from(v) })),
    }),
  );
  const cb = new ConsumerBatch('t', 3, [b], 11, 13, 20, 1, null);
  const rs = cb.records();
  assert.deepEqual(
    rs.map((r) => [r.offset, r.key?.toString(), r.value?.toString()]),
    [
      [11, 'ky', 'y'],
      [12, 'kz', 'z'],
    ],
  );
  assert.equal(rs[0].value?.buffer, b.buffer.buffer, 'a view into the fetched bytes');
  const seen: number[] = [];
  cb.forEachValue((buf, at, len, offset) => {
    assert.equal(len, 1);
    seen.push(offset, buf[at]);
  });
  assert.deepEqual(seen, [11, 'y'.charCodeAt(0), 12, 'z'.charCodeAt(0)]);
  assert.equal(cb.lag, 7);
});

test('the producer batch builder writes batches the decoder reads back, for every codec', () => {
  for (const compression of [
    CompressionType.None,
    CompressionType.Gzip,
    CompressionType.Snappy,
    CompressionType.Lz4,
    CompressionType.Zstd,
  ]) {
    const builder = new BatchBuilder('t', 0, 256, 1000);
    let n = 0;
    while (
      builder.tryAppend(
        n % 3 === 0 ? null : `key${n}`,
        n % 5 === 0 ? null : Buffer.from(`value-${n}`),
        n % 2 ? [{ key: 'h', value: 'v' }] : undefined,
        1000 + n,
      )
    )
      n++;
    assert.ok(n > 3 && n < 20, 'the batch filled up at its capacity');
    const batch = decodeRecordBatch(builder.build(42, 3, 100, compression));
    assert.equal(batch.compression, compression);
    assert.equal(batch.producerId, 42);
    assert.equal(batch.producerEpoch, 3);
    assert.equal(batch.baseSequence, 100);
    assert.equal(batch.recordsCount, n);
    assert.equal(batch.maxTimestamp, 1000 + n - 1);
    batch.toArray().forEach((r, i) => {
      assert.equal(r.offset, i);
      assert.equal(r.timestamp, 1000 + i);
      assert.equal(r.key?.toString() ?? null, i % 3 === 0 ? null : `key${i}`);
      assert.equal(r.value?.toString() ?? null, i % 5 === 0 ? null : `value-${i}`);
      assert.deepEqual(
        r.headers.map((h) => [h.key, h.value?.toString()]),
        i % 2 ? [['h', 'v']] : [],
      );
    });
    // A record larger than the capacity still fits in an empty batch.
    const big = new BatchBuilder('t', 0, 64, 0);
    assert.ok(big.tryAppend(null, Buffer.alloc(1000, 1), undefined, 0));
    assert.equal(
      decodeRecordBatch(big.build(-1, -1, -1, compression)).toArray()[0].value?.length,
      1000,
    );
  }
});

test('a reader walks the deliverable records with one cursor and resumes where it was left', () => {
  const batches = [
    txn(0, 7, ['a0', 'a1']), // aborted
    txn(2, 8, ['c0', 'c1', 'c2']),
    marker(5, 7, ControlRecordType.Abort),
    txn(6, 8, ['c3']),
  ];
  const cb = new ConsumerBatch('t', 0, batches, 3, 7, 7, 1, [{ producerId: 7, firstOffset: 0 }]);
  const reader = cb.reader();
  const first = reader.next();
  assert.ok(first !== undefined);
  assert.deepEqual([first.offset, first.value()?.toString()], [3, 'c1']);
  // Left here, then resumed: the same cursor object moves on.
  const seen: [number, string | undefined][] = [];
  for (let c = reader.next(); c !== undefined; c = reader.next()) {
    assert.equal(c, first, 'one cursor for every record');
    seen.push([c.offset, c.value()?.toString()]);
  }
  assert.deepEqual(seen, [
    [4, 'c2'],
    [6, 'c3'],
  ]);
  assert.equal(reader.next(), undefined, 'stays at the end');
});

test('a producer batch starts small and grows up to its limit', () => {
  const builder = new BatchBuilder('t', 0, 256 * 1024, 0);
  assert.equal(builder.capacity, 16 * 1024, 'Kafka’s default batch.size at first');
  const value = Buffer.alloc(1000, 7);
  let n = 0;
  while (builder.tryAppend(null, value, undefined, n)) {
    n++;
    assert.ok(builder.capacity >= builder.sizeInBytes);
  }
  assert.equal(builder.capacity, 256 * 1024, 'grown to the limit, not past it');
  assert.ok(n > 250, `${n} records of 1000 bytes in 256 KiB`);
  const batch = decodeRecordBatch(builder.build(-1, -1, -1, CompressionType.None));
  assert.equal(batch.recordsCount, n);
  batch.toArray().forEach((r, i) => {
    assert.equal(r.timestamp, i);
    assert.ok(r.value?.equals(value));
  });
});
