/*
 * A task's edge to the outside, which the container cuts when the group takes the task away
 * without a clean revoke (onLost: this container was a zombie, paused past its session timeout,
 * and another container may run the task now). From then on nothing the task still does reaches
 * Kafka: its outputs are dropped at its collector and its changelog produce calls are refused.
 * What was handed to the producer before the cut is sent (at-least-once); stopping that too needs
 * Kafka transactions (a fenced producer epoch), which Brook does not have yet.
 */
import type { ChangelogProducer } from './changelog-io.js';
import type { MessageCollector, Outputs } from '../job.js';

/** A produce call refused because the task it came from was lost. */
export class TaskLostError extends Error {
  override readonly name = 'TaskLostError';
}

/** One task's fence: open until {@link TaskFence.lose}. */
export class TaskFence {
  readonly #task: string;
  #lost = false;
  #dropped = 0;

  constructor(taskName: string) {
    this.#task = taskName;
  }

  /** Whether the task was lost. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Output messages dropped since the loss. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Cuts the task off: called synchronously when the loss becomes known. */
  lose(): void {
    this.#lost = true;
  }

  /** The task's collector: `inner` until the loss, then a sink that counts what it drops. */
  collector(inner: MessageCollector<Outputs>): MessageCollector<Outputs> {
    return {
      send: (stream, message) => {
        if (this.#lost) {
          this.#dropped++;
          return;
        }
        inner.send(stream, message);
      },
    };
  }

  /**
   * What the task's changelog writers send through: `inner`, except that sends reject with a
   * {@link TaskLostError} once the task is lost (the writer's next flush reports it).
   */
  producer(inner: ChangelogProducer): ChangelogProducer {
    return {
      send: (topic, records) =>
        this.#lost
          ? Promise.reject(
              new TaskLostError(
                `task ${this.#task} was lost to another container: its changelog writes stop here`,
              ),
            )
          : inner.send(topic, records),
    };
  }
}
