/**
 * Support code shared by every generated message codec (`src/protocol/generated/` imports it as
 * `../codec-runtime.js`). Hand-written and kept here, once: the generated folder depends only on
 * this file and `src/protocol/primitives/`.
 */
import {
  DecodeError,
  type Reader,
  type TaggedFields,
  uvarintSize,
  type Writer,
} from './primitives/index.js';

/**
 * Raised when a message cannot be encoded at the requested version: the version is outside the
 * message's range, a field that the version lacks holds a non-default value and is not ignorable,
 * or null is given where the version does not allow it.
 */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
}

/**
 * The type of a decoded message: every field present (defaults filled in for fields the version
 * lacks), recursively; only `_unknownTaggedFields` stays optional.
 */
export type Complete<T> = T extends Buffer
  ? T
  : T extends readonly (infer U)[]
    ? Complete<U>[]
    : T extends object
      ? {
          [K in keyof T as K extends '_unknownTaggedFields' ? never : K]-?: Complete<
            Exclude<T[K], undefined>
          >;
        } & { _unknownTaggedFields?: TaggedFields }
      : T;

/** An inclusive range of versions. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** The all-zero UUID, Kafka's "no UUID" sentinel and the default of uuid fields. */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Shared zero-length buffer used as the default of bytes fields (never written to). */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** Shared empty array used when an array field is left undefined on encode. */
export const EMPTY_ARRAY: readonly never[] = Object.freeze([]);

/** Stands in for an undefined struct on encode: every field then takes its default. */
export const EMPTY_STRUCT: object = Object.freeze({});

/** The error a top-level encoder throws for a version outside the message's range. */
export function unsupportedEncodeVersion(
  name: string,
  version: number,
  min: number,
  max: number,
): EncodeError {
  return new EncodeError(`${name} has no version ${version} (valid: ${min}-${max})`);
}

/** The error a top-level decoder throws for a version outside the message's range. */
export function unsupportedDecodeVersion(
  name: string,
  version: number,
  min: number,
  max: number,
): DecodeError {
  return new DecodeError(`${name} has no version ${version} (valid: ${min}-${max})`);
}

/** The error for a non-default value in a non-ignorable field the version does not carry. */
export function fieldNotInVersion(struct: string, field: string, version: number): EncodeError {
  return new EncodeError(
    `${struct}.${field} is not in version ${version} and is not ignorable, but holds a non-default value`,
  );
}

/** The error for null in a field that is not nullable in this version. */
export function nullNotAllowed(struct: string, field: string, version: number): EncodeError {
  return new EncodeError(`${struct}.${field} is not nullable in version ${version}`);
}

/** The error for a null length on the wire where the field is not nullable. */
export function nullOnWire(struct: string, field: string, r: Reader): DecodeError {
  return new DecodeError(`${struct}.${field} is not nullable but was encoded as null`, r.offset);
}

/**
 * Reads the count of a tagged-field section and rejects counts that cannot fit (each tagged field
 * takes at least two bytes: its tag and its size).
 */
export function readTagCount(r: Reader): number {
  const n = r.uvarint();
  if (n * 2 > r.remaining) {
    throw new DecodeError(`${n} tagged fields cannot fit in ${r.remaining} bytes`, r.offset);
  }
  return n;
}

/** Reads the size of one tagged field and checks it fits; returns the offset where it ends. */
export function readTagEnd(r: Reader, tag: number): number {
  const size = r.uvarint();
  r.need(size, `tagged field ${tag}`);
  return r.offset + size;
}

/** Throws when a known tagged field did not use exactly the bytes its size announced. */
export function checkTagEnd(r: Reader, tag: number, end: number): void {
  if (r.offset !== end) {
    throw new DecodeError(`tagged field ${tag} did not end at its declared size`, r.offset);
  }
}

/** Keeps an unknown tagged field (a view of its bytes) so that it can be re-emitted. */
export function keepUnknownTag(
  r: Reader,
  tag: number,
  end: number,
  unknown: TaggedFields | undefined,
): TaggedFields {
  const data = r.raw(end - r.offset);
  if (unknown === undefined) return [{ tag, data }];
  unknown.push({ tag, data });
  return unknown;
}

/**
 * Starts a tagged field: writes its tag and reserves one byte for its size, which
 * {@link endTag} fills in (moving the value if the size needs more than one byte). This avoids
 * encoding the value into a scratch buffer first.
 */
export function beginTag(w: Writer, tag: number): number {
  w.uvarint(tag);
  return w.reserve(1);
}

/** Finishes a tagged field started by {@link beginTag}. */
export function endTag(w: Writer, sizeAt: number): void {
  const start = sizeAt + 1;
  const size = w.offset - start;
  if (size < 0x80) {
    w.buf[sizeAt] = size;
    return;
  }
  const extra = uvarintSize(size) - 1;
  w.ensure(extra);
  w.buf.copyWithin(start + extra, start, w.offset);
  const end = w.offset + extra;
  w.offset = sizeAt;
  w.uvarint(size);
  w.offset = end;
}

/**
 * Writes the unknown tagged fields from index `from` whose tag is below `before`, and returns the
 * index of the first one not written. Unknown tags are kept in wire order (ascending), so calling
 * this before each known tag, and once at the end, interleaves them correctly.
 */
export function writeUnknownTags(
  w: Writer,
  unknown: TaggedFields,
  from: number,
  before: number,
): number {
  let i = from;
  for (; i < unknown.length && unknown[i].tag < before; i++) {
    const f = unknown[i];
    w.uvarint(f.tag);
    w.uvarint(f.data.length);
    w.raw(f.data);
  }
  return i;
}
