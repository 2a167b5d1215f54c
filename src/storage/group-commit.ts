/**
 * Group commit for `flush.policy=always`: appends that arrive while an fdatasync is running wait
 * for the next one, so N concurrent appends cost one or two syncs rather than N.
 */
export class GroupCommit {
  /** Everything below this offset is known to be on disk. */
  durableOffset: number;
  private running = false;
  private waiters: { target: number; resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(
    initialDurableOffset: number,
    /** Where the log ends now (a sync started now covers everything below it). */
    private readonly currentEnd: () => number,
    /** Makes everything written so far durable (fdatasync of the touched segments). */
    private readonly sync: (from: number, to: number) => Promise<void>,
  ) {
    this.durableOffset = initialDurableOffset;
  }

  /** Resolves once every offset below `target` is durable. */
  waitFor(target: number): Promise<void> {
    if (target <= this.durableOffset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      if (!this.running) this.start();
    });
  }

  get inFlight(): boolean {
    return this.running;
  }

  private start(): void {
    this.running = true;
    const from = this.durableOffset;
    const to = this.currentEnd();
    this.sync(from, to).then(
      () => {
        this.durableOffset = Math.max(this.durableOffset, to);
        this.settle((w) => w.target <= to, undefined);
      },
      (err: unknown) => this.settle((w) => w.target <= to, err),
    );
  }

  private settle(covered: (w: { target: number }) => boolean, err: unknown): void {
    const done = this.waiters.filter(covered);
    this.waiters = this.waiters.filter((w) => !covered(w));
    for (const w of done) err === undefined ? w.resolve() : w.reject(err);
    // Start the next sync only after the appenders just released have had a turn to append
    // again: they then share that sync instead of each half of them alternating.
    setImmediate(() => {
      this.running = false;
      if (this.waiters.length > 0) this.start();
    });
  }

  /** Moves the durable mark down after a truncation. */
  truncate(offset: number): void {
    this.durableOffset = Math.min(this.durableOffset, offset);
  }
}
