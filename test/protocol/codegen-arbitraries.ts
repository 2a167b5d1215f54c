/**
 * fast-check arbitraries and expected decoded values derived at runtime from the same parsed
 * schema the generator reads (scripts/codegen/schema.ts). The defaults here are computed
 * independently of the generator's, so the round-trip tests cross-check both.
 */
import fc from 'fast-check';
import {
  type FieldSpec,
  type FieldType,
  inRange,
  type MessageSpec,
  type StructSpec,
} from '../../scripts/codegen/schema.js';

export type Value = Record<string, unknown>;

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function isFlexible(msg: MessageSpec, v: number): boolean {
  return inRange(msg.flexibleVersions, v);
}

/** Is the field on the wire at version v (untagged, or tagged in a flexible version)? */
export function onWire(msg: MessageSpec, f: FieldSpec, v: number): boolean {
  if (!inRange(f.versions, v)) return false;
  if (f.tag === undefined) return true;
  return isFlexible(msg, v) && inRange(f.taggedVersions, v);
}

function structIsFlexCapable(msg: MessageSpec, s: StructSpec): boolean {
  return (
    msg.flexibleVersions !== null &&
    msg.flexibleVersions.min <= s.versions.max &&
    msg.flexibleVersions.max >= s.versions.min
  );
}

/** The value a decoder reports for a field the version does not carry. */
export function defaultOf(msg: MessageSpec, f: FieldSpec): unknown {
  const d = f.defaultValue;
  const t = f.type;
  if (t.kind === 'primitive' && t.name === 'records') return null;
  if (d === 'null' && f.nullableVersions !== null) return null;
  if (t.kind === 'array') return [];
  if (t.kind === 'struct') return defaultStruct(msg, t.struct);
  switch (t.name) {
    case 'bool':
      return d === true || d === 'true';
    case 'int64':
      return d === undefined ? 0n : parseBig(String(d));
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
      return d === undefined ? 0 : Number(parseBig(String(d)));
    case 'float64':
      return d === undefined ? 0 : Number(d);
    case 'string':
      return d === undefined ? '' : String(d);
    case 'uuid':
      return ZERO_UUID;
    case 'bytes':
      return Buffer.alloc(0);
  }
}

function parseBig(s: string): bigint {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const v = BigInt(body);
  return neg ? -v : v;
}

export function defaultStruct(msg: MessageSpec, s: StructSpec): Value {
  const out: Value = {};
  for (const f of s.fields) out[f.name] = defaultOf(msg, f);
  if (structIsFlexCapable(msg, s)) out._unknownTaggedFields = undefined;
  return out;
}

const uuidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
});

const bufferArb = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));

function primitiveArb(name: string): fc.Arbitrary<unknown> {
  switch (name) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer({ min: -2147483648, max: 2147483647 });
    case 'uint32':
      return fc.integer({ min: 0, max: 4294967295 });
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64':
      // -0 equals the default 0 for a tagged field and so would come back as 0.
      return fc.double().map((x) => (Object.is(x, -0) ? 0 : x));
    case 'string':
      return fc.oneof(fc.constant(''), fc.string({ unit: 'binary', maxLength: 16 }));
    case 'uuid':
      return fc.oneof(fc.constant(ZERO_UUID), uuidArb);
    case 'bytes':
    case 'records':
      return bufferArb;
    default:
      throw new Error(`no arbitrary for ${name}`);
  }
}

function typeArb(msg: MessageSpec, t: FieldType, v: number, depth: number): fc.Arbitrary<unknown> {
  if (t.kind === 'primitive') return primitiveArb(t.name);
  if (t.kind === 'struct') return structArb(msg, t.struct, v, depth + 1);
  return fc.array(typeArb(msg, t.element, v, depth), { maxLength: depth > 2 ? 1 : 3 });
}

/** Random unknown tagged fields with tags no known field of the struct uses, in tag order. */
function unknownTagsArb(s: StructSpec): fc.Arbitrary<{ tag: number; data: Buffer }[]> {
  const known = new Set(s.fields.filter((f) => f.tag !== undefined).map((f) => f.tag));
  return fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 3 }).chain((tags) => {
    const sorted = tags.filter((t) => !known.has(t)).sort((a, b) => a - b);
    return fc.tuple(...sorted.map((tag) => bufferArb.map((data) => ({ tag, data }))));
  });
}

/**
 * Values of a struct valid at version v: every field the version carries (optional ones sometimes
 * left out), ignorable fields the version lacks sometimes set (they must be dropped), and unknown
 * tagged fields in flexible versions.
 */
export function structArb(
  msg: MessageSpec,
  s: StructSpec,
  v: number,
  depth = 0,
): fc.Arbitrary<Value> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const f of s.fields) {
    if (onWire(msg, f, v)) {
      let arb = typeArb(msg, f.type, v, depth);
      if (inRange(f.nullableVersions, v)) arb = fc.oneof(fc.constant(null), arb);
      model[f.name] = arb;
      if (f.required) requiredKeys.push(f.name);
    } else if (f.ignorable) {
      model[f.name] = typeArb(msg, f.type, v, depth);
    }
  }
  if (isFlexible(msg, v)) model._unknownTaggedFields = unknownTagsArb(s);
  return fc.record(model, { requiredKeys }) as fc.Arbitrary<Value>;
}

/** What the decoder must return for `value` encoded at version v. */
export function expected(msg: MessageSpec, s: StructSpec, value: Value, v: number): Value {
  const out: Value = {};
  for (const f of s.fields) {
    const given = value[f.name];
    if (!onWire(msg, f, v) || given === undefined) {
      out[f.name] = defaultOf(msg, f);
      continue;
    }
    out[f.name] = expectedOf(msg, f.type, given, v);
  }
  if (structIsFlexCapable(msg, s)) {
    const u = value._unknownTaggedFields as unknown[] | undefined;
    out._unknownTaggedFields = isFlexible(msg, v) && u && u.length > 0 ? u : undefined;
  }
  return out;
}

function expectedOf(msg: MessageSpec, t: FieldType, given: unknown, v: number): unknown {
  if (given === null) return null;
  if (t.kind === 'struct') return expected(msg, t.struct, given as Value, v);
  if (t.kind === 'array') return (given as unknown[]).map((e) => expectedOf(msg, t.element, e, v));
  return given;
}

/** Every version of a message, lowest first. */
export function versionsOf(msg: MessageSpec): number[] {
  const out: number[] = [];
  for (let v = msg.validVersions.min; v <= msg.validVersions.max; v++) out.push(v);
  return out;
}
