import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadAllMessages, type MessageSpec } from '../../scripts/codegen/schema.js';
import * as generated from '../../src/protocol/generated/index.js';
import { Reader, Writer } from '../../src/protocol/primitives/index.js';
import { expected, structArb, type Value, versionsOf } from './codegen-arbitraries.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const messages = loadAllMessages(join(root, '..', 'shared', 'kafka-protocol'));

type Encode = (w: Writer, m: Value, version: number) => void;
type Decode = (r: Reader, version: number) => Value;

export function codecOf(msg: MessageSpec): { encode: Encode; decode: Decode } {
  const g = generated as unknown as Record<string, unknown>;
  const encode = g[`encode${msg.name}`] as Encode | undefined;
  const decode = g[`decode${msg.name}`] as Decode | undefined;
  assert.ok(encode && decode, `${msg.name} has generated codecs`);
  return { encode, decode };
}

/** Runs a fast-check assertion, naming the case and the underlying failure in the error. */
function assertProperty(name: string, run: () => void): void {
  try {
    run();
  } catch (e) {
    const err = e as Error & { cause?: unknown };
    const cause = err.cause instanceof Error ? `\n${err.cause.message}` : '';
    throw new Error(`${name}: ${err.message}${cause}`);
  }
}

const RUNS = Number(process.env.CODEGEN_RUNS ?? 25);

test('every message round-trips at every version with schema-derived values', () => {
  let cases = 0;
  for (const msg of messages) {
    const { encode, decode } = codecOf(msg);
    for (const v of versionsOf(msg)) {
      assertProperty(`${msg.name} v${v}`, () =>
        fc.assert(
          fc.property(structArb(msg, msg.root, v), (value) => {
            const w = new Writer(64);
            encode(w, value, v);
            const bytes = Buffer.from(w.finish());
            const r = new Reader(bytes);
            const decoded = decode(r, v);
            assert.equal(r.remaining, 0, `${msg.name} v${v} leaves no bytes`);
            assert.deepStrictEqual(decoded, expected(msg, msg.root, value, v));
            // Re-encoding what was decoded gives the same bytes (unknown tags kept in place).
            const w2 = new Writer(16);
            encode(w2, decoded, v);
            assert.deepStrictEqual(w2.finish(), bytes);
          }),
          { numRuns: RUNS },
        ),
      );
      cases++;
    }
  }
  assert.ok(cases > 500, `covered ${cases} message versions`);
});

test('an empty object encodes as all defaults at every version', () => {
  for (const msg of messages) {
    const { encode, decode } = codecOf(msg);
    for (const v of versionsOf(msg)) {
      const w = new Writer(0);
      encode(w, {}, v);
      const r = new Reader(Buffer.from(w.finish()));
      const decoded = decode(r, v);
      assert.equal(r.remaining, 0);
      assert.deepStrictEqual(decoded, expected(msg, msg.root, {}, v), `${msg.name} v${v}`);
    }
  }
});
