import { DecodeError } from '../primitives/decode-error.js';

function setName(err: Error, name: string): void {
  // DecodeError types `name` as its own literal, so subclasses set the property at run time.
  Object.defineProperty(err, 'name', { value: name, enumerable: false, configurable: true });
}

/**
 * A record batch whose stored CRC-32C does not match its bytes (Kafka: CORRUPT_MESSAGE, 2).
 * The bytes were damaged on the wire or on disk; retrying the read from elsewhere may help.
 */
export class CorruptRecordError extends DecodeError {
  /** Kafka's error code for this failure (CORRUPT_MESSAGE). */
  readonly errorCode = 2;
  readonly expectedCrc: number;
  readonly actualCrc: number;
  constructor(message: string, expectedCrc: number, actualCrc: number, offset = -1) {
    super(message, offset);
    setName(this, 'CorruptRecordError');
    this.expectedCrc = expectedCrc;
    this.actualCrc = actualCrc;
  }
}

/**
 * A well-formed batch that breaks a rule of the produce path: offset deltas that do not count
 * 0..n-1, a record count that disagrees with the records (Kafka: INVALID_RECORD, 87).
 */
export class InvalidRecordError extends DecodeError {
  readonly errorCode = 87;
  constructor(message: string, offset = -1) {
    super(message, offset);
    setName(this, 'InvalidRecordError');
  }
}
