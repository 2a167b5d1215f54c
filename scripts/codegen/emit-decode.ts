/**
 * Emits the decode function of a struct (and the function building a struct of defaults): fields
 * read in order, branches only where the schema changes between versions, tagged fields read in
 * a switch, unknown tags kept as views.
 */
import {
  type Cond,
  defaultLiteral,
  fieldFlexRef,
  fieldTsType,
  flexCond,
  local,
  minSize,
  pick,
  tsType,
  versionCond,
  where,
} from './exprs.js';
import { doc, type Out } from './out.js';
import {
  type FieldSpec,
  type FieldType,
  intersect,
  type MessageSpec,
  type StructSpec,
  structHasFlexible,
} from './schema.js';

/** The expression that reads one non-array value (arrays are statements, see emitRead). */
function readScalar(t: FieldType, flex: Cond, nullable: Cond): string {
  if (t.kind === 'struct') {
    const call = `decode${t.struct.tsName}(r, version)`;
    return pick(nullable, `(r.int8() < 0 ? null : ${call})`, call);
  }
  if (t.kind === 'array') throw new Error('arrays are read by emitRead');
  switch (t.name) {
    case 'bool':
      return 'r.bool()';
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'float64':
    case 'uuid':
      return `r.${t.name}()`;
    case 'string':
      return pick(
        nullable,
        pick(flex, 'r.compactNullableString()', 'r.nullableString()'),
        pick(flex, 'r.compactString()', 'r.string()'),
      );
    case 'bytes':
    case 'records': {
      const nonNull = pick(flex, 'r.compactBytes()', 'r.bytes()');
      // Records are typed `Buffer | null` in every version; a null where the version forbids it
      // is still an error on the wire.
      return pick(nullable, pick(flex, 'r.compactNullableBytes()', 'r.nullableBytes()'), nonNull);
    }
  }
}

/** Statements that read field `f` into `target`. */
function emitRead(
  out: Out,
  msg: MessageSpec,
  s: StructSpec,
  f: FieldSpec,
  target: string,
  flex: Cond,
  nullable: Cond,
): void {
  const t = f.type;
  if (t.kind !== 'array') {
    out.line(`${target} = ${readScalar(t, flex, nullable)};`);
    return;
  }
  const min = minSize(t.element, msg);
  out.open('{');
  out.line(`const n = ${pick(flex, `r.compactArrayLength(${min})`, `r.arrayLength(${min})`)};`);
  out.open('if (n < 0) {');
  if (nullable.mode === 'never') {
    out.line(`throw nullOnWire('${s.tsName}', '${f.name}', r);`);
  } else {
    if (nullable.mode === 'runtime') {
      out.line(`if (!(${nullable.code})) throw nullOnWire('${s.tsName}', '${f.name}', r);`);
    }
    out.line(`${target} = null;`);
  }
  out.reopen();
  const elemType = tsType(t.element, true);
  out.line(`const a: ${elemType}[] = [];`);
  const never: Cond = { mode: 'never', code: 'false' };
  const elem =
    t.element.kind === 'array'
      ? (() => {
          throw new Error(`${where(s, f)}: nested arrays are not supported`);
        })()
      : readScalar(t.element, flex, never);
  out.line(`for (let i = 0; i < n; i++) a.push(${elem});`);
  out.line(`${target} = a;`);
  out.close();
  out.close();
}

export function emitDecode(out: Out, msg: MessageSpec, s: StructSpec): void {
  const fn = `decode${s.tsName}`;
  const hasFlex = structHasFlexible(msg, s);
  if (s.isRoot) {
    doc(out, `Decodes ${msg.name} at \`version\`; throws DecodeError on malformed input.`);
  }
  out.open(
    `${s.isRoot ? 'export ' : ''}function ${fn}(r: Reader, version: number): Complete<${s.tsName}> {`,
  );
  if (s.isRoot) {
    out.line(
      `if (!(version >= ${msg.validVersions.min} && version <= ${msg.validVersions.max})) throw unsupportedDecodeVersion('${msg.name}', version, ${msg.validVersions.min}, ${msg.validVersions.max});`,
    );
  }
  const sflex = flexCond(msg, s, undefined);
  if (sflex.mode === 'runtime') out.line(`const flex = ${sflex.code};`);
  const flexRef: Cond = sflex.mode === 'runtime' ? { mode: 'runtime', code: 'flex' } : sflex;
  for (const f of s.fields) {
    const type = fieldTsType(f, true);
    const name = local(f);
    const present = versionCond(f.versions, s.versions);
    const ff = fieldFlexRef(msg, s, f, sflex);
    const nullable = versionCond(f.nullableVersions, f.versions);
    if (f.tag !== undefined || present.mode !== 'always') {
      out.line(`let ${name}: ${type} = ${defaultLiteral(f, where(s, f))};`);
    } else if (f.type.kind !== 'array') {
      out.line(`const ${name}: ${type} = ${readScalar(f.type, ff, nullable)};`);
      continue;
    } else {
      out.line(`let ${name}: ${type};`);
    }
    if (f.tag !== undefined) continue;
    if (present.mode === 'runtime') out.open(`if (${present.code}) {`);
    emitRead(out, msg, s, f, name, ff, nullable);
    if (present.mode === 'runtime') out.close();
  }
  if (hasFlex) {
    out.line('let unknown: TaggedFields | undefined;');
    const flexRange = intersect(msg.flexibleVersions, s.versions);
    if (flexRange === null) throw new Error('unreachable');
    if (flexRef.mode === 'runtime') out.open('if (flex) {');
    out.line('const tagCount = readTagCount(r);');
    out.open('for (let i = 0; i < tagCount; i++) {');
    out.line('const tag = r.uvarint();');
    out.line('const end = readTagEnd(r, tag);');
    const tagged = s.fields.filter((f) => f.tag !== undefined).sort((a, b) => a.tag! - b.tag!);
    if (tagged.length === 0) {
      out.line('unknown = keepUnknownTag(r, tag, end, unknown);');
    } else {
      out.open('switch (tag) {');
      for (const f of tagged) {
        out.open(`case ${f.tag}: {`);
        const tc = versionCond(f.taggedVersions, flexRange);
        const nullable = versionCond(f.nullableVersions, f.versions);
        const always: Cond = { mode: 'always', code: 'true' };
        if (tc.mode === 'runtime') out.open(`if (${tc.code}) {`);
        emitRead(out, msg, s, f, local(f), always, nullable);
        out.line('checkTagEnd(r, tag, end);');
        if (tc.mode === 'runtime') {
          out.reopen();
          out.line('unknown = keepUnknownTag(r, tag, end, unknown);');
          out.close();
        }
        out.line('break;');
        out.close();
      }
      out.open('default: {');
      out.line('unknown = keepUnknownTag(r, tag, end, unknown);');
      out.close();
      out.close();
    }
    out.close();
    if (flexRef.mode === 'runtime') out.close();
  }
  out.open('return {');
  for (const f of s.fields) out.line(`${f.name}: ${local(f)},`);
  if (hasFlex) out.line('_unknownTaggedFields: unknown,');
  out.close('};');
  out.close();
  out.line();
}

export function emitDefault(out: Out, msg: MessageSpec, s: StructSpec): void {
  out.open(`function default${s.tsName}(): Complete<${s.tsName}> {`);
  out.open('return {');
  for (const f of s.fields) out.line(`${f.name}: ${defaultLiteral(f, where(s, f))},`);
  if (structHasFlexible(msg, s)) out.line('_unknownTaggedFields: undefined,');
  out.close('};');
  out.close();
  out.line();
}
