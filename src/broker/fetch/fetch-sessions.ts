/**
 * Fetch sessions (KIP-227): a consumer that fetches the same partitions again and again sends the
 * full list once, then only what changed; the broker answers only partitions with news.
 */

/** What a session remembers of one partition. */
export interface SessionPartition {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  /** What the last response told the client (-2: never told), to send only changes. */
  lastHighWatermark: number;
  lastLogStartOffset: number;
}

/** A session: its id, the epoch the next request must carry, and its partitions in order. */
export class FetchSession {
  readonly id: number;
  nextEpoch = 1;
  readonly partitions = new Map<string, SessionPartition>();
  lastUsed = Date.now();

  constructor(id: number) {
    this.id = id;
  }

  static key(topicId: string, topic: string, partition: number): string {
    return `${topicId}\u0000${topic}\u0000${partition}`;
  }
}

/** The broker's sessions, bounded; the least recently used is evicted to make room. */
export class FetchSessionCache {
  readonly #sessions = new Map<number, FetchSession>();
  readonly #max: number;
  #nextId = 1 + Math.floor(Math.random() * 1000000);

  constructor(maxSessions: number) {
    this.#max = maxSessions;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** A new session, or undefined when sessions are disabled (0 slots). */
  create(): FetchSession | undefined {
    if (this.#max === 0) return undefined;
    if (this.#sessions.size >= this.#max) {
      let oldest: FetchSession | undefined;
      for (const s of this.#sessions.values())
        if (!oldest || s.lastUsed < oldest.lastUsed) oldest = s;
      if (oldest) this.#sessions.delete(oldest.id);
    }
    let id = this.#nextId++;
    if (this.#nextId > 0x7fffffff) this.#nextId = 1;
    while (this.#sessions.has(id) || id === 0) id = this.#nextId++;
    const s = new FetchSession(id);
    this.#sessions.set(id, s);
    return s;
  }

  get(id: number): FetchSession | undefined {
    const s = this.#sessions.get(id);
    if (s) s.lastUsed = Date.now();
    return s;
  }

  remove(id: number): void {
    this.#sessions.delete(id);
  }
}
