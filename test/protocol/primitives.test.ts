import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  DecodeError,
  Reader,
  uvarintSize,
  varintSize,
  Writer,
} from '../../src/protocol/primitives/index.js';

const RUNS = 150;

/** Writes with `write`, reads back with `read` and checks the value and that all bytes were used. */
function roundTrip<T>(
  arb: fc.Arbitrary<T>,
  write: (w: Writer, v: T) => void,
  read: (r: Reader) => T,
  eq: (a: T, b: T) => void = (a, b) => assert.deepStrictEqual(a, b),
): void {
  fc.assert(
    fc.property(arb, fc.nat(8), (v, pad) => {
      // A small initial size and a prefix exercise growth and non-zero offsets.
      const w = new Writer(1);
      w.raw(Buffer.alloc(pad, 0xee));
      write(w, v);
      const bytes = Buffer.from(w.finish());
      const r = new Reader(bytes, pad);
      eq(read(r), v);
      assert.equal(r.remaining, 0);
      // Every strict prefix of the encoding is rejected with DecodeError, never another error.
      for (let end = pad; end < bytes.length; end++) {
        const t = new Reader(bytes, pad, end);
        assert.throws(() => read(t), DecodeError);
      }
    }),
    { numRuns: RUNS },
  );
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const safeInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const str = fc.string({ unit: 'binary', maxLength: 40 });
const buf: fc.Arbitrary<Buffer> = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b));

test('fixed-size integers and floats round-trip over their whole range', () => {
  roundTrip(
    fc.integer({ min: -128, max: 127 }),
    (w, v) => w.int8(v),
    (r) => r.int8(),
  );
  roundTrip(
    fc.integer({ min: 0, max: 255 }),
    (w, v) => w.uint8(v),
    (r) => r.uint8(),
  );
  roundTrip(
    fc.boolean(),
    (w, v) => w.bool(v),
    (r) => r.bool(),
  );
  roundTrip(
    fc.integer({ min: -32768, max: 32767 }),
    (w, v) => w.int16(v),
    (r) => r.int16(),
  );
  roundTrip(
    fc.integer({ min: 0, max: 65535 }),
    (w, v) => w.uint16(v),
    (r) => r.uint16(),
  );
  roundTrip(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    (w, v) => w.int32(v),
    (r) => r.int32(),
  );
  roundTrip(
    fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    (w, v) => w.uint32(v),
    (r) => r.uint32(),
  );
  roundTrip(
    int64,
    (w, v) => w.int64(v),
    (r) => r.int64(),
  );
  roundTrip(
    safeInt,
    (w, v) => w.int64Number(v),
    (r) => r.int64Number(),
  );
  roundTrip(
    fc.double(),
    (w, v) => w.float64(v),
    (r) => r.float64(),
  );
});

test('int64 and its number fast path agree', () => {
  fc.assert(
    fc.property(safeInt, (v) => {
      const a = new Writer(8).int64(BigInt(v)).finish();
      const b = new Writer(8).int64Number(v).finish();
      assert.deepStrictEqual(a, b);
      assert.equal(new Reader(a).int64Number(), v);
    }),
    { numRuns: RUNS },
  );
});

test('varints round-trip and their size functions match what is written', () => {
  roundTrip(
    fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    (w, v) => w.uvarint(v),
    (r) => r.uvarint(),
  );
  roundTrip(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    (w, v) => w.varint(v),
    (r) => r.varint(),
  );
  roundTrip(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    (w, v) => w.uvarlong(v),
    (r) => r.uvarlong(),
  );
  roundTrip(
    int64,
    (w, v) => w.varlong(v),
    (r) => r.varlong(),
  );
  roundTrip(
    safeInt,
    (w, v) => w.varlongNumber(v),
    (r) => r.varlongNumber(),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => {
      assert.equal(new Writer(1).uvarint(v).offset, uvarintSize(v));
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
      assert.equal(new Writer(1).varint(v).offset, varintSize(v));
    }),
  );
});

test('varlongs from numbers and bigints are the same bytes', () => {
  fc.assert(
    fc.property(safeInt, (v) => {
      assert.deepStrictEqual(
        new Writer(1).varlongNumber(v).finish(),
        new Writer(1).varlong(BigInt(v)).finish(),
      );
    }),
    { numRuns: RUNS },
  );
});

