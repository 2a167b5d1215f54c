/*
 * A task's edge to the outside, which the container cuts when the group takes the task away
 * without a clean revoke (onLost: this container was a zombie, paused past its session timeout,
 * and another container may run the task now). From then on nothing the task still does reaches
 * Kafka: its outputs are dropped at its collector and its changelog produce calls are refused.
 * What was handed to the producer before the cut is sent (at-least-once); stopping that too needs
 * Kafka transactions (a fenced producer epoch), which Brook does not have yet.
 */
import type { Producer } from '../../client/index.js';
import type { MessageCollector, Outputs } from '../job.js';

/** A produce call refused because the task it came from was lost. */
export class TaskLostError extends Error {
  override readonly name = 'TaskLostError';
}

/** The producer methods that write; every other property passes through. */
const SENDS: ReadonlySet<PropertyKey> = new Set(['send', 'sendWithoutMetadata']);

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
   * The producer the task's changelog writers use: `inner`, except that its sends reject with a
   * {@link TaskLostError} once the task is lost (the writer's next flush reports it).
   */
  producer(inner: Producer): Producer {
    return new Proxy(inner, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        // Methods run on the producer itself: its private fields are not on the proxy.
        const method = (value as (...args: unknown[]) => unknown).bind(target);
        if (!SENDS.has(property)) return method;
        return (...args: unknown[]) =>
          this.#lost
            ? Promise.reject(
                new TaskLostError(
                  `task ${this.#task} was lost to another container: its changelog writes stop here`,
                ),
              )
            : method(...args);
      },
    });
  }
}
