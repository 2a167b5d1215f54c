import { SerdeError } from '../errors.js';

/**
 * A serde turns a typed value into bytes and back. Stores, changelogs and (later) input and output
 * streams are typed end to end through serdes: a `KeyValueStore<string, number>` is a bytes store
 * wrapped with a key serde and a value serde.
 *
 * Contract: `deserialize(serialize(v))` equals `v`; `deserialize` raises `SerdeError` (never
 * another error, never a crash) on bytes it cannot read. For keys, the byte order of serialized
 * keys is the order of range scans, so a key serde should say whether it preserves order.
 */
export interface Serde<T> {
  serialize(value: T): Buffer;
  deserialize(bytes: Buffer): T;
  /**
   * Optional fast path: the same as `deserialize(buffer.subarray(offset, offset + length))`,
   * reading in place without making the view (the runtime uses it for input records).
   */
  deserializeFrom?(buffer: Buffer, offset: number, length: number): T;
}

/**
 * Reads `length` bytes at `offset` of `buffer` with `serde`: its in-place fast path when it has
 * one, else `deserialize` over a view.
 */
export function deserializeAt<T>(
  serde: Serde<T>,
  buffer: Buffer,
  offset: number,
  length: number,
): T {
  return serde.deserializeFrom !== undefined
    ? serde.deserializeFrom(buffer, offset, length)
    : serde.deserialize(buffer.subarray(offset, offset + length));
}

/** The value type a serde carries. */
export type SerdeType<S> = S extends Serde<infer T> ? T : never;

/**
 * A user-defined serde from two functions. Errors the functions throw are wrapped in `SerdeError`
 * with the original as `cause`, so the runtime can report which serde failed.
 */
export function serdeFrom<T>(
  name: string,
  serialize: (value: T) => Buffer,
  deserialize: (bytes: Buffer) => T,
): Serde<T> {
  return {
    serialize(value: T): Buffer {
      try {
        return serialize(value);
      } catch (cause) {
        throw wrap(name, 'serialize', cause);
      }
    },
    deserialize(bytes: Buffer): T {
      try {
        return deserialize(bytes);
      } catch (cause) {
        throw wrap(name, 'deserialize', cause);
      }
    },
  };
}

function wrap(name: string, what: string, cause: unknown): SerdeError {
  if (cause instanceof SerdeError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SerdeError(`${name} serde could not ${what}: ${reason}`, { cause });
}
