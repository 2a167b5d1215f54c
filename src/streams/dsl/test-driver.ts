/*
 * Runs one task of a compiled job in memory, like Kafka Streams' TopologyTestDriver: in-memory
 * stores (serialized exactly as in the runtime), outputs collected per topic, input piped by
 * topic, and `window()` on demand. Deterministic, no broker: for users' tests and ours.
 */
import type {
  AnyJob,
  Inputs,
  MessageCollector,
  OutgoingMessage,
  Outputs,
  StoreSpec,
  StreamTask,
  TaskContext,
} from '../job.js';
import { InMemoryEngine } from '../stores/in-memory-engine.js';
import type { KeyValueStore } from '../stores/key-value-store.js';
import { SerializedStore } from '../stores/serialized-store.js';

/** A record sent to an output, as the driver collected it (typed values, before serdes). */
export interface DriverOutput {
  readonly topic: string;
  readonly key: unknown;
  readonly value: unknown;
  readonly timestamp: number | undefined;
}

/** One task of a job, driven by hand. */
export class JobTestDriver {
  readonly job: AnyJob;
  readonly partition: number;
  readonly outputs: DriverOutput[] = [];
  readonly #engines = new Map<string, InMemoryEngine>();
  readonly #stores = new Map<string, KeyValueStore<unknown, unknown>>();
  #task: StreamTask<Inputs, Outputs, Record<string, StoreSpec<unknown, unknown>>> | undefined;
  readonly #offsets = new Map<string, number>();
  readonly #collector: MessageCollector<Outputs>;

  constructor(job: AnyJob, partition = 0) {
    this.job = job;
    this.partition = partition;
    const outputs = job.outputs as Outputs;
    this.#collector = {
      send: (stream: string, m: OutgoingMessage<unknown, unknown>) => {
        const spec = outputs[stream];
        if (spec === undefined) throw new TypeError(`no output ${stream}`);
        // Round-trip through the serdes, as the producer would.
        const key =
          m.key === undefined || m.key === null
            ? null
            : spec.keySerde.deserialize(spec.keySerde.serialize(m.key));
        const value =
          m.value === null ? null : spec.valueSerde.deserialize(spec.valueSerde.serialize(m.value));
        this.outputs.push({ topic: spec.topic, key, value, timestamp: m.timestamp });
      },
    } as MessageCollector<Outputs>;
  }

  /** Creates (or re-creates after `crash`) the task over the current store contents. */
  start(): void {
    for (const [name, spec] of Object.entries(
      this.job.stores as Record<string, StoreSpec<unknown, unknown>>,
    )) {
      let engine = this.#engines.get(name);
      if (engine === undefined) {
        engine = new InMemoryEngine();
        this.#engines.set(name, engine);
      }
      this.#stores.set(name, new SerializedStore(engine, spec.keySerde, spec.valueSerde));
    }
    this.#task = this.job.task() as StreamTask<
      Inputs,
      Outputs,
      Record<string, StoreSpec<unknown, unknown>>
    >;
    const context: TaskContext<Record<string, StoreSpec<unknown, unknown>>> = {
      jobId: this.job.id,
      taskName: `Partition ${this.partition}`,
      partition: this.partition,
      config: {},
      metrics: { inc: () => {}, set: () => {} },
      getStore: (name) => {
        const s = this.#stores.get(name);
        if (s === undefined) throw new TypeError(`no store ${name}`);
        return s;
      },
    };
    void this.#task.init?.(context);
  }

  /** Pipes one record into the input reading `topic`. */
  pipe(
    topic: string,
    key: unknown,
    value: unknown,
    timestamp: number,
    headers: { key: string; value: Buffer | null }[] = [],
  ): void {
    if (this.#task === undefined) this.start();
    const stream = Object.entries(this.job.inputs as Inputs).find(
      ([, s]) => s.topic === topic,
    )?.[0];
    if (stream === undefined) throw new TypeError(`the job does not read ${topic}`);
    const offset = this.#offsets.get(topic) ?? 0;
    this.#offsets.set(topic, offset + 1);
    // As the runtime does: tables kept from this topic take the record before the task sees it.
    const spec = (this.job.inputs as Inputs)[stream]!;
    for (const [name, store] of Object.entries(
      this.job.stores as Record<string, StoreSpec<unknown, unknown>>,
    )) {
      if (store.sourceTopic !== topic || key === null || key === undefined) continue;
      const engine = this.#engines.get(name)!;
      const k = spec.keySerde.serialize(key);
      if (value === null || value === undefined) engine.delete(k);
      else engine.put(k, spec.valueSerde.serialize(value));
    }
    void this.#task!.process(
      { stream, topic, partition: this.partition, offset, timestamp, key, value, headers } as never,
      this.#collector,
      { commit: () => {}, shutdown: () => {} },
    );
  }

  /** The task instance (after the first `pipe` or `start`). */
  get task(): StreamTask<Inputs, Outputs, Record<string, StoreSpec<unknown, unknown>>> | undefined {
    return this.#task;
  }

  /** Calls the task's `window()`. */
  window(): void {
    void this.#task?.window?.(this.#collector, { commit: () => {}, shutdown: () => {} });
  }

  /** A store of the task, typed as the job declares it. */
  store<K, V>(name: string): KeyValueStore<K, V> {
    const s = this.#stores.get(name);
    if (s === undefined) throw new TypeError(`no store ${name}`);
    return s as KeyValueStore<K, V>;
  }

  /** Outputs sent to `topic`, in order. */
  output(topic: string): DriverOutput[] {
    return this.outputs.filter((o) => o.topic === topic);
  }
}
