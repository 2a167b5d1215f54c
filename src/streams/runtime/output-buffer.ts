import type { Producer, ProducerRecord, RecordMetadata } from '../../client/index.js';

/** Records per produce call. */
const CHUNK = 1024;

/**
 * Gathers a container's output records per topic and hands them to the producer in chunks, one
 * `send` per chunk instead of per record; `flush` resolves once everything added so far is
 * acknowledged (a commit waits for it: output is at-least-once).
 */
export class OutputBuffer {
  readonly #producer: Producer;
  readonly #onError: (error: unknown) => void;
  readonly #chunks = new Map<string, ProducerRecord[]>();
  readonly #inFlight = new Set<Promise<RecordMetadata[]>>();

  constructor(producer: Producer, onError: (error: unknown) => void) {
    this.#producer = producer;
    this.#onError = onError;
  }

  add(topic: string, record: ProducerRecord): void {
    let chunk = this.#chunks.get(topic);
    if (chunk === undefined) {
      chunk = [];
      this.#chunks.set(topic, chunk);
    }
    chunk.push(record);
    if (chunk.length >= CHUNK) this.#sendTopic(topic, chunk);
  }

  /** Sends every gathered record (without waiting for acknowledgements). */
  send(): void {
    for (const [topic, chunk] of this.#chunks) if (chunk.length > 0) this.#sendTopic(topic, chunk);
  }

  /** Produce calls not yet acknowledged. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Waits until at most `limit` produce calls are unacknowledged: the container's back-pressure,
   * so that a job producing faster than the brokers take it does not buffer without bound.
   */
  async waitBelow(limit: number): Promise<void> {
    while (this.#inFlight.size > limit) {
      await Promise.race(this.#inFlight).catch(() => {});
    }
  }

  /** Sends, then waits for every record added so far to be acknowledged; rejects on a failure. */
  async flush(): Promise<void> {
    this.send();
    await Promise.all([...this.#inFlight]);
  }

  #sendTopic(topic: string, chunk: ProducerRecord[]): void {
    this.#chunks.set(topic, []);
    const sent = this.#producer.send(topic, chunk);
    this.#inFlight.add(sent);
    sent.then(
      () => this.#inFlight.delete(sent),
      (error: unknown) => {
        this.#inFlight.delete(sent);
        this.#onError(error);
      },
    );
  }
}
