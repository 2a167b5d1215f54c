import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SerdeError } from '../../src/streams/errors.js';
import {
  bytesSerde,
  doubleSerde,
  int32Serde,
  int64Serde,
  jsonSerde,
  longSerde,
  orderedInt32Serde,
  orderedLongSerde,
  type Serde,
  serdeFrom,
  stringSerde,
} from '../../src/streams/serdes/index.js';

function roundTrips<T>(serde: Serde<T>, values: fc.Arbitrary<T>): void {
  fc.assert(
    fc.property(values, (value) => {
      assert.deepEqual(serde.deserialize(serde.serialize(value)), value);
    }),
  );
}

function keepsOrder(serde: Serde<number>, values: fc.Arbitrary<number>): void {
  fc.assert(
    fc.property(values, values, (a, b) => {
      const bytes = Math.sign(Buffer.compare(serde.serialize(a), serde.serialize(b)));
      assert.equal(bytes, Math.sign(a - b));
    }),
  );
}

describe('serdes', () => {
  test('round trips', () => {
    roundTrips(stringSerde, fc.string({ unit: 'grapheme' }));
    roundTrips(
      bytesSerde,
      fc.uint8Array().map((b) => Buffer.from(b)),
    );
    roundTrips(
      jsonSerde<unknown>(),
      fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v))),
    );
    roundTrips(int32Serde, fc.integer());
    roundTrips(int64Serde, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }));
    roundTrips(
      longSerde,
      fc.maxSafeInteger().filter((n) => n >= Number.MIN_SAFE_INTEGER),
    );
    roundTrips(doubleSerde, fc.double({ noNaN: true }));
    roundTrips(orderedInt32Serde, fc.integer());
    roundTrips(orderedLongSerde, fc.maxSafeInteger());
  });

  test('long writes what Kafka LongSerializer writes, and int64 reads it', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const expected = Buffer.alloc(8);
        expected.writeBigInt64BE(BigInt(n));
        assert.deepEqual(longSerde.serialize(n), expected);
        assert.equal(int64Serde.deserialize(longSerde.serialize(n)), BigInt(n));
      }),
    );
  });

  test('ordered numeric serdes sort byte-wise in numeric order', () => {
    keepsOrder(orderedInt32Serde, fc.integer());
    keepsOrder(orderedLongSerde, fc.maxSafeInteger());
  });

  test('bad input raises SerdeError', () => {
    assert.throws(() => stringSerde.deserialize(Buffer.from([0xc3, 0x28])), SerdeError);
    assert.throws(() => jsonSerde().deserialize(Buffer.from('{')), SerdeError);
    assert.throws(() => jsonSerde().serialize(undefined), SerdeError);
    assert.throws(() => int32Serde.deserialize(Buffer.alloc(3)), SerdeError);
    assert.throws(() => int32Serde.serialize(2 ** 31), SerdeError);
    assert.throws(() => int32Serde.serialize(1.5), SerdeError);
    assert.throws(() => longSerde.serialize(2 ** 53), SerdeError);
    assert.throws(() => longSerde.deserialize(Buffer.from('7fffffffffffffff', 'hex')), SerdeError);
    assert.throws(() => int64Serde.serialize(1n << 63n), SerdeError);
    assert.throws(() => doubleSerde.deserialize(Buffer.alloc(9)), SerdeError);
  });

  test('user-defined serdes are typed and their failures wrapped', () => {
    interface Point {
      x: number;
      y: number;
    }
    const point = serdeFrom<Point>(
      'point',
      (p) => Buffer.from(`${p.x},${p.y}`),
      (b) => {
        const [x, y] = b.toString().split(',').map(Number);
        if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error('not a point');
        return { x: x!, y: y! };
      },
    );
    assert.deepEqual(point.deserialize(point.serialize({ x: 1, y: -2 })), { x: 1, y: -2 });
    assert.throws(
      () => point.deserialize(Buffer.from('nope')),
      (error: unknown) =>
        error instanceof SerdeError &&
        error.message === 'point serde could not deserialize: not a point' &&
        error.cause instanceof Error,
    );
  });
});
