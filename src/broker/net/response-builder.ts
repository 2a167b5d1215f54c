import { Writer } from '../../protocol/primitives/index.js';

/**
 * Builds one response frame as a list of buffers: the size prefix and response header, then the
 * body written through {@link ResponseBuilder.w}, with large byte ranges (record data read from
 * segment files) spliced in by reference with {@link ResponseBuilder.appendRef} instead of being
 * copied into the encoder. The connection writes the list with one corked write.
 */
export class ResponseBuilder {
  /** The encoder for the body; write the response fields here. */
  readonly w: Writer;
  readonly #parts: Buffer[] = [];
  #cut = 0;
  #size = 0;

  /**
   * @param flexibleHeader response header v1 (a tagged-field section after the correlation id),
   *   used for flexible versions of every API except ApiVersions.
   */
  constructor(correlationId: number, flexibleHeader: boolean, initialSize = 256) {
    this.w = new Writer(initialSize);
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
