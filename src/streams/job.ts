/*
 * The job model users write against, after Samza's low-level API: a job declares its input and
 * output streams and its stores by name, each with serdes, and a factory for its task. The names
 * carry the types through: an envelope from input `lines` has that input's key and value types,
 * `collector.send('counts', …)` checks the message against output `counts`, and
 * `context.getStore('counts')` returns a `KeyValueStore` of that store's key and value types.
 */
import type { ProducerHeader } from '../client/index.js';
import type { Serde } from './serdes/serde.js';
import type { KeyValueStore } from './stores/key-value-store.js';
import type { StoreEngineKind } from './types.js';

/** An input stream: a topic and the serdes its keys and values are read with. */
export interface InputSpec<K, V> {
  readonly topic: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
}

/** An output stream: a topic and the serdes its keys and values are written with. */
export interface OutputSpec<K, V> {
  readonly topic: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  /**
   * When set, the container creates the topic if it is missing, with this many partitions
   * (`'tasks'`: one per task). For intermediate topics the job also reads, such as a
   * repartition topic, as Kafka Streams creates its internal topics.
   */
  readonly partitions?: number | 'tasks';
}

/** A store as a job declares it; the runtime opens one instance of it per task. */
export interface StoreSpec<K, V> {
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  /** `persistent` (LMDB files under the state dir, the default) or `in-memory`. */
  readonly engine?: StoreEngineKind;
  /** Entries in the write-back cache (default 10000); 0 for none. */
  readonly cacheSize?: number;
  /** Whether changes go to `<job-id>-<store>-changelog` (default true). */
  readonly changelog?: boolean;
  /**
   * Makes the store a table of one of the job's input topics, with that topic as its changelog
   * (Kafka Streams' source-topic changelog): no `<job-id>-<store>-changelog` is created or
   * written. The runtime itself applies every record of that input to the store, before the
   * task's `process` sees it (key and value bytes as they are in the topic, a null value
   * deletes, a record without a key is skipped), and the store is read-only to the task. A
   * checkpoint records the offset of the last source record the store holds; restore replays the
   * topic's partition up to it. A task with no checkpoint reads such a topic from its earliest
   * offset whatever `auto.offset.reset` says: a table starts complete.
   */
  readonly sourceTopic?: string;
}

/**
 * Inputs (by name) that must be co-partitioned: the same partition count, so that task N reads
 * the same keys' partition N of each (a join). The container checks the topics' partition counts
 * at start and fails with the fix when they differ.
 */
export interface CopartitionGroup {
  readonly inputs: readonly string[];
  /** What needs it, for the error message (e.g. the join operator's name). */
  readonly by?: string;
}

// `any` only in constraints: each spec's own types are recovered by inference below.
// biome-ignore lint/suspicious/noExplicitAny: variance-free constraint on user-declared specs
type AnySpec = InputSpec<any, any>;
/** The named inputs of a job. */
export type Inputs = Readonly<Record<string, AnySpec>>;
/** The named outputs of a job. */
export type Outputs = Readonly<Record<string, AnySpec>>;
/** The named stores of a job. */
// biome-ignore lint/suspicious/noExplicitAny: variance-free constraint on user-declared specs
export type Stores = Readonly<Record<string, StoreSpec<any, any>>>;

type KeyOf<S> = S extends { keySerde: Serde<infer K> } ? K : never;
type ValueOf<S> = S extends { valueSerde: Serde<infer V> } ? V : never;

/**
 * One incoming message, Samza's `IncomingMessageEnvelope`: the deserialized key and value (null
 * when the record has none), headers, timestamp, offset and the stream partition it came from.
 */
export interface Envelope<Name extends string, K, V> {
  /** The input's name in the job definition. */
  readonly stream: Name;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: K | null;
  readonly value: V | null;
  readonly headers: readonly { readonly key: string; readonly value: Buffer | null }[];
}

/** An envelope of any of the job's inputs, discriminated by `stream`. */
export type IncomingEnvelope<I extends Inputs> = {
  [N in keyof I & string]: Envelope<N, KeyOf<I[N]>, ValueOf<I[N]>>;
}[keyof I & string];

/** A message for an output stream. */
export interface OutgoingMessage<K, V> {
  readonly key?: K | null;
  readonly value: V | null;
  /** Explicit partition; otherwise Kafka's default partitioner over the serialized key. */
  readonly partition?: number;
  readonly timestamp?: number;
  readonly headers?: ProducerHeader[];
}

