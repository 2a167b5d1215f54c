import type { Producer, ProducerRecord } from '../../client/index.js';
import type { SendTracker } from './changelog-io.js';

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
  readonly #inFlight = new Set<Promise<void>>();

  readonly #tracker: SendTracker | undefined;

  /** `tracker` counts these produce calls with the changelogs' (the container's back-pressure). */
  constructor(producer: Producer, onError: (error: unknown) => void, tracker?: SendTracker) {
    this.#producer = producer;
    this.#onError = onError;
    this.#tracker = tracker;
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

  /**
   * Sends, then waits for every record added before the call to be acknowledged (records added
   * meanwhile belong to the next flush); rejects on a failure.
   */
  async flush(): Promise<void> {
    this.send();
    await Promise.all([...this.#inFlight]);
  }

  #sendTopic(topic: string, chunk: ProducerRecord[]): void {
    this.#chunks.set(topic, []);
    const sent = this.#producer.sendWithoutMetadata(topic, chunk);
    this.#inFlight.add(sent);
    this.#tracker?.add(sent);
    sent.then(
      () => this.#inFlight.delete(sent),
      (error: unknown) => {
        this.#inFlight.delete(sent);
        this.#onError(error);
      },
    );
  }
}
