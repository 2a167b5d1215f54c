/**
 * Small pieces of generated TypeScript: version conditions, type names, default values and the
 * reader/writer calls for one value. emit-message.ts assembles them into functions.
 */
import {
  type FieldSpec,
  type FieldType,
  intersect,
  type MessageSpec,
  OPEN,
  type StructSpec,
  type VersionRange,
} from './schema.js';

/** Whether something holds in all, none, or some versions of the enclosing struct. */
export type Mode = 'always' | 'never' | 'runtime';

/** A condition on `version`, simplified against the versions the code can run at. */
export interface Cond {
  mode: Mode;
  /** The JavaScript condition (only meaningful when mode is runtime). */
  code: string;
}

export function versionCond(r: VersionRange | null, within: VersionRange): Cond {
  const i = intersect(r, within);
  if (i === null) return { mode: 'never', code: 'false' };
  const parts: string[] = [];
  if (i.min > within.min) parts.push(`version >= ${i.min}`);
  if (i.max < within.max) parts.push(`version <= ${i.max}`);
  if (parts.length === 0) return { mode: 'always', code: 'true' };
  return { mode: 'runtime', code: parts.join(' && ') };
}

/** Picks between two expressions on a condition, statically when possible. */
export function pick(c: Cond, yes: string, no: string): string {
  if (c.mode === 'always') return yes;
  if (c.mode === 'never') return no;
  if (yes === no) return yes;
  return `(${c.code} ? ${yes} : ${no})`;
}

/** Describes a range for documentation: `3+`, `0-12`, `5`. */
export function describeRange(r: VersionRange): string {
  if (r.max === OPEN) return `${r.min}+`;
  if (r.min === r.max) return `${r.min}`;
  return `${r.min}-${r.max}`;
}

/** The flexible-encoding condition of a field (its own override, else its struct's). */
export function flexCond(msg: MessageSpec, s: StructSpec, f: FieldSpec | undefined): Cond {
  const flex =
    f?.flexibleVersions !== undefined
      ? intersect(f.flexibleVersions, msg.flexibleVersions)
      : msg.flexibleVersions;
  return versionCond(flex, f ? f.versions : s.versions);
}

const TS_PRIMITIVE: Record<string, string> = {
  bool: 'boolean',
  int8: 'number',
  int16: 'number',
  uint16: 'number',
  int32: 'number',
  uint32: 'number',
  int64: 'bigint',
  float64: 'number',
  string: 'string',
  bytes: 'Buffer',
  uuid: 'string',
  records: 'Buffer | null',
};

/** The TypeScript type of a value (not including null for nullable fields). */
export function tsType(t: FieldType, complete: boolean): string {
  if (t.kind === 'primitive') return TS_PRIMITIVE[t.name];
  if (t.kind === 'struct') return complete ? `Complete<${t.struct.tsName}>` : t.struct.tsName;
  const e = tsType(t.element, complete);
  return e.includes(' ') ? `(${e})[]` : `${e}[]`;
}

export function isNullableSomewhere(f: FieldSpec): boolean {
  return f.nullableVersions !== null;
}

export function fieldTsType(f: FieldSpec, complete: boolean): string {
  const base = tsType(f.type, complete);
  if (f.type.kind === 'primitive' && f.type.name === 'records') return base;
  return isNullableSomewhere(f) ? `${base} | null` : base;
}

/** Is the field's default null (`"default": "null"`)? */
export function defaultsToNull(f: FieldSpec): boolean {
  if (f.type.kind === 'primitive' && f.type.name === 'records') return true;
  return f.defaultValue === 'null' && isNullableSomewhere(f);
}

function parseIntDefault(raw: string | number | boolean, where: string): bigint {
  const s = String(raw).trim();
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  let v: bigint;
  if (/^0x[0-9a-f]+$/i.test(body)) v = BigInt(body);
  else if (/^0[0-7]+$/.test(body)) v = BigInt(`0o${body.slice(1)}`);
  else if (/^\d+$/.test(body)) v = BigInt(body);
  else throw new Error(`${where}: bad integer default ${JSON.stringify(raw)}`);
  return neg ? -v : v;
}

