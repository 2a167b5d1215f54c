/**
 * Failing a peer's operation promptly when its client loses the server. Client libraries report
 * a reset or closed connection in their own way (an 'error' event, a closed() promise, a close
 * listener) and often only there: a write that never completes or a delivery callback that is
 * never called again would otherwise leave the operation waiting until a stall watch or the
 * suite's own deadline gives up, with an unrelated message. A guard turns the first such report
 * into the rejection of whatever the peer is awaiting, naming the peer and the connection.
 */

/** Watches one client's connections for the duration of one peer operation. */
export class ConnectionGuard {
  readonly #what: string;
  readonly #lost: Promise<never>;
  #reject!: (err: Error) => void;
  #failure: Error | null = null;
  #closing = false;

  /** `what` names the client and server in messages, e.g. "rabbitmq-stream: stream client". */
  constructor(what: string) {
    this.#what = what;
    this.#lost = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    // Nobody may be awaiting when the connection goes: the failure is kept for the next await.
    this.#lost.catch(() => undefined);
  }

  /** The first connection failure reported, if any. */
  get failure(): Error | null {
    return this.#failure;
  }

  /**
   * The client reported an error or an unexpected close of its connection. Ignored once
   * {@link closing} was called (our own close makes clients report it too).
   */
  lost(cause?: unknown): void {
    if (this.#closing || this.#failure !== null) return;
    const reason =
      cause instanceof Error ? cause.message : cause === undefined ? 'closed' : String(cause);
    this.#failure = new Error(`${this.#what}: connection to the server lost (${reason})`, {
      cause,
    });
    this.#reject(this.#failure);
  }

  /** `op`, or the connection failure if that comes first. */
  run<T>(op: Promise<T>): Promise<T> {
    if (this.#failure !== null) {
      op.catch(() => undefined);
      return Promise.reject(this.#failure);
    }
    return Promise.race([op, this.#lost]);
  }

  /**
   * We are closing the client: later reports are its own close. Returns `close()` bounded by
   * `timeoutMs`, as closing a client whose server is gone may wait for an answer that never
   * comes; a failed or late close is ignored (the server is stopped next anyway).
   */
  async close(close: () => Promise<unknown> | undefined, timeoutMs = 5000): Promise<void> {
    this.#closing = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    try {
      const closed = Promise.resolve()
        .then(close)
        .catch(() => undefined);
      await Promise.race([closed, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Opens a client watched by a fresh guard (`open` attaches the client's error and close
 * reports to it), runs `use` with it, and closes it (bounded) whatever happens. Every await of
 * `open` and `use` fails as soon as the guard hears of a lost connection.
 */
export async function usingClient<C, T>(
  what: string,
  open: (guard: ConnectionGuard) => Promise<C>,
  close: (client: C) => Promise<unknown> | undefined,
  use: (client: C, guard: ConnectionGuard) => Promise<T>,
): Promise<T> {
  const guard = new ConnectionGuard(what);
  const opening = open(guard);
  let client: C;
  try {
    client = await guard.run(opening);
  } catch (err) {
    // A client that connects after all must not be left open.
    void opening.then(close).catch(() => undefined);
    throw err;
  }
  try {
    return await guard.run(use(client, guard));
  } finally {
    await guard.close(() => close(client));
  }
}