test('zig-zag encodings match the protocol guide', () => {
  const cases: [number, number[]][] = [
    [0, [0]],
    [-1, [1]],
    [1, [2]],
    [-2, [3]],
    [63, [0x7e]],
    [-64, [0x7f]],
    [64, [0x80, 0x01]],
    [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [v, bytes] of cases) {
    assert.deepStrictEqual([...new Writer(1).varint(v).finish()], bytes, `varint ${v}`);
    assert.deepStrictEqual([...new Writer(1).varlong(BigInt(v)).finish()], bytes, `varlong ${v}`);
  }
  assert.deepStrictEqual(
    [...new Writer(1).varlong(-(2n ** 63n)).finish()],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  );
});

test('overlong and out-of-range varints are DecodeErrors', () => {
  const bad = [
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x00], // six bytes
    [0xff, 0xff, 0xff, 0xff, 0x1f], // 33 bits
  ];
  for (const b of bad) {
    assert.throws(() => new Reader(Buffer.from(b)).uvarint(), DecodeError);
    assert.throws(() => new Reader(Buffer.from(b)).varint(), DecodeError);
  }
  const long = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
  assert.throws(() => new Reader(long).uvarlong(), DecodeError);
  assert.throws(() => new Reader(long).varlongNumber(), DecodeError);
  const eleven = Buffer.alloc(11, 0x80);
  assert.throws(() => new Reader(eleven).uvarlong(), DecodeError);
  assert.throws(() => new Reader(eleven).varlongNumber(), DecodeError);
});

test('strings, bytes and their nullable and compact forms round-trip', () => {
  const nstr = fc.option(str, { nil: null });
  const nbuf = fc.option(buf, { nil: null });
  roundTrip(
    str,
    (w, v) => w.string(v),
    (r) => r.string(),
  );
  roundTrip(
    nstr,
    (w, v) => w.nullableString(v),
    (r) => r.nullableString(),
  );
  roundTrip(
    str,
    (w, v) => w.compactString(v),
    (r) => r.compactString(),
  );
  roundTrip(
    nstr,
    (w, v) => w.compactNullableString(v),
    (r) => r.compactNullableString(),
  );
  roundTrip(
    buf,
    (w, v) => w.bytes(v),
    (r) => r.bytes(),
  );
  roundTrip(
    nbuf,
    (w, v) => w.nullableBytes(v),
    (r) => r.nullableBytes(),
  );
  roundTrip(
    buf,
    (w, v) => w.compactBytes(v),
    (r) => r.compactBytes(),
  );
  roundTrip(
    nbuf,
    (w, v) => w.compactNullableBytes(v),
    (r) => r.compactNullableBytes(),
  );
});

test('bytes are decoded as views of the source buffer, not copies', () => {
  const frame = new Writer(16).bytes(Buffer.from('abc')).finish();
  const view = new Reader(frame).bytes();
  frame[4] = 0x7a;
  assert.equal(view.toString(), 'zbc');
});

test('null where a value is required, and negative lengths, are DecodeErrors', () => {
  assert.throws(() => new Reader(new Writer(4).int16(-1).finish()).string(), DecodeError);
  assert.throws(() => new Reader(new Writer(4).int16(-2).finish()).nullableString(), DecodeError);
  assert.throws(() => new Reader(new Writer(4).int32(-1).finish()).bytes(), DecodeError);
  assert.throws(() => new Reader(new Writer(4).int32(-5).finish()).nullableBytes(), DecodeError);
  assert.throws(() => new Reader(new Writer(4).uvarint(0).finish()).compactString(), DecodeError);
  assert.throws(() => new Reader(new Writer(4).uvarint(0).finish()).compactBytes(), DecodeError);
  assert.throws(() => new Reader(new Writer(4).int32(-7).finish()).arrayLength(), DecodeError);
  // Lengths past the end of the buffer.
  assert.throws(() => new Reader(new Writer(4).int16(100).finish()).string(), DecodeError);
  assert.throws(() => new Reader(new Writer(4).int32(2 ** 31 - 1).finish()).bytes(), DecodeError);
  assert.throws(
    () => new Reader(new Writer(4).uvarint(2 ** 32 - 1).finish()).compactBytes(),
    DecodeError,
  );
});

test('uuids round-trip as lower-case 8-4-4-4-12 hex, accepting upper case and no dashes', () => {
  roundTrip(
    fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] }),
    (w, v) => w.uuid(v),
    (r) => r.uuid(),
  );
  const hex = fc
    .uint8Array({ minLength: 16, maxLength: 16 })
    .map((b) => Buffer.from(b).toString('hex'));
  fc.assert(
    fc.property(hex, (h) => {
      const canonical = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      assert.equal(new Reader(new Writer(16).uuid(h.toUpperCase()).finish()).uuid(), canonical);
      assert.equal(new Reader(new Writer(16).uuid(canonical).finish()).uuid(), canonical);
    }),
    { numRuns: RUNS },
  );
  assert.throws(() => new Writer(16).uuid('not-a-uuid'), TypeError);
});

