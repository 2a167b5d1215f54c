import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameDecoder } from './frame-decoder.js';

/** Raised by a frame handler to close the connection it came from (a protocol violation). */
export class CloseConnection extends Error {
  override readonly name = 'CloseConnection';
}

/** A response frame as buffers to write in order, or null when the request gets no response. */
export type ResponseFrame = Buffer[] | null;

/** What a connection hands its frames to (the request dispatcher). */
export interface FrameHandler {
  /**
   * Handles one request frame. The result may arrive out of order with other requests of the same
   * connection; the connection writes responses in request order regardless. Throwing (or
   * rejecting with) any error closes the connection.
   */
  onFrame(frame: Buffer, connection: Connection): ResponseFrame | Promise<ResponseFrame>;
}

/** Counters the connection reports to (metrics). */
export interface ConnectionObserver {
  bytesIn(n: number): void;
  bytesOut(n: number): void;
}

/** Limits of one connection. */
export interface ConnectionLimits {
  /** socket.request.max.bytes */
  maxRequestSize: number;
  /** Requests in flight or awaiting their turn to be written before the socket stops being read. */
  maxPendingRequests: number;
  /** connections.max.idle.ms */
  idleMs: number;
  /**
   * Response bytes the requests in flight may produce (as reserved by the dispatcher, e.g. a
   * Fetch's max bytes) before the connection stops taking requests: the memory one connection
   * can make the broker hold. One request is always admitted, whatever its size.
   * Default {@link DEFAULT_MAX_PENDING_RESPONSE_BYTES}.
   */
  maxPendingResponseBytes?: number;
}

/**
 * 8 MiB: a consumer's fetch is always admitted whatever its size (one at a time per connection,
 * as Kafka serves every request); smaller fetches pipeline up to this much; a client pipelining
 * many fetches without reading the responses is held to about this much instead of one response
 * per request it managed to send.
 */
export const DEFAULT_MAX_PENDING_RESPONSE_BYTES = 8 * 1024 * 1024;

/** Responses completed while one chunk is dispatched are written together up to this many bytes. */
const WRITE_TOGETHER_BYTES = 256 * 1024;

interface Slot {
  done: boolean;
  frame: ResponseFrame;
  /** Response bytes reserved for this request while it is in flight. */
  reserved: number;
}

/**
 * One client connection: frames in, responses out in request order (Kafka clients match
 * responses to requests by order as well as correlation id), with back-pressure both ways.
 */
export class Connection {
  readonly id: number;
  readonly socket: Socket;
  /** `ip:port` of the client, for logs. */
  readonly remote: string;
  readonly log: Logger;
  readonly #handler: FrameHandler;
  readonly #observer: ConnectionObserver | undefined;
  readonly #limits: ConnectionLimits;
  readonly #decoder: FrameDecoder;
  /** Responses in request order; `#head` is the next one to write. */
  #slots: Slot[] = [];
  #head = 0;
  #writeBlocked = false;
  #readPaused = false;
  #draining = false;
  #closed = false;
  /** True while a chunk's frames are being dispatched: responses ready meanwhile are written together after. */
  #dispatching = false;
  /** The slot of the frame being handed to the handler (for {@link reserveResponseBytes}). */
  #current: Slot | null = null;
  /** Sum of the in-flight slots' reservations. */
  #reservedBytes = 0;
  readonly #maxReservedBytes: number;
  #resumeScheduled = false;
  /** Bytes of responses completed during the current dispatch and not written yet. */
  #unflushedBytes = 0;
  readonly #closedWaiters: (() => void)[] = [];
  readonly #idleWaiters: (() => void)[] = [];

