import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compressSync as snappyRaw } from 'snappy';
import {
  CompressionType,
  codecByName,
  codecFor,
  codecs,
  DecompressionLimitError,
  isXerialFramed,
  lz4Codec,
  lz4DecompressedBound,
  snappyCodec,
  UnsupportedCompressionError,
  XERIAL_MAGIC,
  zstdCodec,
} from '../../src/protocol/compression/index.js';
import { DecodeError } from '../../src/protocol/primitives/index.js';

const COMPRESSED = codecs.filter((c) => c.type !== CompressionType.None);
const has = (tool: string) => spawnSync(tool, ['--version']).status === 0;

/** Text-like data that compresses (random bytes would not exercise the match paths). */
function sample(size: number, seed = 1): Buffer {
  const words = ['topic', 'partition', 'offset', 'broker', 'record', 'batch', 'leader', '{"id":'];
  const out = Buffer.alloc(size);
  let x = seed;
  let pos = 0;
  while (pos < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    pos += out.write(`${words[x % words.length]}${x % 1000} `, pos);
  }
  return out;
}

describe('compression codecs', () => {
  it('are indexed by CompressionType and by Kafka name', () => {
    for (const [id, name] of ['none', 'gzip', 'snappy', 'lz4', 'zstd'].entries()) {
      assert.equal(codecFor(id).name, name);
      assert.equal(codecByName(name).type, id);
    }
    for (const bad of [5, 6, 7, -1, 100]) {
      assert.throws(
        () => codecFor(bad),
        (err: unknown) =>
          err instanceof UnsupportedCompressionError &&
          err instanceof DecodeError &&
          err.errorCode === 76 &&
          err.compressionType === bad &&
          (err as Error).name === 'UnsupportedCompressionError',
      );
    }
    assert.throws(() => codecByName('brotli'), RangeError);
  });

  for (const codec of COMPRESSED) {
    it(`${codec.name}: round-trips arbitrary and compressible data`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
          const buf = Buffer.from(data);
          assert.deepEqual(codec.decompress(codec.compress(buf)), buf);
        }),
        { numRuns: 50 },
      );
      for (const size of [0, 1, 100, 70_000, 300_000]) {
        const data = sample(size, size);
        assert.deepEqual(codec.decompress(codec.compress(data)), data);
      }
    });

    it(`${codec.name}: bounds the decompressed size (decompression bomb)`, () => {
      const bomb = codec.compress(Buffer.alloc(4 * 1024 * 1024));
      assert.ok(bomb.length < 300_000);
      assert.throws(() => codec.decompress(bomb, 1024 * 1024), DecompressionLimitError);
      assert.equal(codec.decompress(bomb, 4 * 1024 * 1024).length, 4 * 1024 * 1024);
    });

    it(`${codec.name}: async methods give the same bytes, bounds and errors`, async () => {
      for (const size of [0, 100, 100_000]) {
        const data = sample(size, size + 7);
        const sync = codec.compress(data);
        const async = await codec.compressAsync(data);
        assert.deepEqual(await codec.decompressAsync(sync), data);
        assert.deepEqual(codec.decompress(async), data);
      }
      const bomb = codec.compress(Buffer.alloc(4 * 1024 * 1024));
      await assert.rejects(codec.decompressAsync(bomb, 1024 * 1024), DecompressionLimitError);
      const good = codec.compress(sample(10_000));
      await assert.rejects(codec.decompressAsync(good.subarray(0, good.length >> 1)), DecodeError);
      await assert.rejects(
        codec.decompressAsync(Buffer.from('garbage garbage garbage')),
        DecodeError,
      );
    });

    it(`${codec.name}: raises DecodeError for garbage and truncated input`, () => {
      const good = codec.compress(sample(10_000));
      const inputs = [
        Buffer.from('definitely not compressed data, no sir'),
        good.subarray(0, good.length >> 1),
        good.subarray(0, 3),
      ];
      for (const input of inputs) {
        assert.throws(() => codec.decompress(input), DecodeError);
      }
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (junk) => {
          try {
            codec.decompress(Buffer.from(junk), 1 << 20);
          } catch (err) {
            assert.ok(err instanceof DecodeError, String(err));
          }
        }),
        { numRuns: 200 },
      );
    });
  }

  it('snappy writes the xerial framing with 32 KiB blocks, as the Java client does', () => {
    const data = sample(100_000);
    const framed = snappyCodec.compress(data);
    assert.ok(isXerialFramed(framed));
    assert.deepEqual(framed.subarray(0, 8), XERIAL_MAGIC);
    assert.equal(framed.readInt32BE(8), 1);
    assert.equal(framed.readInt32BE(12), 1);
    let pos = 16;
    let chunks = 0;
    while (pos < framed.length) {
      pos += 4 + framed.readInt32BE(pos);
      chunks++;
    }
    assert.equal(pos, framed.length);
    assert.equal(chunks, Math.ceil(100_000 / 32768));
  });

  it('snappy reads a bare raw block too (what some clients write)', () => {
    const data = sample(20_000);
    assert.deepEqual(snappyCodec.decompress(snappyRaw(data)), data);
    assert.throws(() => snappyCodec.decompress(snappyRaw(data), 1000), DecompressionLimitError);
  });

  it('snappy rejects xerial chunks whose length runs past the end or is negative', () => {
    const framed = Buffer.from(snappyCodec.compress(sample(1000)));
    const longer = Buffer.from(framed);
    longer.writeInt32BE(framed.length, 16);
    assert.throws(() => snappyCodec.decompress(longer), DecodeError);
    const negative = Buffer.from(framed);
    negative.writeInt32BE(-5, 16);
    assert.throws(() => snappyCodec.decompress(negative), DecodeError);
  });

  it('lz4 writes frames with independent blocks and no content size (Kafka/librdkafka frames)', () => {
    const frame = lz4Codec.compress(sample(1000));
    assert.equal(frame.readUInt32LE(0), 0x184d2204);
    const flg = frame[4];
    assert.equal(flg >> 6, 1, 'frame version 01');
    assert.ok(flg & 0x20, 'block independence set');
    assert.equal(flg & 0x08, 0, 'no content size');
    assert.ok(lz4DecompressedBound(frame) >= 1000);
  });

  it('lz4 frames interoperate with the reference lz4 tool (liblz4, as in librdkafka)', () => {
    assert.ok(has('lz4'), 'the lz4 command is required: apt-get install -y lz4');
    const data = sample(200_000);
    const ours = spawnSync('lz4', ['-d', '-c'], { input: lz4Codec.compress(data) });
    assert.equal(ours.status, 0, ours.stderr.toString());
    assert.deepEqual(ours.stdout, data);
    for (const flags of [[], ['-BD'], ['--content-size'], ['-BX', '-B4']]) {
      const theirs = spawnSync('lz4', ['-c', '-z', ...flags], { input: data });
      assert.equal(theirs.status, 0, theirs.stderr.toString());
      assert.deepEqual(lz4Codec.decompress(theirs.stdout), data, `lz4 ${flags.join(' ')}`);
    }
  });

  it('zstd frames interoperate with the reference zstd tool, with and without content size', () => {
    assert.ok(has('zstd'), 'the zstd command is required: apt-get install -y zstd');
    const data = sample(200_000);
    const ours = spawnSync('zstd', ['-d', '-c'], { input: zstdCodec.compress(data) });
    assert.equal(ours.status, 0, ours.stderr.toString());
    assert.deepEqual(ours.stdout, data);
    // Piped input makes the zstd tool leave the content size out: the streaming path.
    const theirs = spawnSync('zstd', ['-c', '-q', '--no-content-size'], { input: data });
    assert.equal(theirs.status, 0, theirs.stderr.toString());
    assert.deepEqual(zstdCodec.decompress(theirs.stdout), data);
    assert.throws(() => zstdCodec.decompress(theirs.stdout, 50_000), DecompressionLimitError);
    const bomb = spawnSync('zstd', ['-c', '-q', '--no-content-size'], {
      input: Buffer.alloc(8 << 20),
    });
    assert.throws(() => zstdCodec.decompress(bomb.stdout, 1 << 20), DecompressionLimitError);
    // A streamed frame cut short must not pass for shorter data.
    for (const cut of [10, theirs.stdout.length >> 1, theirs.stdout.length - 1]) {
      assert.throws(() => zstdCodec.decompress(theirs.stdout.subarray(0, cut)), DecodeError);
    }
    assert.deepEqual(zstdCodec.decompress(theirs.stdout), data, 'context usable after errors');
  });

  it('gzip reads multi-member streams and stops a bomb at the limit', () => {
    const a = sample(1000, 1);
    const b = sample(1000, 2);
    const two = Buffer.concat([gzipSync(a), gzipSync(b)]);
    assert.deepEqual(codecFor(CompressionType.Gzip).decompress(two), Buffer.concat([a, b]));
  });
});