test('array lengths round-trip; counts that cannot fit are rejected before allocation', () => {
  roundTrip(
    fc.integer({ min: -1, max: 1000 }),
    (w, v) => {
      w.arrayLength(v);
      w.raw(Buffer.alloc(Math.max(v, 0)));
    },
    (r) => {
      const n = r.arrayLength(1);
      r.raw(Math.max(n, 0));
      return n;
    },
  );
  roundTrip(
    fc.integer({ min: -1, max: 1000 }),
    (w, v) => {
      w.compactArrayLength(v);
      w.raw(Buffer.alloc(Math.max(v, 0) * 2));
    },
    (r) => {
      const n = r.compactArrayLength(2);
      r.raw(Math.max(n, 0) * 2);
      return n;
    },
  );
  assert.throws(
    () => new Reader(new Writer(4).int32(2 ** 31 - 1).finish()).arrayLength(),
    DecodeError,
  );
  assert.throws(
    () => new Reader(new Writer(4).uvarint(2 ** 32 - 1).finish()).compactArrayLength(),
    DecodeError,
  );
  const three = new Writer(8).int32(3).raw(Buffer.alloc(11)).finish();
  assert.throws(() => new Reader(three).arrayLength(4), DecodeError);
  assert.equal(new Reader(three).arrayLength(3), 3);
});

test('tagged-field sections round-trip in tag order and keep unknown tags', () => {
  const field = fc.record(
    { tag: fc.integer({ min: 0, max: 100000 }), data: buf },
    { noNullPrototype: true },
  );
  fc.assert(
    fc.property(
      fc.uniqueArray(field, { selector: (f) => f.tag, maxLength: 6 }),
      fc.nat(6),
      (fields, k) => {
        const known = fields.slice(0, Math.min(k, fields.length));
        const unknown = [...fields.slice(known.length)].sort((a, b) => a.tag - b.tag);
        const bytes = new Writer(1).taggedFields([...known], unknown).finish();
        const r = new Reader(Buffer.from(bytes));
        const got = r.taggedFields() ?? [];
        assert.equal(r.remaining, 0);
        assert.deepStrictEqual(
          got,
          [...fields].sort((a, b) => a.tag - b.tag),
        );
      },
    ),
    { numRuns: RUNS },
  );
  // Out-of-order tags, a size past the end, and an absurd count are DecodeErrors.
  const outOfOrder = Buffer.from([2, 5, 0, 1, 0]);
  assert.throws(() => new Reader(outOfOrder).taggedFields(), DecodeError);
  assert.throws(() => new Reader(Buffer.from([1, 0, 9, 1])).taggedFields(), DecodeError);
  assert.throws(() => new Reader(Buffer.from([0xff, 0xff, 0x03])).taggedFields(), DecodeError);
});

test('a writer grows from any initial size, including zero', () => {
  fc.assert(
    fc.property(fc.nat(4), fc.array(buf, { maxLength: 10 }), (size, parts) => {
      const w = new Writer(size);
      for (const p of parts) w.bytes(p);
      const r = new Reader(Buffer.from(w.finish()));
      for (const p of parts) assert.deepStrictEqual(r.bytes(), p);
      assert.equal(r.remaining, 0);
    }),
    { numRuns: RUNS },
  );
});

test('reserve leaves room to fill in a length later', () => {
  const w = new Writer(2);
  const at = w.reserve(4);
  w.string('hello');
  w.buf.writeInt32BE(w.offset - at - 4, at);
  const r = new Reader(Buffer.from(w.finish()));
  assert.equal(r.int32(), 7);
  assert.equal(r.string(), 'hello');
});

test('int64 values outside the signed 64-bit range are rejected, not wrapped', () => {
  assert.throws(() => new Writer(8).int64(2n ** 63n), RangeError);
  assert.throws(() => new Writer(8).int64(-(2n ** 63n) - 1n), RangeError);
  const edges = [-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n];
  for (const v of edges) {
    const bytes = new Writer(8).int64(v).finish();
    const expected = Buffer.alloc(8);
    expected.writeBigInt64BE(v);
    assert.deepStrictEqual(bytes, expected, `${v} is big-endian two's complement`);
  }
});
