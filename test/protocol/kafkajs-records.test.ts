/**
 * Cross-checks record batches with kafkajs 2.2.4, an independent implementation: batches kafkajs
 * encodes are read by our decoder field for field, and batches we encode are read by kafkajs's
 * decoder, for every codec. kafkajs has gzip built in; snappy, lz4 and zstd are registered as
 * small adapters over our codecs (kafkajs only frames the compressed records, the codec bytes are
 * ours on both sides for those three).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { codecFor } from '../../src/protocol/compression/index.js';
import {
  CompressionType,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
} from '../../src/protocol/record-batch/index.js';

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null>;
  isControlRecord: boolean;
}
interface KafkajsBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  records: KafkajsRecord[];
}
interface LongStatic {
  fromValue(v: number | string): unknown;
}

const kafkajs = require('kafkajs') as {
  CompressionTypes: Record<string, number>;
  CompressionCodecs: Record<number, () => unknown>;
};
const Long = require('kafkajs/src/utils/long') as LongStatic;
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: Record<string, unknown>) => Promise<KafkajsEncoder>;
};
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  args: Record<string, unknown>,
) => KafkajsEncoder;
const kafkajsBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: unknown,
) => Promise<KafkajsBatch>;
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (buf: Buffer) => unknown;

// kafkajs asks for codecs other than gzip to be registered by the application.
for (const type of [CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd]) {
  const codec = codecFor(type);
  kafkajs.CompressionCodecs[type] = () => ({
    compress: (encoder: KafkajsEncoder) => codec.compressAsync(encoder.buffer),
    decompress: (buffer: Buffer) => codec.decompressAsync(buffer),
  });
}

const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
// Header keys unique and not integer-like: kafkajs keeps headers in an object.
const headersArb = (allowNull: boolean) =>
  fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { maxLength: 3 }).chain((keys) =>
    fc.tuple(
      ...keys.map((key) =>
        fc.record({
          key: fc.constant(key),
          value: allowNull ? fc.option(bytes(16), { nil: null }) : bytes(16),
        }),
      ),
    ),
  );
const recordsArb = (allowNullHeaderValues: boolean) =>
  fc.array(
    fc.record({
      key: fc.option(bytes(30), { nil: null }),
      value: fc.option(bytes(200), { nil: null }),
      headers: headersArb(allowNullHeaderValues),
      timestamp: fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }),
    }),
    { minLength: 1, maxLength: 20 },
  );

async function kafkajsEncode(
  records: RecordInput[],
  compression: CompressionType,
  meta: {
    baseOffset: number;
    producerId: number;
    producerEpoch: number;
    baseSequence: number;
    transactional: boolean;
  },
): Promise<Buffer> {
  const firstTimestamp = records[0].timestamp!;
  const encoded = await kafkajsRecordBatch({
    compression,
    firstOffset: Long.fromValue(meta.baseOffset),
    firstTimestamp,
    maxTimestamp: Math.max(...records.map((r) => r.timestamp!)),
    partitionLeaderEpoch: 3,
    lastOffsetDelta: records.length - 1,
    transactional: meta.transactional,
    producerId: Long.fromValue(meta.producerId),
    producerEpoch: meta.producerEpoch,
    firstSequence: meta.baseSequence,
    records: records.map((r, i) =>
      kafkajsRecord({
        offsetDelta: i,
        timestampDelta: r.timestamp! - firstTimestamp,
        key: r.key,
        value: r.value,
        headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, h.value])),
      }),
    ),
  });
  return encoded.buffer;
}

const metaArb = fc.record({
  baseOffset: fc.integer({ min: 0, max: 2 ** 48 }),
  producerId: fc.integer({ min: -1, max: 2 ** 40 }),
  producerEpoch: fc.integer({ min: 0, max: 32767 }),
  baseSequence: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  transactional: fc.boolean(),
});

describe('record batches against kafkajs 2.2.4', () => {
  for (const compression of CODECS) {
    const name = CompressionType[compression];

    it(`${name}: our decoder reads batches kafkajs encodes, field for field`, async () => {
      await fc.assert(
        fc.asyncProperty(recordsArb(false), metaArb, async (records, meta) => {
          const buf = await kafkajsEncode(records, compression, meta);
          const batch = decodeRecordBatch(buf);
          assert.equal(batch.sizeInBytes, buf.length);
          assert.equal(batch.compression, compression);
          assert.equal(batch.baseOffset, meta.baseOffset);
          assert.equal(batch.lastOffset, meta.baseOffset + records.length - 1);
          assert.equal(batch.partitionLeaderEpoch, 3);
          assert.equal(batch.producerId, meta.producerId);
          assert.equal(batch.producerEpoch, meta.producerEpoch);
          assert.equal(batch.baseSequence, meta.baseSequence);
          assert.equal(batch.isTransactional, meta.transactional);
          assert.equal(batch.recordsCount, records.length);
          assert.equal(batch.maxTimestamp, Math.max(...records.map((r) => r.timestamp)));
          const decoded = batch.toArray();
          assert.equal(decoded.length, records.length);
          records.forEach((r, i) => {
            const d = decoded[i];
            assert.equal(d.offset, meta.baseOffset + i);
            assert.equal(d.timestamp, r.timestamp);
            assert.deepEqual(d.key, r.key);
            assert.deepEqual(d.value, r.value);
            assert.deepEqual(
              d.headers,
              r.headers.map((h) => ({ key: h.key, value: h.value })),
            );
          });
        }),
        { numRuns: 40 },
      );
    });

    it(`${name}: kafkajs decodes batches we encode, field for field`, async () => {
      await fc.assert(
        fc.asyncProperty(recordsArb(true), metaArb, async (records, meta) => {
          const buf = encodeRecordBatch({ records, compression, partitionLeaderEpoch: 4, ...meta });
          const batch = await kafkajsBatchDecoder(new KafkajsDecoder(buf));
          assert.equal(batch.firstOffset, String(meta.baseOffset));
          assert.equal(batch.lastOffsetDelta, records.length - 1);
          assert.equal(batch.firstTimestamp, String(records[0].timestamp));
          assert.equal(batch.maxTimestamp, String(Math.max(...records.map((r) => r.timestamp))));
          assert.equal(batch.partitionLeaderEpoch, 4);
          assert.equal(batch.producerId, String(meta.producerId));
          assert.equal(batch.producerEpoch, meta.producerEpoch);
          assert.equal(batch.firstSequence, meta.baseSequence);
          assert.equal(batch.inTransaction, meta.transactional);
          assert.equal(batch.isControlBatch, false);
          assert.equal(batch.records.length, records.length);
          records.forEach((r, i) => {
            const d = batch.records[i];
            assert.equal(d.offset, String(meta.baseOffset + i));
            assert.equal(d.timestamp, String(r.timestamp));
            assert.deepEqual(d.key, r.key);
            assert.deepEqual(d.value, r.value);
            assert.deepEqual(d.headers, Object.fromEntries(r.headers.map((h) => [h.key, h.value])));
          });
        }),
        { numRuns: 40 },
      );
    });
  }

  it('kafkajs reads a control batch we encode as a control batch', async () => {
    const { encodeControlBatch, ControlRecordType } = await import(
      '../../src/protocol/record-batch/index.js'
    );
    const buf = encodeControlBatch({
      type: ControlRecordType.Commit,
      producerId: 9,
      producerEpoch: 1,
      coordinatorEpoch: 5,
      baseOffset: 77,
      timestamp: 1_700_000_000_000,
    });
    const batch = await kafkajsBatchDecoder(new KafkajsDecoder(buf));
    assert.equal(batch.isControlBatch, true);
    assert.equal(batch.inTransaction, true);
    assert.equal(batch.records[0].offset, '77');
    assert.deepEqual(batch.records[0].key, Buffer.from([0, 0, 0, 1]));
  });
});
