/**
 * The client side of a KIP-227 fetch session with one broker: after a first full Fetch creates
 * the session, each Fetch names only the partitions whose fetch offset changed (or that joined)
 * and lists those no longer wanted as forgotten, so a consumer of many partitions does not resend
 * them all on every poll. The broker answers incremental fetches with only the partitions that
 * have news. Any session error, a failed request or a broker that declines to make a session
 * falls back to a full fetch.
 */
import { ErrorCode } from '../../protocol/errors.js';

/** A partition the consumer wants fetched now, from `fetchOffset`. */
export interface WantedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly fetchOffset: number;
}

/** The session fields and partition lists of one Fetch request. */
export interface SessionRequest<W extends WantedPartition> {
  readonly sessionId: number;
  readonly sessionEpoch: number;
  /** Partitions to name in the request (all of them in a full fetch). */
  readonly send: W[];
  /** Partitions to drop from the session, by topic. */
  readonly forgotten: Array<{ topic: string; partitions: number[] }>;
  /** True for a full fetch (the broker then answers for every partition sent). */
  readonly full: boolean;
}

/** Session epochs of KIP-227: 0 opens a session, -1 fetches without one. */
const INITIAL_EPOCH = 0;
const FINAL_EPOCH = -1;
const MAX_EPOCH = 0x7fffffff;

const key = (topic: string, partition: number): string => `${topic}\0${partition}`;

/**
 * One broker's fetch session. Exactly one Fetch per broker is in flight (the fetcher's rule), so
 * each {@link build} is followed by {@link onResponse} or {@link reset} before the next.
 */
export class FetchSession {
  /** 0 until the broker has created a session. */
  sessionId = 0;
  /** Epoch of the next request: INITIAL_EPOCH asks for a new full session. */
  private nextEpoch = INITIAL_EPOCH;
  /** Fetch offset the broker holds for each partition of the session (the last one sent). */
  private readonly held = new Map<string, WantedPartition>();

  /**
   * @param enabled false for brokers whose Fetch version predates sessions (v7): every request
   * is then sessionless and full.
   */
  constructor(private readonly enabled: boolean) {}

  /** The request for `wanted` (every partition the consumer wants from this broker now). */
  build<W extends WantedPartition>(wanted: readonly W[]): SessionRequest<W> {
    if (!this.enabled) {
      return {
        sessionId: 0,
        sessionEpoch: FINAL_EPOCH,
        send: [...wanted],
        forgotten: [],
        full: true,
      };
    }
    if (this.sessionId === 0 || this.nextEpoch === INITIAL_EPOCH) {
      this.held.clear();
      for (const w of wanted) this.held.set(key(w.topic, w.partition), w);
      // A session the broker may still hold is closed by a new full request with its id.
      return {
        sessionId: this.sessionId,
        sessionEpoch: INITIAL_EPOCH,
        send: [...wanted],
        forgotten: [],
        full: true,
      };
    }
    const send: W[] = [];
    const wantedKeys = new Set<string>();
    for (const w of wanted) {
      const k = key(w.topic, w.partition);
      wantedKeys.add(k);
      const held = this.held.get(k);
      if (held === undefined || held.fetchOffset !== w.fetchOffset) {
        send.push(w);
        this.held.set(k, w);
      }
    }
    const forgottenByTopic = new Map<string, number[]>();
    for (const [k, h] of this.held) {
      if (wantedKeys.has(k)) continue;
      this.held.delete(k);
      const list = forgottenByTopic.get(h.topic);
      if (list) list.push(h.partition);
      else forgottenByTopic.set(h.topic, [h.partition]);
    }
    return {
      sessionId: this.sessionId,
      sessionEpoch: this.nextEpoch,
      send,
      forgotten: [...forgottenByTopic].map(([topic, partitions]) => ({ topic, partitions })),
      full: false,
    };
  }

  /** Takes the response's top-level error code and session id into account. */
  onResponse(errorCode: number, sessionId: number, request: SessionRequest<WantedPartition>): void {
    if (!this.enabled) return;
    if (errorCode !== 0) {
      // FETCH_SESSION_ID_NOT_FOUND (evicted), INVALID_FETCH_SESSION_EPOCH, or anything else:
      // the broker's view is unknown, so start over with a full fetch.
      this.reset(errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      return;
    }
    if (request.full) {
      // sessionId 0: the broker made no session (none supported, or its cache is full).
      this.sessionId = sessionId;
      this.nextEpoch = sessionId === 0 ? INITIAL_EPOCH : 1;
      return;
    }
    this.nextEpoch = this.nextEpoch >= MAX_EPOCH ? 1 : this.nextEpoch + 1;
  }

  /**
   * Forgets the session after a failed request: the next fetch is full. `gone` says the broker
   * no longer has it (so the next full fetch need not name it to close it).
   */
  reset(gone = false): void {
    if (gone) this.sessionId = 0;
    this.nextEpoch = INITIAL_EPOCH;
    this.held.clear();
  }
}
