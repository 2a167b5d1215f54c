/**
 * Reads Kafka's protocol JSON (messages/*.json) into a resolved model that the code generator and the
 * schema-driven tests share: version ranges parsed and intersected, struct types resolved (inline,
 * by reference, and commonStructs), names converted to TypeScript conventions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** An inclusive version range. `max` is {@link OPEN} for ranges written `N+`. */
export interface VersionRange {
  min: number;
  max: number;
}

/** Upper bound of an open range (`N+`): the largest int16. */
export const OPEN = 0x7fff;

export type PrimitiveName =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records';

export const PRIMITIVES: ReadonlySet<string> = new Set<PrimitiveName>([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'uuid',
  'records',
]);

export type FieldType =
  | { kind: 'primitive'; name: PrimitiveName }
  | { kind: 'array'; element: FieldType }
  | { kind: 'struct'; struct: StructSpec };

/** A field with every version attribute resolved against the versions its struct is used in. */
export interface FieldSpec {
  /** The name in the JSON (PascalCase). */
  jsonName: string;
  /** The TypeScript property name (camelCase). */
  name: string;
  type: FieldType;
  /** Versions in which the field is on the wire (intersected with its struct's versions). */
  versions: VersionRange;
  /** Versions in which null is allowed, or null when never. */
  nullableVersions: VersionRange | null;
  /** Tag number when the field is a tagged field. */
  tag: number | undefined;
  /** Versions in which the field is sent as a tagged field (within flexible versions). */
  taggedVersions: VersionRange | null;
  /** A per-field override of the message's flexible versions (RequestHeader.ClientId: none). */
  flexibleVersions: VersionRange | null | undefined;
  ignorable: boolean;
  /** The raw `default` attribute, if any. */
  defaultValue: string | number | boolean | undefined;
  about: string;
  /** True when the field is present (untagged) in every version of its struct and has no default. */
  required: boolean;
}

export interface StructSpec {
  /** The struct's name in the JSON (`TopicProduceData`), or the message name for the root. */
  jsonName: string;
  /** Unambiguous TypeScript name: message name + struct name (`ProduceRequestTopicProduceData`). */
  tsName: string;
  fields: FieldSpec[];
  /** Hull of the versions in which this struct is used. */
  versions: VersionRange;
  isRoot: boolean;
}

export type MessageKind =
  | 'request'
  | 'response'
  | 'header'
  | 'data'
  | 'coordinator-key'
  | 'coordinator-value';

/**
 * The folders of the protocol definitions that are generated: the wire messages, and the records
 * the group coordinator keeps in `__consumer_offsets`.
 */
export const SOURCE_DIRS = ['messages', 'group-coordinator'] as const;

export interface MessageSpec {
  /** The folder under the protocol directory (`messages`, `group-coordinator`). */
  dir: string;
  file: string;
  name: string;
  kind: MessageKind;
  apiKey: number | undefined;
  listeners: string[];
  validVersions: VersionRange;
  flexibleVersions: VersionRange | null;
  latestVersionUnstable: boolean;
  root: StructSpec;
  /** Every struct of the message, root first, then in order of first definition. */
  structs: StructSpec[];
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  ignorable?: boolean;
  default?: string | number | boolean;
  about?: string;
  fields?: RawField[];
}

interface RawStruct {
  name: string;
  versions?: string;
  fields: RawField[];
}

interface RawMessage {
  apiKey?: number;
  type: MessageKind;
  name: string;
  validVersions: string;
  flexibleVersions?: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: RawField[];
  commonStructs?: RawStruct[];
}

/** Removes `//` comments that are outside string literals. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[++i] ?? '';
      } else if (c === '"') {
        inString = false;
      }
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

/** Parses `"3+"`, `"0-12"`, `"5"` or `"none"` (null). */
export function parseVersions(spec: string | undefined, what: string): VersionRange | null {
  if (spec === undefined) throw new Error(`${what}: missing version spec`);
  const s = spec.trim();
  if (s === 'none') return null;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return { min: Number(m[1]), max: OPEN };
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) return { min: Number(m[1]), max: Number(m[2]) };
  m = /^(\d+)$/.exec(s);
  if (m) return { min: Number(m[1]), max: Number(m[1]) };
  throw new Error(`${what}: bad version spec ${JSON.stringify(spec)}`);
}

