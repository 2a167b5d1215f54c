import { Writer } from '../../protocol/primitives/index.js';

/** Byte fields at least this long are spliced in by reference once splicing is on. */
export const SPLICE_THRESHOLD = 1024;

/**
 * A Writer that, while {@link SplicingWriter.splice} is on, hands byte fields of at least
 * {@link SPLICE_THRESHOLD} bytes to the response builder by reference instead of copying them:
 * Fetch turns it on so that record data read from segment files goes to the socket as is.
 * Only safe for byte fields outside tagged fields (whose size is back-patched in place).
 */
export class SplicingWriter extends Writer {
  splice = false;
  readonly #onRef: (buf: Buffer) => void;

  constructor(initialSize: number, onRef: (buf: Buffer) => void) {
    super(initialSize);
    this.#onRef = onRef;
  }

  override raw(v: Uint8Array): this {
    if (this.splice && v.length >= SPLICE_THRESHOLD && Buffer.isBuffer(v)) {
      this.#onRef(v);
      return this;
    }
    return super.raw(v);
  }
}

/**
 * Builds one response frame as a list of buffers: the size prefix and response header, then the
 * body written through {@link ResponseBuilder.w}, with large byte ranges (record data read from
 * segment files) spliced in by reference with {@link ResponseBuilder.appendRef} instead of being
 * copied into the encoder. The connection writes the list with one corked write.
 */
export class ResponseBuilder {
  /** The encoder for the body; write the response fields here. */
  readonly w: SplicingWriter;
  readonly #parts: Buffer[] = [];
  #cut = 0;
  #size = 0;

  /**
   * @param flexibleHeader response header v1 (a tagged-field section after the correlation id),
   *   used for flexible versions of every API except ApiVersions.
   */
  constructor(correlationId: number, flexibleHeader: boolean, initialSize = 256) {
    this.w = new SplicingWriter(initialSize, (buf) => this.appendRef(buf));
    this.w.int32(0); // the size, filled in by finish()
    this.w.int32(correlationId);
    if (flexibleHeader) this.w.uvarint(0);
  }

  #cutWriter(): void {
    const end = this.w.offset;
    if (end > this.#cut) {
      // A view: the writer only ever appends, so these bytes stay as they are even if it grows
      // (growing copies into a new buffer and leaves this one untouched).
      this.#parts.push(this.w.buf.subarray(this.#cut, end));
      this.#size += end - this.#cut;
      this.#cut = end;
    }
  }

  /** Appends `buf` to the frame by reference (no copy); the caller must not change it afterwards. */
  appendRef(buf: Buffer): void {
    if (buf.length === 0) return;
    this.#cutWriter();
    this.#parts.push(buf);
    this.#size += buf.length;
  }

  /** Completes the frame: returns its buffers, the first starting with the int32 size prefix. */
  finish(): Buffer[] {
    this.#cutWriter();
    this.#parts[0].writeInt32BE(this.#size - 4, 0);
    return this.#parts;
  }
}
