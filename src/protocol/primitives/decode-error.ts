/**
 * Raised when bytes on the wire do not form a valid message: a buffer that ends early, a negative
 * or absurd length, an invalid varint, a bad CRC, an unknown codec. Decoders raise only this type
 * for bad input, so that callers (the broker's connection loop above all) can close one connection
 * and carry on.
 */
export class DecodeError extends Error {
  override readonly name: string = 'DecodeError';
  /** Byte offset in the buffer where decoding failed, when known. */
  readonly offset: number;
  constructor(message: string, offset = -1) {
    super(message);
    this.offset = offset;
  }
}
