import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DecompressionLimitError,
  gzipCodec,
  UnsupportedCompressionError,
} from '../../src/protocol/compression/index.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import { DecodeError } from '../../src/protocol/primitives/index.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  CompressionType,
  CorruptRecordError,
  CRC_OFFSET,
  decodeRecordBatch,
  encodeRecordBatch,
  InvalidRecordError,
  iterateRecordBatches,
  MAGIC_OFFSET,
  RECORDS_COUNT_OFFSET,
  type RecordBatch,
  updateBatchCrc,
  validateRecordBatch,
} from '../../src/protocol/record-batch/index.js';

const CODECS = [0, 1, 2, 3, 4] as CompressionType[];

function sampleBatch(compression = CompressionType.None, baseOffset = 0): Buffer {
  return encodeRecordBatch({
    compression,
    baseOffset,
    timestamp: 1_700_000_000_000,
    records: [
      {
        key: Buffer.from('key-1'),
        value: Buffer.from('value one'),
        headers: [{ key: 'h', value: Buffer.from('v') }],
      },
      { key: null, value: null },
      { key: Buffer.from('k3'), value: Buffer.alloc(200, 'x') },
    ],
  });
}

/** A batch around hand-made record bytes, with a correct CRC. */
function rawBatch(records: Buffer, count: number, attributes = 0): Buffer {
  const buf = Buffer.concat([Buffer.alloc(61), records]);
  buf.writeInt32BE(buf.length - 12, BATCH_LENGTH_OFFSET);
  buf[MAGIC_OFFSET] = 2;
  buf.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(Math.max(0, count - 1), 23);
  buf.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  updateBatchCrc(buf);
  return buf;
}

/** Reads every record and header, materialising everything: the full decode path. */
function readAll(batch: RecordBatch): number {
  let n = 0;
  for (const r of batch) {
    n += r.headers.length + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  }
  return n;
}

function assertDecodeError(fn: () => unknown, type: new (...a: never[]) => Error = DecodeError) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    return true;
  });
}

