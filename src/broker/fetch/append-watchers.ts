/**
 * Lets a Fetch long poll sleep until one of its partitions receives data (or its max wait ends),
 * instead of polling the logs.
 */
export class AppendWatchers {
  readonly #waiters = new Map<string, Set<() => void>>();
  #closed = false;

  /** True once {@link wakeAll} ran: waits return at once from then on. */
  get closed(): boolean {
    return this.#closed;
  }

  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Called after an append to `topic`/`partition`: wakes every fetch waiting on it. */
  notify(topic: string, partition: number): void {
    const set = this.#waiters.get(AppendWatchers.key(topic, partition));
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /**
   * Resolves on the first append to any of `keys`, after `timeoutMs`, or when `cancel` fires
   * (shutdown), whichever comes first.
   */
  wait(keys: readonly string[], timeoutMs: number, cancel?: Promise<void>): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const k of keys) {
          const set = this.#waiters.get(k);
          if (!set) continue;
          set.delete(finish);
          if (set.size === 0) this.#waiters.delete(k);
        }
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, timeoutMs));
      for (const k of keys) {
        let set = this.#waiters.get(k);
        if (!set) this.#waiters.set(k, (set = new Set()));
        set.add(finish);
      }
      void cancel?.then(finish);
    });
  }

  /** Wakes every waiter (shutdown: long polls answer at once with what they have). */
  wakeAll(): void {
    this.#closed = true;
    for (const set of [...this.#waiters.values()]) for (const wake of [...set]) wake();
  }
}
