/** Raised when a peer announces a frame larger than the configured bound. */
export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(`request of ${size} bytes exceeds socket.request.max.bytes (${limit})`);
    this.size = size;
    this.limit = limit;
  }
}

/** Raised when a size prefix is zero or negative: the stream is not Kafka framing. */
export class InvalidFrameSizeError extends Error {
  override readonly name = 'InvalidFrameSizeError';
}

/**
 * Splits a byte stream into Kafka frames (int32 size, then that many bytes).
 *
 * A frame that lies inside one chunk is handed out as a view of that chunk (no copy). A frame
 * spread over several chunks is gathered by reference and copied once, when its last byte has
 * arrived, into a buffer of exactly its size; nothing is allocated for a frame before its bytes
 * arrive, so a peer cannot reserve memory with a size prefix alone. A size above `maxFrameSize`
 * is refused as soon as the prefix is read.
 */
export class FrameDecoder {
  readonly maxFrameSize: number;
  /** Bytes of a size prefix split across chunks. */
  readonly #prefix = Buffer.alloc(4);
  #prefixHave = 0;
  /** Size of the frame being gathered, or -1 while reading a prefix. */
  #need = -1;
  #parts: Buffer[] = [];
  #have = 0;

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes buffered for an incomplete frame (for back-pressure accounting and tests). */
  get buffered(): number {
    return this.#have + this.#prefixHave;
  }

  /**
   * Feeds one chunk; calls `onFrame` for every frame it completes, in order.
   * Throws {@link FrameTooLargeError} or {@link InvalidFrameSizeError}; the stream is then unusable.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.#need < 0) {
        let size: number;
        if (this.#prefixHave === 0 && len - pos >= 4) {
          size = chunk.readInt32BE(pos);
          pos += 4;
        } else {
          const take = Math.min(4 - this.#prefixHave, len - pos);
          chunk.copy(this.#prefix, this.#prefixHave, pos, pos + take);
          this.#prefixHave += take;
          pos += take;
          if (this.#prefixHave < 4) return;
          size = this.#prefix.readInt32BE(0);
          this.#prefixHave = 0;
        }
        if (size <= 0) throw new InvalidFrameSizeError(`invalid request size ${size}`);
        if (size > this.maxFrameSize) throw new FrameTooLargeError(size, this.maxFrameSize);
        // Fast path: the whole frame is in this chunk.
        if (len - pos >= size) {
          const frame = chunk.subarray(pos, pos + size);
          pos += size;
          onFrame(frame);
          continue;
        }
        this.#need = size;
      }
      const take = Math.min(this.#need - this.#have, len - pos);
      this.#parts.push(chunk.subarray(pos, pos + take));
      this.#have += take;
      pos += take;
      if (this.#have < this.#need) return;
      const frame =
        this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#need);
      this.#parts = [];
      this.#have = 0;
      this.#need = -1;
      onFrame(frame);
    }
  }
}
