import { DecodeError } from '../primitives/decode-error.js';
import { encodeRecordBatch } from './encode.js';

/** The type in a control record's key. */
export enum ControlRecordType {
  Abort = 0,
  Commit = 1,
}

/** A decoded control record (an end-of-transaction marker). */
export interface ControlRecord {
  /** Key version (0). */
  version: number;
  /** ControlRecordType.Abort, .Commit, or a newer type this build does not know. */
  type: number;
  /** The transaction coordinator's epoch from the value, or -1 when the value is absent. */
  coordinatorEpoch: number;
}

/** Control record key: int16 version (0) + int16 type. */
export function controlRecordKey(type: ControlRecordType): Buffer {
  const key = Buffer.allocUnsafe(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return key;
}

/** End-transaction marker value: int16 version (0) + int32 coordinator epoch. */
export function controlRecordValue(coordinatorEpoch: number): Buffer {
  const value = Buffer.allocUnsafe(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

/**
 * Parses the key (and, for commit/abort markers, the value) of a record from a control batch.
 * @throws DecodeError when the key is missing or shorter than 4 bytes.
 */
export function parseControlRecord(key: Buffer | null, value: Buffer | null): ControlRecord {
  if (key === null || key.length < 4) {
    throw new DecodeError(`control record key must have 4 bytes, has ${key?.length ?? 'null'}`);
  }
  const version = key.readInt16BE(0);
  const type = key.readInt16BE(2);
  let coordinatorEpoch = -1;
  if (value !== null && value.length >= 6) coordinatorEpoch = value.readInt32BE(2);
  return { version, type, coordinatorEpoch };
}

export interface ControlBatchOptions {
  type: ControlRecordType;
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  /** Marker timestamp; default now. */
  timestamp?: number;
}

/**
 * Encodes a transaction marker: a transactional control batch holding one commit or abort
 * record, as the transaction coordinator asks partition leaders to append.
 */
export function encodeControlBatch(options: ControlBatchOptions): Buffer {
  return encodeRecordBatch({
    records: [
      {
        key: controlRecordKey(options.type),
        value: controlRecordValue(options.coordinatorEpoch),
        timestamp: options.timestamp,
      },
    ],
    baseOffset: options.baseOffset,
    partitionLeaderEpoch: options.partitionLeaderEpoch,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
    timestamp: options.timestamp,
  });
}
