/**
 * Emits the encode function of a struct (and its "is every field default" check): undefined
 * fields take their defaults, values a version cannot carry are dropped (ignorable) or rejected,
 * tagged fields are written in tag order with unknown ones interleaved.
 */
import {
  type Cond,
  encodeDefault,
  fieldFlexRef,
  fieldTsType,
  flexCond,
  isDefaultExpr,
  isNullableSomewhere,
  isRecords,
  pick,
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

/** The code that writes a null marker for a field in the current encoding. */
function writeNull(t: FieldType, flex: Cond): string {
  if (t.kind === 'struct') return 'w.int8(-1);';
  if (t.kind === 'primitive' && t.name === 'string')
    return `${pick(flex, 'w.uvarint(0)', 'w.int16(-1)')};`;
  return `${pick(flex, 'w.uvarint(0)', 'w.int32(-1)')};`;
}

function writeScalar(t: FieldType, v: string, flex: Cond): string {
  if (t.kind === 'struct') return `encode${t.struct.tsName}(w, ${v}, version);`;
  if (t.kind === 'array') throw new Error('arrays are written by emitWrite');
  switch (t.name) {
    case 'string':
      return `${pick(flex, `w.compactString(${v})`, `w.string(${v})`)};`;
    case 'bytes':
    case 'records':
      return `${pick(flex, `w.compactBytes(${v})`, `w.bytes(${v})`)};`;
    default:
      return `w.${t.name}(${v});`;
  }
}

/** Statements that write the value `v` (never undefined) of field `f`. */
function emitWrite(
  out: Out,
  s: StructSpec,
  f: FieldSpec,
  v: string,
  flex: Cond,
  nullable: Cond,
): void {
  const t = f.type;
  const mayBeNull = isNullableSomewhere(f) || isRecords(t);
  if (mayBeNull) {
    out.open(`if (${v} === null) {`);
    if (nullable.mode === 'never') {
      out.line(`throw nullNotAllowed('${s.tsName}', '${f.name}', version);`);
    } else {
      if (nullable.mode === 'runtime') {
        out.line(
          `if (!(${nullable.code})) throw nullNotAllowed('${s.tsName}', '${f.name}', version);`,
        );
      }
      out.line(writeNull(t, flex));
    }
    out.reopen();
  }
  if (t.kind === 'array') {
    out.line(`${pick(flex, `w.compactArrayLength(${v}.length)`, `w.arrayLength(${v}.length)`)};`);
    if (t.element.kind === 'array') throw new Error(`${s.tsName}.${f.name}: nested arrays`);
    out.line(`for (let i = 0; i < ${v}.length; i++) ${writeScalar(t.element, `${v}[i]`, flex)}`);
  } else if (t.kind === 'struct' && nullable.mode !== 'never') {
    if (nullable.mode === 'always') out.line('w.int8(1);');
    else out.line(`if (${nullable.code}) w.int8(1);`);
    out.line(writeScalar(t, v, flex));
  } else {
    out.line(writeScalar(t, v, flex));
  }
  if (mayBeNull) out.close();
}

export function emitEncode(out: Out, msg: MessageSpec, s: StructSpec): void {
  const fn = `encode${s.tsName}`;
  if (s.isRoot) {
    doc(
      out,
      `Encodes ${msg.name} at \`version\`. Undefined fields take their defaults; throws EncodeError when the version cannot carry a value.`,
    );
  }
  out.open(
    `${s.isRoot ? 'export ' : ''}function ${fn}(w: Writer, m: ${s.tsName}, version: number): void {`,
  );
  if (s.isRoot) {
    out.line(
      `if (!(version >= ${msg.validVersions.min} && version <= ${msg.validVersions.max})) throw unsupportedEncodeVersion('${msg.name}', version, ${msg.validVersions.min}, ${msg.validVersions.max});`,
    );
  }
  const sflex = flexCond(msg, s, undefined);
  if (sflex.mode === 'runtime') out.line(`const flex = ${sflex.code};`);
  for (const f of s.fields) {
    if (f.tag !== undefined) continue;
    const present = versionCond(f.versions, s.versions);
    const ff = fieldFlexRef(msg, s, f, sflex);
    const nullable = versionCond(f.nullableVersions, f.versions);
    const w = where(s, f);
    if (present.mode === 'runtime') out.open(`if (${present.code}) {`);
    else out.open('{');
    out.line(`const v = m.${f.name} === undefined ? ${encodeDefault(f, w)} : m.${f.name};`);
    emitWrite(out, s, f, 'v', ff, nullable);
    if (present.mode === 'runtime') {
      if (f.ignorable) {
        out.close();
      } else {
        out.reopen();
        out.line(`const v = m.${f.name};`);
        out.line(
          `if (v !== undefined && !(${isDefaultExpr(f, 'v', w)})) throw fieldNotInVersion('${s.tsName}', '${f.name}', version);`,
        );
        out.close();
      }
    } else {
      out.close();
    }
  }
  if (structHasFlexible(msg, s)) emitTaggedWrite(out, msg, s, sflex);
  out.close();
  out.line();
}

function emitTaggedWrite(out: Out, msg: MessageSpec, s: StructSpec, sflex: Cond): void {
  const flexRange = intersect(msg.flexibleVersions, s.versions);
  if (flexRange === null) throw new Error('unreachable');
  const tagged = s.fields.filter((f) => f.tag !== undefined).sort((a, b) => a.tag! - b.tag!);
  // A tagged field with a value the version cannot carry: dropped if ignorable, else an error.
  for (const f of tagged) {
    if (f.ignorable) continue;
    const inVersion = versionCond(intersect(f.taggedVersions, msg.flexibleVersions), s.versions);
    if (inVersion.mode === 'always') continue;
    const w = where(s, f);
    const cond = inVersion.mode === 'never' ? '' : `!(${inVersion.code}) && `;
    out.line(
      `if (${cond}m.${f.name} !== undefined && !(${isDefaultExpr(f, `m.${f.name}`, w)})) throw fieldNotInVersion('${s.tsName}', '${f.name}', version);`,
    );
  }
  if (sflex.mode === 'runtime') out.open('if (flex) {');
  out.line('const unknown = m._unknownTaggedFields;');
  const counts: string[] = [];
  for (const f of tagged) {
    const tc = versionCond(f.taggedVersions, flexRange);
    const w = where(s, f);
    out.line(`const t_${f.name} = m.${f.name};`);
    const inV = tc.mode === 'runtime' ? `${tc.code} && ` : '';
    out.line(
      `const has_${f.name} = ${inV}t_${f.name} !== undefined && !(${isDefaultExpr(f, `t_${f.name}`, w)});`,
    );
    counts.push(`(has_${f.name} ? 1 : 0)`);
  }
  counts.push('(unknown === undefined ? 0 : unknown.length)');
  out.line(`w.uvarint(${counts.join(' + ')});`);
  if (tagged.length > 0) {
    out.line('let u = 0;');
    const always: Cond = { mode: 'always', code: 'true' };
    for (const f of tagged) {
      out.line(`if (unknown !== undefined) u = writeUnknownTags(w, unknown, u, ${f.tag});`);
      out.open(`if (has_${f.name}) {`);
      out.line(`const at = beginTag(w, ${f.tag});`);
      out.line(`const v = t_${f.name} as ${fieldTsType(f, false)};`);
      emitWrite(out, s, f, 'v', always, versionCond(f.nullableVersions, f.versions));
      out.line('endTag(w, at);');
      out.close();
    }
    out.line(
      'if (unknown !== undefined) writeUnknownTags(w, unknown, u, Number.POSITIVE_INFINITY);',
    );
  } else {
    out.line(
      'if (unknown !== undefined) writeUnknownTags(w, unknown, 0, Number.POSITIVE_INFINITY);',
    );
  }
  if (sflex.mode === 'runtime') out.close();
}

export function emitIsDefault(out: Out, msg: MessageSpec, s: StructSpec): void {
  out.open(`function isDefault${s.tsName}(s: ${s.tsName}): boolean {`);
  const parts = s.fields.map(
    (f) => `(s.${f.name} === undefined || ${isDefaultExpr(f, `s.${f.name}`, where(s, f))})`,
  );
  if (structHasFlexible(msg, s)) {
    parts.push('(s._unknownTaggedFields === undefined || s._unknownTaggedFields.length === 0)');
  }
  if (parts.length === 0) parts.push('true');
  out.open('return (');
  parts.forEach((p, i) => {
    out.line(`${p}${i < parts.length - 1 ? ' &&' : ''}`);
  });
  out.close(');');
  out.close();
  out.line();
}