export function intersect(a: VersionRange | null, b: VersionRange | null): VersionRange | null {
  if (a === null || b === null) return null;
  const min = Math.max(a.min, b.min);
  const max = Math.min(a.max, b.max);
  return min <= max ? { min, max } : null;
}

export function contains(outer: VersionRange | null, inner: VersionRange): boolean {
  return outer !== null && outer.min <= inner.min && outer.max >= inner.max;
}

export function inRange(r: VersionRange | null, v: number): boolean {
  return r !== null && v >= r.min && v <= r.max;
}

/** `TopicProduceData` → `topicProduceData`; `timeoutMs` stays. */
export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** `ProduceRequest` → `produce-request`. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** Reads one message file. */
export function loadMessage(path: string): MessageSpec {
  const raw = JSON.parse(stripComments(readFileSync(path, 'utf8'))) as RawMessage;
  return resolveMessage(raw, basename(dirname(path)), basename(path));
}

/** Reads every `*.json` in a folder, sorted by file name; skips APIs whose validVersions is none. */
export function loadMessages(dir: string): MessageSpec[] {
  const out: MessageSpec[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue;
    const raw = JSON.parse(stripComments(readFileSync(join(dir, f), 'utf8'))) as RawMessage;
    if (raw.validVersions.trim() === 'none') continue;
    out.push(resolveMessage(raw, basename(dir), f));
  }
  return out;
}

/** Reads every generated folder ({@link SOURCE_DIRS}) of the protocol directory. */
export function loadAllMessages(protocolDir: string): MessageSpec[] {
  return SOURCE_DIRS.flatMap((d) => loadMessages(join(protocolDir, d)));
}