  constructor(
    id: number,
    socket: Socket,
    handler: FrameHandler,
    limits: ConnectionLimits,
    log: Logger,
    observer?: ConnectionObserver,
  ) {
    this.id = id;
    this.socket = socket;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.log = log.child({ connection: id, remote: this.remote });
    this.#handler = handler;
    this.#limits = limits;
    this.#observer = observer;
    this.#decoder = new FrameDecoder(limits.maxRequestSize);
    this.#maxReservedBytes = limits.maxPendingResponseBytes ?? DEFAULT_MAX_PENDING_RESPONSE_BYTES;
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleMs);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => {
      this.#writeBlocked = false;
      this.#updateReading();
    });
    socket.on('timeout', () => {
      // A long poll in flight is not idleness.
      if (this.pending > 0) return;
      this.log.info({ idleMs: limits.idleMs }, 'closing idle connection (connections.max.idle.ms)');
      this.socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.log.debug({ err: err.message, code: err.code }, 'connection error');
    });
    socket.on('close', () => this.#onClose());
  }

  /** Requests received whose responses have not been written yet. */
  get pending(): number {
    return this.#slots.length - this.#head;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Response bytes reserved by requests in flight. */
  get reservedResponseBytes(): number {
    return this.#reservedBytes;
  }

  /**
   * Called by the frame handler while it handles a frame (synchronously, inside `onFrame`): the
   * response to this request may be up to `bytes` long. The reservation lasts until the response
   * is ready; while the reservations reach `maxPendingResponseBytes` no further request is
   * taken, so that the memory a connection's requests can tie up is bounded.
   */
  reserveResponseBytes(bytes: number): void {
    const slot = this.#current;
    if (slot === null || slot.done || !(bytes > 0)) return;
    slot.reserved += bytes;
    this.#reservedBytes += bytes;
  }

  #onData(chunk: Buffer): void {
    if (this.#closed || this.#draining || this.socket.destroyed) return;
    this.#observer?.bytesIn(chunk.length);
    this.#dispatch(() => this.#decoder.push(chunk, (frame) => this.#onFrame(frame)));
  }

  /** Runs `feed` (which hands frames to {@link #onFrame}), then writes what completed. */
  #dispatch(feed: () => void): void {
    this.#dispatching = true;
    try {
      feed();
    } catch (err) {
      this.#protocolError(err as Error);
    } finally {
      this.#dispatching = false;
    }
    // One write for every response that completed while the chunk was dispatched.
    if (!this.#closed) this.#flush();
    this.#updateReading();
  }

  /** Handles one frame; returns false when no further frame should be taken for now. */
  #onFrame(frame: Buffer): boolean {
    // After a protocol error the socket is being destroyed: later frames of the same chunk are
    // not served.
    if (this.#closed || this.socket.destroyed) return false;
    const slot: Slot = { done: false, frame: null, reserved: 0 };
    this.#slots.push(slot);
    let result: ResponseFrame | Promise<ResponseFrame>;
    this.#current = slot;
    try {
      result = this.#handler.onFrame(frame, this);
    } catch (err) {
      this.#protocolError(err as Error);
      return false;
    } finally {
      this.#current = null;
    }
    if (result instanceof Promise) {
      result.then(
        (f) => this.#complete(slot, f),
        (err: Error) => this.#protocolError(err),
      );
    } else {
      this.#complete(slot, result);
    }
    this.#updateReading();
    // Paused (too many requests or bytes in flight, or the peer not reading): the rest of the
    // chunk waits in the decoder instead of being dispatched regardless.
    return !this.#readPaused;
  }

  #complete(slot: Slot, frame: ResponseFrame): void {
    slot.done = true;
    slot.frame = frame;
    this.#reservedBytes -= slot.reserved;
    slot.reserved = 0;
    if (this.#closed) return;
    if (this.#dispatching) {
      // Small responses of one chunk are written together after it; large ones at once, so
      // that a full send buffer pauses the connection before the rest of the chunk is taken.
      if (frame !== null) for (const part of frame) this.#unflushedBytes += part.length;
      if (this.#unflushedBytes < WRITE_TOGETHER_BYTES) return;
    }
    this.#flush();
  }

  /** Writes every completed response at the head of the queue, in one corked batch. */
  #flush(): void {
    this.#unflushedBytes = 0;
    const slots = this.#slots;
    if (this.#head >= slots.length || !slots[this.#head].done) return;
    const socket = this.socket;
    socket.cork();
    let ok = true;
    let bytes = 0;
    while (this.#head < slots.length && slots[this.#head].done) {
      const frame = slots[this.#head].frame;
      slots[this.#head] = undefined as unknown as Slot; // release the buffers early
      this.#head++;
      if (frame === null) continue;
      for (const part of frame) {
        bytes += part.length;
        ok = socket.write(part) && ok;
      }
    }
    socket.uncork();
    if (this.#head === slots.length) {
      this.#slots = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#slots = slots.slice(this.#head);
      this.#head = 0;
    }
    this.#observer?.bytesOut(bytes);
    if (!ok) this.#writeBlocked = true;
    this.#updateReading();
    if (this.pending === 0) {
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /**
   * Stops reading while too many responses are outstanding, the requests in flight have
   * reserved too many response bytes, or the socket's send buffer is full.
   */
  #updateReading(): void {
    if (this.#closed) return;
    const tooMany = this.pending >= this.#limits.maxPendingRequests;
    const tooBig = this.#reservedBytes >= this.#maxReservedBytes;
    const shouldPause = this.#draining || this.#writeBlocked || tooMany || tooBig;
    if (shouldPause && !this.#readPaused) {
      this.#readPaused = true;
      this.socket.pause();
    } else if (!shouldPause && this.#readPaused) {
      // Resume below half the bound, so that a busy pipeline does not flap.
      if (this.pending > this.#limits.maxPendingRequests / 2) return;
      if (this.#decoder.holding) {
        // Frames held back from the last chunk go first, before the socket gives more bytes;
        // not from inside a completion (which may run while a chunk is being dispatched).
        if (!this.#resumeScheduled) {
          this.#resumeScheduled = true;
          setImmediate(() => this.#resumeHeld());
        }
        return;
      }
      this.#readPaused = false;
      this.socket.resume();
    }
  }

  #resumeHeld(): void {
    this.#resumeScheduled = false;
    if (this.#closed || this.#draining || this.socket.destroyed) return;
    // Taken as if reading had resumed; #onFrame pauses again if the bounds are reached.
    this.#readPaused = false;
    this.#dispatch(() => this.#decoder.resume((frame) => this.#onFrame(frame)));
    if (!this.#readPaused && !this.#decoder.holding) this.socket.resume();
    else if (!this.#readPaused) this.#updateReading();
  }

  #protocolError(err: Error): void {
    if (this.#closed) return;
    this.log.warn({ err: err.message, kind: err.name }, 'closing connection');
    this.socket.destroy();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#slots = [];
    this.#head = 0;
    this.#reservedBytes = 0;
    for (const w of this.#idleWaiters.splice(0)) w();
    for (const w of this.#closedWaiters.splice(0)) w();
  }

  /** Resolves when the connection is closed. */
  whenClosed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  /**
   * Graceful close for shutdown: stop reading new requests, let the ones in flight finish and
   * their responses be written, then end the socket.
   */
  async drainAndClose(): Promise<void> {
    if (this.#closed) return;
    this.#draining = true;
    this.#updateReading();
    if (this.pending > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if (!this.#closed) this.socket.end();
    await this.whenClosed();
  }

  /** Cuts the connection now. */
  destroy(): void {
    this.socket.destroy();
  }
}