const INT_BOUNDS: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-2147483648n, 2147483647n],
  uint32: [0n, 4294967295n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/**
 * The default value of a field as a JavaScript literal, for decoding (what a field the version
 * lacks reads as). Structs use their generated default function.
 */
export function defaultLiteral(f: FieldSpec, where: string): string {
  const d = f.defaultValue;
  if (defaultsToNull(f)) return 'null';
  const t = f.type;
  if (t.kind === 'array') {
    if (d !== undefined && d !== '') throw new Error(`${where}: arrays take no default but ${d}`);
    return '[]';
  }
  if (t.kind === 'struct') {
    if (d !== undefined) throw new Error(`${where}: structs take only a null default`);
    return `default${t.struct.tsName}()`;
  }
  switch (t.name) {
    case 'bool':
      if (d === undefined) return 'false';
      if (d === true || d === 'true') return 'true';
      if (d === false || d === 'false') return 'false';
      throw new Error(`${where}: bad bool default ${d}`);
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64': {
      const v = d === undefined ? 0n : parseIntDefault(d, where);
      const [lo, hi] = INT_BOUNDS[t.name];
      if (v < lo || v > hi) throw new Error(`${where}: default ${d} out of range for ${t.name}`);
      return t.name === 'int64' ? `${v}n` : `${v}`;
    }
    case 'float64': {
      if (d === undefined) return '0';
      const v = Number(d);
      if (Number.isNaN(v)) throw new Error(`${where}: bad float default ${d}`);
      return String(v);
    }
    case 'string':
      return JSON.stringify(d === undefined ? '' : String(d));
    case 'uuid':
      if (d !== undefined) throw new Error(`${where}: uuid defaults are not supported`);
      return 'ZERO_UUID';
    case 'bytes':
      if (d !== undefined) throw new Error(`${where}: bytes take only a null default`);
      return 'EMPTY_BYTES';
    case 'records':
      return 'null';
  }
}

/** The value the encoder writes for an undefined field: the default, shared where it is an object. */
export function encodeDefault(f: FieldSpec, where: string): string {
  if (f.type.kind === 'primitive' && f.type.name === 'records') {
    // Records default to null, but a version where they are not nullable writes them empty.
    const everywhere =
      f.nullableVersions !== null &&
      f.nullableVersions.min === f.versions.min &&
      f.nullableVersions.max === f.versions.max;
    return everywhere ? 'null' : 'EMPTY_BYTES';
  }
  if (defaultsToNull(f)) return 'null';
  if (f.type.kind === 'array') return 'EMPTY_ARRAY';
  if (f.type.kind === 'struct') return `(EMPTY_STRUCT as ${f.type.struct.tsName})`;
  return defaultLiteral(f, where);
}

/**
 * A boolean expression: does `v` (never undefined) equal the field's default? Used to decide
 * whether a tagged field is written and whether a field the version lacks may be dropped.
 */
export function isDefaultExpr(f: FieldSpec, v: string, where: string): string {
  const t = f.type;
  const nullDefault = defaultsToNull(f);
  if (nullDefault) return `${v} === null`;
  const nullable = isNullableSomewhere(f);
  const notNull = nullable ? `${v} !== null && ` : '';
  if (t.kind === 'array') return `${notNull}${v}.length === 0`;
  if (t.kind === 'struct') return `${notNull}isDefault${t.struct.tsName}(${v})`;
  if (t.name === 'bytes') return `${notNull}${v}.length === 0`;
  return `${v} === ${defaultLiteral(f, where)}`;
}

/** Minimum encoded size of one array element, used to reject absurd array counts early. */
export function minSize(t: FieldType, msg: MessageSpec): number {
  if (t.kind === 'array') return 1;
  if (t.kind === 'struct') return structMinSize(t.struct, msg);
  switch (t.name) {
    case 'bool':
    case 'int8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    default:
      return 1; // compact lengths take one byte
  }
}

/** The smallest encoding of a struct over all its versions (at least 1 so counts stay bounded). */
export function structMinSize(s: StructSpec, msg: MessageSpec): number {
  let best = Number.POSITIVE_INFINITY;
  for (let v = s.versions.min; v <= Math.min(s.versions.max, msg.validVersions.max); v++) {
    const flex = msg.flexibleVersions !== null && v >= msg.flexibleVersions.min;
    let size = flex ? 1 : 0;
    for (const f of s.fields) {
      if (v < f.versions.min || v > f.versions.max || f.tag !== undefined) continue;
      const nullableHere =
        f.nullableVersions !== null && v >= f.nullableVersions.min && v <= f.nullableVersions.max;
      if (f.type.kind === 'struct') size += nullableHere ? 1 : structMinSize(f.type.struct, msg);
      else if (f.type.kind === 'array') size += flex ? 1 : 4;
      else if (['string'].includes(f.type.name)) size += flex ? 1 : 2;
      else if (['bytes', 'records'].includes(f.type.name)) size += flex ? 1 : 4;
      else size += minSize(f.type, msg);
    }
    best = Math.min(best, size);
  }
  return Math.max(1, Number.isFinite(best) ? best : 1);
}

/** Is the type Kafka's `records`? */
export function isRecords(t: FieldType): boolean {
  return t.kind === 'primitive' && t.name === 'records';
}

/** `Struct.field`, for error messages and generated error calls. */
export function where(s: StructSpec, f: FieldSpec): string {
  return `${s.tsName}.${f.name}`;
}

/** The local variable a decoder keeps a field in. */
export function local(f: FieldSpec): string {
  return `f_${f.name}`;
}

/** The flexible condition for a field, expressed with the struct's `flex` local where possible. */
export function fieldFlexRef(msg: MessageSpec, s: StructSpec, f: FieldSpec, sflex: Cond): Cond {
  if (f.flexibleVersions !== undefined) return flexCond(msg, s, f);
  const own = flexCond(msg, s, f);
  if (own.mode !== 'runtime') return own;
  return sflex.mode === 'runtime' ? { mode: 'runtime', code: 'flex' } : own;
}
