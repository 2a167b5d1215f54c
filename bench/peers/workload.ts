/**
 * What the peers' workloads share: the record payload, the result arithmetic, and a window that
 * bounds how many writes await their acknowledgement (the throughput lever of every client here).
 */
import { randomBytes } from 'node:crypto';
import type { ConnectionGuard } from './connection-guard.js';
import type { PeerResult } from './types.js';

/**
 * The payload every record carries: `size` random bytes (incompressible, like Brook's cases).
 * One buffer is reused for every record, as a load generator does; the peers copy it onto
 * the wire themselves.
 */
export function payloadOf(size: number): Buffer {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`record size ${size} must be >= 1`);
  return randomBytes(size);
}

/** Checks a workload before any server is touched. */
export function checkWorkload(records: number, recordSize: number): void {
  if (!Number.isInteger(records) || records < 1) {
    throw new RangeError(`records ${records} must be a positive integer`);
  }
  if (!Number.isInteger(recordSize) || recordSize < 1) {
    throw new RangeError(`record size ${recordSize} must be a positive integer`);
  }
}

/** A PeerResult from a count, a size and the measured wall-clock milliseconds. */
export function peerResult(
  records: number,
  recordSize: number,
  millis: number,
  durability: string,
  fsyncPerWrite: boolean,
  params: Readonly<Record<string, unknown>>,
): PeerResult {
  const seconds = millis / 1000;
  return {
    records,
    seconds,
    recordsPerSec: records / seconds,
    mbPerSec: (records * recordSize) / 1e6 / seconds,
    durability,
    fsyncPerWrite,
    params,
  };
}

/**
 * Bounds the writes awaiting acknowledgement: `acquire` resolves at once while fewer than `max`
 * are outstanding, else once `release` brings the count down to half (refilling in bursts keeps
 * the client's write batching effective instead of trickling one record per ack).
 */
export class AckWindow {
  readonly max: number;
  #outstanding = 0;
  #acknowledged = 0;
  #wake: (() => void) | null = null;
  #failure: Error | null = null;

