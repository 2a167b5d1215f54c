import { SerdeError } from '../errors.js';
import type { Serde } from './serde.js';

/*
 * Fixed-width big-endian numbers, as Kafka's IntegerSerializer and LongSerializer write them, so
 * records produced by a Java client read back here. Signed big-endian does not sort negative
 * numbers before positive ones byte-wise; the `ordered*` serdes flip the sign bit so that byte
 * order equals numeric order, for range scans over numeric keys.
 */

function expectLength(name: string, bytes: Buffer, length: number): void {
  if (bytes.length !== length) {
    throw new SerdeError(`${name} serde: expected ${length} bytes, got ${bytes.length}`);
  }
}

function checkInt32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new SerdeError(`${name} serde: ${value} is not a 32-bit signed integer`);
  }
}

function checkSafeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new SerdeError(`${name} serde: ${value} is not a safe integer`);
  }
}

/** 32-bit signed integer, 4 bytes big-endian (Kafka's IntegerSerializer). */
export const int32Serde: Serde<number> = {
  serialize(value: number): Buffer {
    checkInt32('int32', value);
    const out = Buffer.allocUnsafe(4);
    out.writeInt32BE(value, 0);
    return out;
  },
  deserialize(bytes: Buffer): number {
    expectLength('int32', bytes, 4);
    return bytes.readInt32BE(0);
  },
};

/** 64-bit signed integer as `bigint`, 8 bytes big-endian (Kafka's LongSerializer). */
export const int64Serde: Serde<bigint> = {
  serialize(value: bigint): Buffer {
    if (value < -(1n << 63n) || value >= 1n << 63n) {
      throw new SerdeError(`int64 serde: ${value} does not fit in 64 bits`);
    }
    const out = Buffer.allocUnsafe(8);
    out.writeBigInt64BE(value, 0);
    return out;
  },
  deserialize(bytes: Buffer): bigint {
    expectLength('int64', bytes, 8);
    return bytes.readBigInt64BE(0);
  },
};

/**
 * A counter-sized integer as a JS `number`, written as Kafka's 8-byte long so Java readers agree,
 * without the cost of a BigInt on the hot path (word counts, sums). Values outside
 * ±(2^53 − 1) are refused on both sides rather than rounded.
 */
export const longSerde: Serde<number> = {
  serialize(value: number): Buffer {
    checkSafeInteger('long', value);
    const out = Buffer.allocUnsafe(8);
    // Split into two 32-bit halves: exact for every safe integer, no BigInt allocated.
    const high = Math.floor(value / 0x100000000);
    out.writeInt32BE(high, 0);
    out.writeUInt32BE(value - high * 0x100000000, 4);
    return out;
  },
  deserialize(bytes: Buffer): number {
    return longSerde.deserializeFrom!(bytes, 0, bytes.length);
  },
  deserializeFrom(buffer: Buffer, offset: number, length: number): number {
    if (length !== 8) throw new SerdeError(`long serde: expected 8 bytes, got ${length}`);
    const value = buffer.readInt32BE(offset) * 0x100000000 + buffer.readUInt32BE(offset + 4);
    checkSafeInteger('long', value);
    return value;
  },
};

/** IEEE 754 double, 8 bytes big-endian (Kafka's DoubleSerializer). */
export const doubleSerde: Serde<number> = {
  serialize(value: number): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeDoubleBE(value, 0);
    return out;
  },
  deserialize(bytes: Buffer): number {
    expectLength('double', bytes, 8);
    return bytes.readDoubleBE(0);
  },
};

/** 32-bit signed integer whose byte order is numeric order (sign bit flipped): for range keys. */
export const orderedInt32Serde: Serde<number> = {
  serialize(value: number): Buffer {
    checkInt32('orderedInt32', value);
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE((value ^ 0x80000000) >>> 0, 0);
    return out;
  },
  deserialize(bytes: Buffer): number {
    expectLength('orderedInt32', bytes, 4);
    return (bytes.readUInt32BE(0) ^ 0x80000000) | 0;
  },
};

/** Safe integer whose byte order is numeric order (sign bit flipped): for range keys. */
export const orderedLongSerde: Serde<number> = {
  serialize(value: number): Buffer {
    const out = longSerde.serialize(value);
    out[0] = out[0]! ^ 0x80;
    return out;
  },
  deserialize(bytes: Buffer): number {
    expectLength('orderedLong', bytes, 8);
    const copy = Buffer.from(bytes);
    copy[0] = copy[0]! ^ 0x80;
    return longSerde.deserialize(copy);
  },
};
