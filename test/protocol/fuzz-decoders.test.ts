/**
 * Fuzzing every generated decoder: random bytes and mutated valid encodings must either decode or
 * raise DecodeError, never another exception, a hang, or a huge allocation. Iterations are bounded
 * so the whole file runs in seconds; FUZZ_RUNS raises them for a longer soak.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadAllMessages, type MessageSpec } from '../../scripts/codegen/schema.js';
import * as generated from '../../src/protocol/generated/index.js';
import {
  ALL_API_SPECS,
  type ApiMessages,
  encodeRequestFrame,
  readRequest,
} from '../../src/protocol/messages.js';
import { DecodeError, Reader, Writer } from '../../src/protocol/primitives/index.js';
import { structArb, type Value, versionsOf } from './codegen-arbitraries.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const messages = loadAllMessages(join(root, '..', 'shared', 'kafka-protocol'));
const RUNS = Number(process.env.FUZZ_RUNS ?? 8);

type Encode = (w: Writer, m: Value, version: number) => void;
type Decode = (r: Reader, version: number) => Value;

function codec(msg: MessageSpec): { encode: Encode; decode: Decode } {
  const g = generated as unknown as Record<string, Encode & Decode>;
  return { encode: g[`encode${msg.name}`], decode: g[`decode${msg.name}`] };
}

/** Decodes, accepting success or DecodeError; anything else fails the test with context. */
function decodeOrDecodeError(decode: Decode, bytes: Buffer, version: number, what: string): void {
  try {
    decode(new Reader(bytes), version);
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      throw new Error(`${what}: ${String(e)} for ${bytes.toString('hex')}`);
    }
  }
}

type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: readonly number[] }
  | { kind: 'overwrite'; at: number; bytes: readonly number[] };

const hostile: fc.Arbitrary<readonly number[]> = fc.constantFrom<readonly number[]>(
  [0xff, 0xff, 0xff, 0xff], // int32 -1 / huge varint start
  [0xff, 0xff, 0xff, 0xfe], // int32 -2
  [0x7f, 0xff, 0xff, 0xff], // int32 max
  [0x80, 0x00, 0x00, 0x00], // int32 min
  [0x10, 0x00, 0x00, 0x00], // large count
  [0xff, 0xff, 0xff, 0xff, 0x0f], // uvarint 2^32-1
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80], // overlong varint
  [0xff, 0xff], // int16 -1
  [0x80, 0x00], // int16 min
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: hostile }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: hostile }),
);

function mutate(src: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(src);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'set') {
      if (b.length > 0) b[at % b.length] = m.value;
    } else if (m.kind === 'truncate') {
      b = b.subarray(0, at);
    } else if (m.kind === 'insert') {
      b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    } else {
      const o = Buffer.from(b);
      Buffer.from(m.bytes).copy(o, Math.min(at, o.length));
      b = o;
    }
  }
  return b;
}

test('every decoder survives random bytes and mutated valid frames with only DecodeError', () => {
  const started = Date.now();
  let decodes = 0;
  for (const msg of messages) {
    const { encode, decode } = codec(msg);
    for (const v of versionsOf(msg)) {
      const what = `${msg.name} v${v}`;
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
          decodeOrDecodeError(decode, Buffer.from(bytes), v, what);
          decodes++;
        }),
        { numRuns: RUNS },
      );
      fc.assert(
        fc.property(
          structArb(msg, msg.root, v),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (value, ms) => {
            const w = new Writer(64);
            encode(w, value, v);
            const valid = Buffer.from(w.finish());
            decodeOrDecodeError(decode, mutate(valid, ms), v, what);
            // Every truncation of a valid frame fails cleanly too.
            const cut = ms[0].at % (valid.length + 1);
            if (cut < valid.length) {
              assert.throws(() => decode(new Reader(valid.subarray(0, cut)), v), DecodeError, what);
            }
            decodes += 2;
          },
        ),
        { numRuns: RUNS },
      );
    }
  }
  assert.ok(decodes > 10000, `${decodes} decodes`);
  // Not a benchmark: a generous bound that catches a decoder looping on hostile counts.
  assert.ok(Date.now() - started < 120_000, 'fuzzing finished in bounded time');
});

test('readRequest survives random and mutated request frames with only DecodeError', () => {
  const valid: Buffer[] = [];
  for (const spec of ALL_API_SPECS) {
    for (const v of [spec.validVersions.min, spec.validVersions.max]) {
      valid.push(
        encodeRequestFrame(spec.apiKey as keyof ApiMessages, v, 7, 'fuzz', {} as never).subarray(4),
      );
    }
  }
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        fc
          .tuple(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 4 }))
          .map(([b, ms]) => mutate(b, ms)),
      ),
      (frame) => {
        try {
          readRequest(frame);
        } catch (e) {
          if (!(e instanceof DecodeError))
            throw new Error(`${String(e)} for ${frame.toString('hex')}`);
        }
      },
    ),
    { numRuns: RUNS * 200 },
  );
});