function resolveMessage(raw: RawMessage, dir: string, file: string): MessageSpec {
  const validVersions = parseVersions(raw.validVersions, `${file} validVersions`);
  if (validVersions === null) throw new Error(`${file}: validVersions is none`);
  const flexibleVersions = intersect(
    parseVersions(raw.flexibleVersions ?? 'none', `${file} flexibleVersions`),
    validVersions,
  );

  // A tagged field may omit `versions` (it then equals `taggedVersions`), and a default may be
  // JSON null instead of the string "null": normalise both before anything reads them.
  const normalise = (fields: RawField[]): void => {
    for (const f of fields) {
      if (f.versions === undefined && f.taggedVersions !== undefined) f.versions = f.taggedVersions;
      if ((f.default as unknown) === null) f.default = 'null';
      if (f.fields) normalise(f.fields);
    }
  };
  normalise(raw.fields);
  for (const cs of raw.commonStructs ?? []) normalise(cs.fields);

  // Pass 1: register every struct definition (inline ones and commonStructs) by JSON name.
  const defs = new Map<string, RawStruct>();
  const define = (s: RawStruct): void => {
    if (defs.has(s.name)) throw new Error(`${file}: struct ${s.name} is defined more than once`);
    defs.set(s.name, s);
  };
  const walk = (fields: RawField[]): void => {
    for (const f of fields) {
      const t = elementTypeName(f.type);
      if (f.fields !== undefined) {
        if (PRIMITIVES.has(t)) throw new Error(`${file}: ${f.name} has fields but type ${f.type}`);
        define({ name: t, fields: f.fields });
        walk(f.fields);
      }
    }
  };
  walk(raw.fields);
  for (const cs of raw.commonStructs ?? []) {
    define(cs);
    walk(cs.fields);
  }

  // Pass 2: the version hull in which each struct is used, found by walking from the root.
  const hulls = new Map<string, VersionRange>();
  const visit = (fields: RawField[], parent: VersionRange): void => {
    for (const f of fields) {
      const v = intersect(parseVersions(f.versions, `${file} ${f.name}.versions`), parent);
      if (v === null) continue;
      const t = elementTypeName(f.type);
      if (PRIMITIVES.has(t)) continue;
      const def = defs.get(t);
      if (def === undefined) throw new Error(`${file}: unknown type ${f.type} of ${f.name}`);
      const prev = hulls.get(t);
      const hull = prev ? { min: Math.min(prev.min, v.min), max: Math.max(prev.max, v.max) } : v;
      if (prev && prev.min === hull.min && prev.max === hull.max) continue;
      hulls.set(t, hull);
      visit(def.fields, hull);
    }
  };
  visit(raw.fields, validVersions);

  const structs = new Map<string, StructSpec>();
  const order: StructSpec[] = [];
  const root: StructSpec = {
    jsonName: raw.name,
    tsName: raw.name,
    fields: [],
    versions: validVersions,
    isRoot: true,
  };
  order.push(root);
  const structFor = (name: string): StructSpec => {
    let s = structs.get(name);
    if (s) return s;
    const def = defs.get(name);
    const hull = hulls.get(name);
    if (!def || !hull) throw new Error(`${file}: struct ${name} is not reachable`);
    s = { jsonName: name, tsName: raw.name + name, fields: [], versions: hull, isRoot: false };
    structs.set(name, s);
    order.push(s);
    s.fields = resolveFields(def.fields, s);
    return s;
  };
  const typeOf = (t: string): FieldType => {
    if (t.startsWith('[]')) return { kind: 'array', element: typeOf(t.slice(2)) };
    if (PRIMITIVES.has(t)) return { kind: 'primitive', name: t as PrimitiveName };
    return { kind: 'struct', struct: structFor(t) };
  };
  const resolveFields = (fields: RawField[], owner: StructSpec): FieldSpec[] => {
    const out: FieldSpec[] = [];
    for (const f of fields) {
      const where = `${file} ${owner.jsonName}.${f.name}`;
      const versions = intersect(parseVersions(f.versions, `${where}.versions`), owner.versions);
      if (versions === null) continue;
      const tagged =
        f.tag === undefined
          ? null
          : intersect(parseVersions(f.taggedVersions, `${where}.taggedVersions`), versions);
      if (f.tag !== undefined) {
        const declared = parseVersions(f.versions, where);
        const tv = parseVersions(f.taggedVersions, where);
        if (!declared || !tv || declared.min !== tv.min || declared.max !== tv.max) {
          // Kafka allows a field to be untagged in older versions and tagged later; no message
          // does that today, so the generator refuses rather than guess at the encoding.
          throw new Error(`${where}: taggedVersions must equal versions`);
        }
        if (tagged && !contains(flexibleVersions, tagged)) {
          throw new Error(`${where}: tagged outside flexible versions`);
        }
      }
      const nullable = intersect(
        parseVersions(f.nullableVersions ?? 'none', `${where}.nullableVersions`),
        versions,
      );
      const fieldFlex =
        f.flexibleVersions === undefined
          ? undefined
          : parseVersions(f.flexibleVersions, `${where}.flexibleVersions`);
      const type = typeOf(f.type);
      const name = camelCase(f.name);
      if (name === '_unknownTaggedFields' || out.some((o) => o.name === name)) {
        throw new Error(`${where}: duplicate property ${name}`);
      }
      out.push({
        jsonName: f.name,
        name,
        type,
        versions,
        nullableVersions: nullable,
        tag: f.tag,
        taggedVersions: tagged,
        flexibleVersions: fieldFlex,
        ignorable: f.ignorable === true,
        defaultValue: f.default,
        about: (f.about ?? '').trim(),
        required:
          f.tag === undefined &&
          f.default === undefined &&
          versions.min === owner.versions.min &&
          versions.max === owner.versions.max,
      });
    }
    return out;
  };
  root.fields = resolveFields(raw.fields, root);

  return {
    dir,
    file,
    name: raw.name,
    kind: raw.type,
    apiKey: raw.apiKey,
    listeners: raw.listeners ?? [],
    validVersions,
    flexibleVersions,
    latestVersionUnstable: raw.latestVersionUnstable === true,
    root,
    structs: order,
  };
}

function elementTypeName(t: string): string {
  return t.startsWith('[]') ? t.slice(2) : t;
}

/** True when the struct can be encoded in a flexible version (and so has a tagged-field section). */
export function structHasFlexible(msg: MessageSpec, s: StructSpec): boolean {
  return intersect(msg.flexibleVersions, s.versions) !== null;
}

/** True when the field is sent tagged in some version; such fields never appear untagged. */
export function isTagged(f: FieldSpec): boolean {
  return f.tag !== undefined;
}