describe('record batch decoding of bad input', () => {
  it('flags a flipped byte anywhere under the CRC (or in it) as CorruptRecordError', () => {
    for (const compression of CODECS) {
      const good = sampleBatch(compression);
      for (let i = CRC_OFFSET; i < good.length; i++) {
        const bad = Buffer.from(good);
        bad[i] ^= 0x10;
        assertDecodeError(() => decodeRecordBatch(bad), CorruptRecordError);
      }
    }
    const bad = sampleBatch();
    bad[70] ^= 1;
    try {
      decodeRecordBatch(bad);
    } catch (err) {
      assert.ok(err instanceof CorruptRecordError);
      assert.equal(err.errorCode, 2);
      assert.notEqual(err.expectedCrc, err.actualCrc);
    }
  });

  it('rejects every truncation of a batch with DecodeError', () => {
    const good = sampleBatch();
    for (let len = 0; len < good.length; len++) {
      assertDecodeError(() => decodeRecordBatch(good.subarray(0, len)));
    }
  });

  it('rejects a wrong magic, a short or overlong batchLength', () => {
    const magic = sampleBatch();
    magic[MAGIC_OFFSET] = 1;
    assertDecodeError(() => decodeRecordBatch(magic));
    for (const length of [-1, 0, 48, 2 ** 31 - 1]) {
      const bad = sampleBatch();
      bad.writeInt32BE(length, BATCH_LENGTH_OFFSET);
      assertDecodeError(() => decodeRecordBatch(bad));
    }
  });

  it('rejects negative and absurd record counts before reading records', () => {
    for (const count of [-1, -(2 ** 31), 1000, 2 ** 31 - 1]) {
      const bad = sampleBatch();
      bad.writeInt32BE(count, RECORDS_COUNT_OFFSET);
      updateBatchCrc(bad);
      assertDecodeError(() => readAll(decodeRecordBatch(bad)));
    }
    // Compressed: the count is checked against the decompressed size.
    const gz = sampleBatch(CompressionType.Gzip);
    gz.writeInt32BE(1_000_000, RECORDS_COUNT_OFFSET);
    updateBatchCrc(gz);
    assertDecodeError(() => readAll(decodeRecordBatch(gz)));
  });

  it('rejects a count larger or smaller than the records present', () => {
    for (const compression of CODECS) {
      for (const delta of [-1, 1]) {
        const bad = sampleBatch(compression);
        bad.writeInt32BE(3 + delta, RECORDS_COUNT_OFFSET);
        updateBatchCrc(bad);
        assertDecodeError(() => readAll(decodeRecordBatch(bad)));
      }
    }
  });

  it('rejects malformed records: bad lengths, invalid varints, fields past the record', () => {
    const cases: [string, number[]][] = [
      ['varint longer than 5 bytes', [0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      ['record length past the end', [0x7e, 0, 0, 0, 1, 1, 0]],
      ['negative record length', [0x03, 0, 0, 0, 1, 1, 0]],
      ['record length too small', [0x04, 0, 0, 0, 1]],
      ['negative key length', [0x0c, 0, 0, 0, 0x09, 1, 0, 0, 0, 0, 0, 0, 0]],
      ['key past the record', [0x0c, 0, 0, 0, 0x40, 1, 0, 0, 0, 0, 0, 0, 0]],
      ['negative value length', [0x0c, 0, 0, 0, 1, 0x05, 0, 0, 0, 0, 0, 0, 0]],
      ['negative header count', [0x0c, 0, 0, 0, 1, 1, 0x03, 0, 0, 0, 0, 0, 0]],
      ['absurd header count', [0x0c, 0, 0, 0, 1, 1, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0, 0]],
      ['header key of null', [0x0c, 0, 0, 0, 1, 1, 0x02, 0x01, 0x01, 0, 0, 0, 0]],
      ['fields end before the record length', [0x0e, 0, 0, 0, 1, 1, 0, 9, 9, 9]],
      [
        'timestamp varlong longer than 10 bytes',
        [0x20, 0, ...Array(11).fill(0xff), 0, 1, 1, 0, 0, 0, 0],
      ],
      [
        'varint with a fifth byte above 4 bits',
        [0x0c, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 1, 0, 0, 0],
      ],
    ];
    for (const [what, bytes] of cases) {
      const batch = rawBatch(Buffer.from(bytes), 1);
      assert.throws(
        () => readAll(decodeRecordBatch(batch)),
        (err: unknown) => err instanceof DecodeError,
        what,
      );
    }
    // Sanity: the same framing with well-formed fields decodes.
    const ok = rawBatch(Buffer.from([0x0c, 0, 0, 0, 1, 1, 0]), 1);
    assert.deepEqual(decodeRecordBatch(ok).toArray()[0].value, null);
  });

  it('raises UnsupportedCompressionError for codec ids 5–7', () => {
    for (const id of [5, 6, 7]) {
      const bad = sampleBatch();
      bad.writeInt16BE(id, ATTRIBUTES_OFFSET);
      updateBatchCrc(bad);
      assertDecodeError(() => readAll(decodeRecordBatch(bad)), UnsupportedCompressionError);
      assertDecodeError(() => validateRecordBatch(bad), UnsupportedCompressionError);
    }
  });

  it('caps decompression of a batch (decompression bomb)', () => {
    const bomb = rawBatch(gzipCodec.compress(Buffer.alloc(8 << 20)), 1, CompressionType.Gzip);
    assertDecodeError(
      () => readAll(decodeRecordBatch(bomb, 0, { maxDecompressedSize: 1 << 20 })),
      DecompressionLimitError,
    );
  });

  it('never throws anything but DecodeError on mutated batches (CRC recomputed)', () => {
    const batches = CODECS.map((c) => sampleBatch(c));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: CODECS.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (which, edits) => {
          const buf = Buffer.from(batches[which]);
          for (const [at, byte] of edits)
            buf[ATTRIBUTES_OFFSET + (at % (buf.length - ATTRIBUTES_OFFSET))] = byte;
          updateBatchCrc(buf);
          try {
            readAll(decodeRecordBatch(buf, 0, { maxDecompressedSize: 1 << 20 }));
            validateRecordBatch(buf, 0, { deep: true, maxDecompressedSize: 1 << 20 });
          } catch (err) {
            assert.ok(err instanceof DecodeError, `unexpected ${String(err)}`);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('never throws anything but DecodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const buf = Buffer.from(data);
        try {
          for (const batch of iterateRecordBatches(buf, { verifyCrc: false })) readAll(batch);
        } catch (err) {
          assert.ok(err instanceof DecodeError, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('iterating concatenated batches', () => {
  it('yields whole batches and stops cleanly at a partial trailing batch', () => {
    const parts = [sampleBatch(0, 0), sampleBatch(CompressionType.Lz4, 3), sampleBatch(0, 6)];
    const all = Buffer.concat(parts);
    const ends = [parts[0].length, parts[0].length + parts[1].length, all.length];
    for (let cut = 0; cut <= all.length; cut++) {
      const it = iterateRecordBatches(all.subarray(0, cut));
      const batches = [...it];
      const whole = ends.filter((e) => e <= cut).length;
      assert.equal(batches.length, whole, `cut at ${cut}`);
      assert.deepEqual(
        batches.map((b) => b.baseOffset),
        [0, 3, 6].slice(0, whole),
      );
      assert.equal(it.position, whole === 0 ? 0 : ends[whole - 1]);
      assert.equal(it.partialBytes, cut - it.position);
    }
    const offsets = [...iterateRecordBatches(all)].flatMap((b) => b.toArray().map((r) => r.offset));
    assert.deepEqual(offsets, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('raises DecodeError for a corrupt batch in the middle, not a silent stop', () => {
    const parts = [sampleBatch(), sampleBatch(), sampleBatch()];
    const bad = Buffer.concat(parts);
    bad[parts[0].length + 80] ^= 0xff;
    assert.throws(() => [...iterateRecordBatches(bad)], CorruptRecordError);
    const badLength = Buffer.concat(parts);
    badLength.writeInt32BE(10, parts[0].length + BATCH_LENGTH_OFFSET);
    assert.throws(() => [...iterateRecordBatches(badLength)], DecodeError);
  });
});

describe('validateRecordBatch (produce path)', () => {
  it('accepts good batches of every codec, shallow and deep', () => {
    for (const compression of CODECS) {
      const batch = sampleBatch(compression);
      assert.equal(validateRecordBatch(batch, 0, { fromProducer: true }).recordsCount, 3);
      assert.equal(
        validateRecordBatch(batch, 0, { deep: true, fromProducer: true }).recordsCount,
        3,
      );
    }
  });

  it('checks CRC and counts without decompressing', () => {
    const crc = sampleBatch(CompressionType.Zstd);
    crc[100] ^= 1;
    assert.throws(() => validateRecordBatch(crc), CorruptRecordError);
    const count = sampleBatch(CompressionType.None);
    count.writeInt32BE(100, RECORDS_COUNT_OFFSET);
    updateBatchCrc(count);
    assert.throws(() => validateRecordBatch(count), DecodeError);
  });

  it('rejects a compressed batch whose count no decompressed size within the bound could hold', () => {
    const bad = sampleBatch(CompressionType.Zstd);
    bad.writeInt32BE(2 ** 31 - 1, RECORDS_COUNT_OFFSET);
    bad.writeInt32BE(2 ** 31 - 1, 23);
    updateBatchCrc(bad);
    assert.throws(() => validateRecordBatch(bad), DecodeError);
    const small = sampleBatch(CompressionType.Zstd);
    assert.throws(() => validateRecordBatch(small, 0, { maxDecompressedSize: 20 }), DecodeError);
  });

  it('enforces the producer rules: records present, lastOffsetDelta = count - 1, deltas 0..n-1', () => {
    const empty = encodeRecordBatch({ records: [] });
    assert.throws(() => validateRecordBatch(empty, 0, { fromProducer: true }), InvalidRecordError);
    validateRecordBatch(empty);
    const gap = encodeRecordBatch({
      records: [
        { value: null, offsetDelta: 0 },
        { value: null, offsetDelta: 1 },
      ],
      lastOffsetDelta: 5,
    });
    validateRecordBatch(gap, 0, { deep: true });
    assert.throws(() => validateRecordBatch(gap, 0, { fromProducer: true }), InvalidRecordError);
    const skipped = encodeRecordBatch({
      records: [
        { value: null, offsetDelta: 0 },
        { value: null, offsetDelta: 2 },
      ],
      lastOffsetDelta: 1,
    });
    assert.throws(() => validateRecordBatch(skipped, 0, { deep: true }), InvalidRecordError);
    const tooFewDeltas = encodeRecordBatch({
      records: [{ value: null }, { value: null }, { value: null }],
      lastOffsetDelta: 1,
    });
    assert.throws(() => validateRecordBatch(tooFewDeltas), InvalidRecordError);
  });

  it('matches the CRC the encoder computed', () => {
    const batch = sampleBatch();
    assert.equal(batch.readUInt32BE(CRC_OFFSET), crc32c(batch.subarray(ATTRIBUTES_OFFSET)));
  });
});
