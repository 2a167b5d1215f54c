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
}

interface Slot {
  done: boolean;
  frame: ResponseFrame;
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

  #onData(chunk: Buffer): void {
    if (this.#closed || this.#draining || this.socket.destroyed) return;
    this.#observer?.bytesIn(chunk.length);
    this.#dispatching = true;
    try {
      this.#decoder.push(chunk, (frame) => this.#onFrame(frame));
    } catch (err) {
      this.#protocolError(err as Error);
    } finally {
      this.#dispatching = false;
    }
    // One write for every response that completed while the chunk was dispatched.
    if (!this.#closed) this.#flush();
  }

  #onFrame(frame: Buffer): void {
    // After a protocol error the socket is being destroyed: later frames of the same chunk are
    // not served.
    if (this.#closed || this.socket.destroyed) return;
    const slot: Slot = { done: false, frame: null };
    this.#slots.push(slot);
    let result: ResponseFrame | Promise<ResponseFrame>;
    try {
      result = this.#handler.onFrame(frame, this);
    } catch (err) {
      this.#protocolError(err as Error);
      return;
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
  }

  #complete(slot: Slot, frame: ResponseFrame): void {
    slot.done = true;
    slot.frame = frame;
    if (this.#closed || this.#dispatching) return;
    this.#flush();
  }

  /** Writes every completed response at the head of the queue, in one corked batch. */
  #flush(): void {
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

  /** Stops reading while too many responses are outstanding or the socket's send buffer is full. */
  #updateReading(): void {
    if (this.#closed) return;
    const tooMany = this.pending >= this.#limits.maxPendingRequests;
    const shouldPause = this.#draining || this.#writeBlocked || tooMany;
    if (shouldPause && !this.#readPaused) {
      this.#readPaused = true;
      this.socket.pause();
    } else if (!shouldPause && this.#readPaused) {
      // Resume below half the bound, so that a busy pipeline does not flap.
      if (this.pending > this.#limits.maxPendingRequests / 2) return;
      this.#readPaused = false;
      this.socket.resume();
    }
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
