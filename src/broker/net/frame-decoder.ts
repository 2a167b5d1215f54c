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
 * Called for each complete frame; returning `false` asks the decoder to stop after this frame
 * and hold the rest of the chunk until {@link FrameDecoder.resume} (back-pressure mid-chunk).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: callbacks that return nothing mean "go on"
export type OnFrame = (frame: Buffer) => boolean | undefined | void;

/** Pieces of a gathered frame smaller than this are copied into a shared tail buffer. */
const SMALL_PIECE = 4096;
/** Size of the tail buffer small pieces are copied into (never more than the frame needs). */
const TAIL_SIZE = 16384;

/**
 * Splits a byte stream into Kafka frames (int32 size, then that many bytes).
 *
 * A frame that lies inside one chunk is handed out as a view of that chunk (no copy). A frame
 * spread over several chunks is gathered by reference and copied once, when its last byte has
 * arrived, into a buffer of exactly its size; nothing is allocated for a frame before its bytes
 * arrive, so a peer cannot reserve memory with a size prefix alone. A size above `maxFrameSize`
 * is refused as soon as the prefix is read.
 *
 * Small pieces (a peer trickling a frame a few bytes per TCP segment) are copied into a tail
 * buffer instead of being kept one object each: a socket chunk costs a few hundred bytes of
 * bookkeeping whatever its length, so keeping one-byte chunks by reference would let a peer make
 * the broker hold hundreds of times the bytes it sent.
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
  /** Where small pieces are copied; `#tailUsed` bytes of it are filled. */
  #tail: Buffer | null = null;
  #tailUsed = 0;
  /** The rest of a chunk held back because the consumer asked to stop. */
  #held: Buffer | null = null;

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes buffered for an incomplete frame (for back-pressure accounting and tests). */
  get buffered(): number {
    return this.#have + this.#prefixHave + (this.#held?.length ?? 0);
  }

  /** Buffers kept for the frame being gathered (bookkeeping a peer's small writes could inflate). */
  get pieces(): number {
    return this.#parts.length + (this.#tail === null ? 0 : 1);
  }

  /** Whether bytes of a stopped chunk wait for {@link resume}. */
  get holding(): boolean {
    return this.#held !== null;
  }

  /** Continues with the bytes held back when `onFrame` last returned false. */
  resume(onFrame: OnFrame): void {
    const held = this.#held;
    if (held === null) return;
    this.#held = null;
    this.push(held, onFrame);
  }

  /**
   * Feeds one chunk; calls `onFrame` for every frame it completes, in order, until one returns
   * false (the rest is then held for {@link resume}). Throws {@link FrameTooLargeError} or
   * {@link InvalidFrameSizeError}; the stream is then unusable.
   */
  push(chunk: Buffer, onFrame: OnFrame): void {
    if (this.#held !== null) {
      // Bytes arriving while others are held go behind them (the caller should have paused).
      const held = this.#held;
      this.#held = null;
      chunk = Buffer.concat([held, chunk]);
    }
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
          if (onFrame(frame) === false && pos < len) {
            this.#held = chunk.subarray(pos);
            return;
          }
          continue;
        }
        this.#need = size;
      }
      const take = Math.min(this.#need - this.#have, len - pos);
      this.#gather(chunk, pos, take);
      pos += take;
      if (this.#have < this.#need) return;
      this.#endTail();
      const frame =
        this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#need);
      this.#parts = [];
      this.#have = 0;
      this.#need = -1;
      if (onFrame(frame) === false && pos < len) {
        this.#held = chunk.subarray(pos);
        return;
      }
    }
  }

  /** Keeps `take` bytes of `chunk` from `pos` for the frame being gathered. */
  #gather(chunk: Buffer, pos: number, take: number): void {
    if (take >= SMALL_PIECE) {
      this.#endTail();
      this.#parts.push(chunk.subarray(pos, pos + take));
      this.#have += take;
      return;
    }
    let from = pos;
    let left = take;
    while (left > 0) {
      if (this.#tail === null) {
        // Grows with the bytes received (never more than the frame still needs), so that what
        // is allocated stays within about twice what the peer has sent.
        const size = Math.min(TAIL_SIZE, this.#need - this.#have, Math.max(256, this.#have));
        this.#tail = Buffer.allocUnsafe(size);
        this.#tailUsed = 0;
      }
      const n = Math.min(left, this.#tail.length - this.#tailUsed);
      chunk.copy(this.#tail, this.#tailUsed, from, from + n);
      this.#tailUsed += n;
      this.#have += n;
      from += n;
      left -= n;
      if (this.#tailUsed === this.#tail.length) this.#endTail();
    }
  }

  /** Moves the filled part of the tail buffer into the frame's parts. */
  #endTail(): void {
    if (this.#tail === null) return;
    if (this.#tailUsed > 0) this.#parts.push(this.#tail.subarray(0, this.#tailUsed));
    this.#tail = null;
    this.#tailUsed = 0;
  }
}