  constructor(max: number) {
    this.max = max;
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  /** Writes acknowledged so far (a stall watch's measure of progress). */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /**
   * Waits for room for `count` more writes (throws the first failure reported by `fail`).
   * Taking room for a burst and then writing the burst synchronously matters: clients flush
   * their socket buffer when the event loop turns, so one await per record means one socket
   * write per record (measured: NATS 9k/s one at a time, 48k/s in bursts of 500).
   */
  async acquire(count = 1): Promise<void> {
    if (count > this.max)
      throw new RangeError(`a burst of ${count} exceeds the window of ${this.max}`);
    while (this.#outstanding + count > this.max && this.#failure === null) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.#failure !== null) throw this.#failure;
    this.#outstanding += count;
  }

  /** `count` writes were acknowledged. */
  release(count = 1): void {
    this.#outstanding -= count;
    this.#acknowledged += count;
    if (this.#wake !== null && (this.#outstanding <= this.max >> 1 || this.#outstanding === 0)) {
      const wake = this.#wake;
      this.#wake = null;
      wake();
    }
  }

  /** A write failed: the next `acquire` throws `err`. */
  fail(err: Error): void {
    this.#failure ??= err;
    if (this.#wake !== null) {
      const wake = this.#wake;
      this.#wake = null;
      wake();
    }
  }

  /** Resolves once every outstanding write is acknowledged (throws a reported failure). */
  async drain(): Promise<void> {
    while (this.#outstanding > 0 && this.#failure === null) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.#failure !== null) throw this.#failure;
  }
}

/** How long a workload may go without progress before it fails instead of hanging. */
export const STALL_MS = 30000;

/**
 * Calls `onStall` once if `progress()` has not changed for `idleMs` (a dead server, a stream
 * shorter than the records asked for); the returned function ends the watch.
 */
export function watchProgress(
  progress: () => number,
  idleMs: number,
  onStall: () => void,
): () => void {
  let last = progress();
  let since = Date.now();
  const timer = setInterval(
    () => {
      const now = progress();
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since >= idleMs) {
        clearInterval(timer);
        onStall();
      }
    },
    Math.min(1000, idleMs),
  );
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Resolves when `finished` does; rejects if `received()` makes no progress for `idleMs`.
 * For consumers, whose client delivers by callback and would otherwise wait forever.
 */
export async function untilReceived(
  finished: Promise<void>,
  received: () => number,
  records: number,
  idleMs = STALL_MS,
): Promise<void> {
  let stall!: (err: Error) => void;
  const stalled = new Promise<never>((_, reject) => {
    stall = reject;
  });
  const stop = watchProgress(received, idleMs, () =>
    stall(new Error(`no message for ${idleMs / 1000} s after ${received()} of ${records}`)),
  );
  try {
    await Promise.race([finished, stalled]);
  } finally {
    stop();
  }
}

/** Fails `window` if no write is acknowledged for `idleMs`; returns the function ending it. */
export function watchAcks(window: AckWindow, idleMs = STALL_MS): () => void {
  return watchProgress(
    () => window.acknowledged,
    idleMs,
    () => window.fail(new Error(`no acknowledgement for ${idleMs / 1000} s`)),
  );
}

/**
 * Counts what a callback-driven consumer delivers: call {@link add} from the client's message
 * callback, await {@link all}, which fails on a stall or a message of the wrong size.
 */
export class Deliveries {
  readonly records: number;
  readonly recordSize: number;
  #received = 0;
  #wrongSize = -1;
  #done!: () => void;
  readonly #finished = new Promise<void>((resolve) => {
    this.#done = resolve;
  });

  constructor(records: number, recordSize: number) {
    this.records = records;
    this.recordSize = recordSize;
  }

  get received(): number {
    return this.#received;
  }

  /** One message of `size` bytes arrived; returns the count so far. */
  add(size: number): number {
    if (size !== this.recordSize) this.#wrongSize = size;
    if (++this.#received === this.records) this.#done();
    return this.#received;
  }

  /** Resolves once every record has arrived; rejects after `idleMs` without one. */
  all(idleMs = STALL_MS): Promise<void> {
    return untilReceived(this.#finished, () => this.#received, this.records, idleMs);
  }

  /** Throws if any message was not `recordSize` bytes. */
  checkSizes(): void {
    if (this.#wrongSize >= 0) {
      throw new Error(`a message of ${this.#wrongSize} bytes, expected ${this.recordSize}`);
    }
  }
}

/** How {@link publishInBursts} writes a workload. */
export interface BurstPublish {
  readonly records: number;
  /** Records written in one go once the window has room for them. */
  readonly burst: number;
  /** The window the client's acknowledgements release. */
  readonly window: AckWindow;
  /** Fails the loop at once when the client loses its server. */
  readonly guard: ConnectionGuard;
  /** Window slots a burst of `count` records takes (default: one per record). */
  readonly slots?: (count: number) => number;
  /** Called after the last burst, before waiting for the acknowledgements (e.g. a flush). */
  readonly flush?: () => Promise<unknown>;
}

/**
 * The publish loop of every peer: takes room in the window for a burst, lets `write` send the
 * burst (synchronously where the client allows: see {@link AckWindow.acquire}), and once all are
 * written waits until every write is acknowledged. A write not acknowledged for {@link STALL_MS}
 * fails it. Resolves with the milliseconds from the first write to the last acknowledgement.
 */
export async function publishInBursts(
  o: BurstPublish,
  write: (count: number) => unknown,
): Promise<number> {
  const endWatch = watchAcks(o.window);
  try {
    const began = performance.now();
    for (let sent = 0; sent < o.records; ) {
      const burst = Math.min(o.burst, o.records - sent);
      await o.guard.run(o.window.acquire(o.slots?.(burst) ?? burst));
      const written = write(burst);
      if (written instanceof Promise) await o.guard.run(written);
      sent += burst;
    }
    if (o.flush !== undefined) await o.guard.run(o.flush());
    await o.guard.run(o.window.drain());
    return performance.now() - began;
  } finally {
    endWatch();
  }
}
