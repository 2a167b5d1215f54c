import { SerdeError } from '../errors.js';
import type { Serde } from './serde.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 strings. Deserializing rejects invalid UTF-8 instead of inventing U+FFFD, so a corrupt
 * key is noticed rather than silently merged with another. Byte order of UTF-8 is code point
 * order, so range scans over string keys run in code point order.
 */
export const stringSerde: Serde<string> = {
  serialize(value: string): Buffer {
    return Buffer.from(value, 'utf8');
  },
  deserialize(bytes: Buffer): string {
    return stringSerde.deserializeFrom!(bytes, 0, bytes.length);
  },
  deserializeFrom(buffer: Buffer, offset: number, length: number): string {
    // ASCII (most keys) decodes the same in every encoding: latin1 without a view or a
    // TextDecoder call; anything else goes through the strict decoder.
    const end = offset + length;
    let i = offset;
    while (i < end && buffer[i] < 0x80) i++;
    if (i === end) return buffer.toString('latin1', offset, end);
    try {
      return strictUtf8.decode(buffer.subarray(offset, end));
    } catch (cause) {
      throw new SerdeError('string serde: bytes are not valid UTF-8', { cause });
    }
  },
};

/** Raw bytes, unchanged: the identity serde. The buffer is shared, not copied. */
export const bytesSerde: Serde<Buffer> = {
  serialize(value: Buffer): Buffer {
    return value;
  },
  deserialize(bytes: Buffer): Buffer {
    return bytes;
  },
};

/**
 * JSON text in UTF-8. Typed by the caller (`jsonSerde<WordCount>()`); the shape is not checked at
 * runtime, so pair it with a validating user-defined serde when input is untrusted.
 */
export function jsonSerde<T>(): Serde<T> {
  return {
    serialize(value: T): Buffer {
      const text = JSON.stringify(value);
      if (text === undefined) throw new SerdeError('json serde: value has no JSON form');
      return Buffer.from(text, 'utf8');
    },
    deserialize(bytes: Buffer): T {
      try {
        return JSON.parse(strictUtf8.decode(bytes)) as T;
      } catch (cause) {
        throw new SerdeError('json serde: bytes are not valid JSON', { cause });
      }
    },
  };
}