/** Sends messages to the job's outputs (Samza's `MessageCollector`). */
export interface MessageCollector<O extends Outputs> {
  send<N extends keyof O & string>(
    stream: N,
    message: OutgoingMessage<KeyOf<O[N]>, ValueOf<O[N]>>,
  ): void;
}

/** Lets a task steer the container (Samza's `TaskCoordinator`). */
export interface TaskCoordinator {
  /** Asks for a commit (checkpoint) once the current message is processed. */
  commit(): void;
  /** Asks the container to commit and shut down cleanly once the current message is processed. */
  shutdown(): void;
}

/** Per-task metrics a task may add to (they are exported with the runtime's own). */
export interface TaskMetrics {
  /** Adds `by` (default 1) to the task's counter `name` (created on first use). */
  inc(name: string, by?: number): void;
  /** Sets the task's gauge `name`. */
  set(name: string, value: number): void;
}

/** What `init` gets: the task's name and partition, its stores, the job's config, metrics. */
export interface TaskContext<S extends Stores> {
  readonly jobId: string;
  readonly taskName: string;
  /** The partition number this task owns in every input (and every changelog). */
  readonly partition: number;
  readonly config: Readonly<Record<string, string>>;
  readonly metrics: TaskMetrics;
  getStore<N extends keyof S & string>(name: N): KeyValueStore<KeyOf<S[N]>, ValueOf<S[N]>>;
}

/**
 * A stream task: one instance per task (input partition number). `process` may return a promise
 * for asynchronous work; the runtime then waits for it before giving the task its next message,
 * so per-partition order holds and at most one message per task is in flight.
 */
export interface StreamTask<I extends Inputs, O extends Outputs, S extends Stores> {
  init?(context: TaskContext<S>): void | Promise<void>;
  process(
    envelope: IncomingEnvelope<I>,
    collector: MessageCollector<O>,
    coordinator: TaskCoordinator,
  ): void | Promise<void>;
  /** Called every `task.window.ms` when that is set. */
  window?(collector: MessageCollector<O>, coordinator: TaskCoordinator): void | Promise<void>;
  /**
   * Called when a checkpoint is taken, before the task's stores are flushed: a task that keeps
   * state in memory between messages writes it to its stores here, so that the checkpoint
   * holds it. Synchronous: it is part of the checkpoint's snapshot.
   */
  beforeCommit?(): void;
  close?(): void | Promise<void>;
}

/** A job: what `brook job run path/to/job.ts` loads (the module's default export). */
export interface JobDefinition<I extends Inputs, O extends Outputs, S extends Stores> {
  /** The job id: the consumer group's name and the prefix of its changelog topics. */
  readonly id: string;
  readonly inputs: I;
  readonly outputs: O;
  readonly stores: S;
  readonly task: () => StreamTask<I, O, S>;
  /**
   * Job config, Samza-style keys: `task.commit.ms`, `task.window.ms`, `job.reset`
   * (`earliest`/`latest`, where a task without a checkpoint starts); other keys are passed to
   * tasks in `context.config`. The CLI's `--config k=v` overrides these.
   */
  readonly config?: Readonly<Record<string, string>>;
  /**
   * Groups of inputs that must be co-partitioned (see {@link CopartitionGroup}). Inputs outside
   * every group may have any partition count (task N reads partition N where it exists).
   */
  readonly copartitioned?: readonly CopartitionGroup[];
}

/** A job of any types, as the runtime handles it. */
// biome-ignore lint/suspicious/noExplicitAny: the runtime is generic over every job's types
export type AnyJob = JobDefinition<any, any, any>;

/**
 * Declares a job; the identity function, there to infer and check the types of its parts.
 *
 * ```ts
 * export default defineJob({
 *   id: 'word-count',
 *   inputs: { lines: { topic: 'words', keySerde: stringSerde, valueSerde: stringSerde } },
 *   outputs: { counts: { topic: 'word-counts', keySerde: stringSerde, valueSerde: stringSerde } },
 *   stores: { counts: { keySerde: stringSerde, valueSerde: longSerde } },
 *   task: () => new WordCountTask(),
 * });
 * ```
 */
export function defineJob<
  const I extends Inputs,
  const O extends Outputs,
  const S extends Stores = Record<never, never>,
>(job: JobDefinition<I, O, S>): JobDefinition<I, O, S> {
  return job;
}
