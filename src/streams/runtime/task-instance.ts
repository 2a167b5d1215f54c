/*
 * One task of a container: its stores (restored to the checkpoint, then stacked
 * serde → cache → changelog → engine), the user's StreamTask, the input offsets it has reached,
 * and the processing of its messages one at a time (waiting when `process` returns a promise, so
 * per-partition order holds with at most one message in flight per task).
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type {
  Admin,
  ClientOptions,
  ConsumerBatchReader,
  RecordCursor,
} from '../../client/index.js';
import type {
  AnyJob,
  IncomingEnvelope,
  Inputs,
  MessageCollector,
  Outputs,
  StoreSpec,
  StreamTask,
  TaskContext,
  TaskCoordinator,
} from '../job.js';
import { CachedStore } from '../stores/cached-store.js';
import { type ChangelogOffset, changelogTopic } from '../stores/changelog.js';
import { InMemoryEngine } from '../stores/in-memory-engine.js';
import type { BytesStore, KeyValueStore } from '../stores/key-value-store.js';
import { LmdbEngine } from '../stores/lmdb-engine.js';
import { LoggedStore } from '../stores/logged-store.js';
import { OffsetFile } from '../stores/offset-file.js';
import { restoreStore } from '../stores/restore.js';
import { SerializedStore } from '../stores/serialized-store.js';
import { deserializeAt, type Serde } from '../serdes/serde.js';
import { applySourceRecord, ReadOnlyStore, SourceOffsetWriter } from '../stores/source-backed.js';
import { storeDirectory } from '../stores/state-dir.js';
import { type TaskName, taskNameForPartition } from '../types.js';
import {
  type ChangelogProducer,
  ConsumerChangelogReader,
  ProducerChangelogWriter,
  type SendTracker,
} from './changelog-io.js';
import type { ContainerMetrics } from './metrics.js';

/** Default entries in a store's write-back cache. */
export const DEFAULT_CACHE_SIZE = 10_000;

/** What a task needs from its container. */
export interface TaskEnvironment {
  readonly job: AnyJob;
  readonly jobId: string;
  readonly client: ClientOptions;
  /** What the task's changelog writers send through. */
  readonly producer: ChangelogProducer;
  readonly admin: Admin;
  readonly stateDir: string;
  readonly config: Readonly<Record<string, string>>;
  readonly logger: Logger;
  readonly metrics: ContainerMetrics;
  /** The container's count of produce calls in flight (changelog writes count too). */
  readonly sends?: SendTracker;
  readonly collector: MessageCollector<Outputs>;
  readonly coordinator: TaskCoordinator;
  /** Input name by topic. */
  readonly inputByTopic: ReadonlyMap<string, string>;
}

interface OpenStore {
  readonly name: string;
  readonly typed: KeyValueStore<unknown, unknown>;
  /** Absent for stores without a changelog. */
  readonly logged: LoggedStore | undefined;
  /** The engine under the layers, closed alone when a lost task must not write any more. */
  readonly engine: BytesStore;
}

/** Headers of a record that has none: one shared, frozen array. */
const NO_HEADERS: readonly never[] = Object.freeze([]);

/** What processing a record of one input topic needs, looked up once per batch. */
interface InputRoute {
  readonly stream: string;
  readonly topic: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly tables:
    | readonly { readonly store: BytesStore; readonly writer: SourceOffsetWriter }[]
    | undefined;
}

/** One task: stores, user task, offsets. */
export class TaskInstance {
  readonly partition: number;
  readonly name: TaskName;
  readonly #env: TaskEnvironment;
  readonly #stores = new Map<string, OpenStore>();
  /** Tables kept from input topics (`StoreSpec.sourceTopic`), by topic. */
  /** Per input topic, what processing its records needs (built on first use). */
  readonly #routes = new Map<string, InputRoute>();
  readonly #sourceStores = new Map<
    string,
    { readonly store: BytesStore; readonly writer: SourceOffsetWriter }[]
  >();
  #task: StreamTask<Inputs, Outputs, Record<string, StoreSpec<unknown, unknown>>> | undefined;
  /** Per input topic: the offset of the next message to process (what a commit records). */
  readonly offsets = new Map<string, number>();
  /** The processing chain when a `process` call went asynchronous; undefined when idle. */
  pending: Promise<void> | undefined;
  /** Batches waiting in `pending`. */
  queued = 0;
  processed = 0;
  #counted = 0;
  #processedAtLastRate = 0;
  #rateSince = performance.now();
  readonly #labels: { job: string; task: string };

  constructor(env: TaskEnvironment, partition: number) {
    this.#env = env;
    this.partition = partition;
    this.name = taskNameForPartition(partition);
    this.#labels = { job: env.jobId, task: this.name };
  }

  /**
   * Restores every store to its checkpointed changelog offset (`undefined`: no checkpoint, the
   * empty state) and initializes the user's task.
   */
  async start(checkpoint: ReadonlyMap<string, ChangelogOffset> | undefined): Promise<void> {
    const { job, jobId, logger } = this.#env;
    try {
      for (const [name, spec] of Object.entries(
        job.stores as Record<string, StoreSpec<unknown, unknown>>,
      )) {
        // A table kept from an input topic is exactly at the last source record before the
        // input's checkpointed offset (both were committed together); no checkpoint: empty.
        const at =
          spec.sourceTopic === undefined
            ? (checkpoint?.get(name) ?? -1)
            : (this.offsets.get(spec.sourceTopic) ?? 0) - 1;
        this.#stores.set(name, await this.#openStore(name, spec, at));
      }
    } catch (error) {
      await this.#closeStores();
      throw error;
    }
    this.#task = job.task() as StreamTask<
      Inputs,
      Outputs,
      Record<string, StoreSpec<unknown, unknown>>
    >;
    const metrics = this.#env.metrics;
    const context: TaskContext<Record<string, StoreSpec<unknown, unknown>>> = {
      jobId,
      taskName: this.name,
      partition: this.partition,
      config: this.#env.config,
      metrics: {
        inc: (name, by = 1) => metrics.taskCounter.inc({ ...this.#labels, name }, by),
        set: (name, value) => metrics.taskGauge.set({ ...this.#labels, name }, value),
      },
      getStore: (name) => {
        const store = this.#stores.get(name);
        if (store === undefined) throw new TypeError(`job ${jobId} declares no store "${name}"`);
        return store.typed;
      },
    };
    await this.#task.init?.(context);
    logger.info({ event: 'task-started', task: this.name }, `task ${this.name} started`);
  }

  async #openStore(
    name: string,
    spec: StoreSpec<unknown, unknown>,
    checkpoint: ChangelogOffset,
  ): Promise<OpenStore> {
    const { jobId, producer, admin, client, logger, metrics } = this.#env;
    const storeDir = this.#storeDir(name, spec);
    const openEngine = async (dir: string | undefined): Promise<BytesStore> =>
      dir === undefined ? new InMemoryEngine() : LmdbEngine.open(dir);
    let bytes: BytesStore;
    let engine: BytesStore;
    let logged: LoggedStore | undefined;
    let source: SourceOffsetWriter | undefined;
    if (spec.sourceTopic === undefined && spec.changelog === false) {
      if (storeDir !== undefined) mkdirSync(storeDir, { recursive: true });
      bytes = await openEngine(storeDir);
      engine = bytes;
    } else {
      // A table kept from an input topic restores from that topic, up to the offset its input
      // checkpoint has reached, and writes nothing back: records after the checkpoint are not a
      // failed run's leftovers but input the task reads again.
      const topic = spec.sourceTopic ?? changelogTopic(jobId, name);
      const writer =
        spec.sourceTopic === undefined
          ? new ProducerChangelogWriter(producer, topic, this.partition, this.#env.sends)
          : undefined;
      const reader = new ConsumerChangelogReader(client, admin, topic, this.partition, {
        skipKeyless: spec.sourceTopic !== undefined,
      });
      const started = performance.now();
      const restored = await restoreStore({
        store: name,
        storeDir,
        changelog: { topic, partition: this.partition },
        openEngine,
        checkpoint,
        reader,
        writer,
        readTail: spec.sourceTopic === undefined,
        onProgress: (progress) => {
          metrics.restore(this.name, progress);
          logger.info(
            {
              event: 'restore-progress',
              task: this.name,
              store: name,
              records: progress.records,
              totalRecords: progress.totalRecords,
              recordsPerSecond: Math.round(progress.recordsPerSecond),
              etaSeconds: progress.etaSeconds,
              done: progress.done,
            },
            `restoring ${name} of ${this.name}: ${progress.records}/${progress.totalRecords} records`,
          );
        },
      });
      logger.info(
        {
          event: 'store-restored',
          task: this.name,
          store: name,
          changelog: topic,
          plan: restored.plan.kind,
          reason: restored.plan.kind === 'rebuild' ? restored.plan.reason : undefined,
          checkpoint,
          records: restored.records,
          trimmedKeys: restored.trimmedKeys,
          changelogOffset: restored.changelogOffset,
          ms: Math.round(performance.now() - started),
        },
        `store ${name} of ${this.name} restored (${restored.plan.kind}, ${restored.records} records)`,
      );
      engine = restored.engine;
      if (spec.sourceTopic !== undefined) source = new SourceOffsetWriter(restored.changelogOffset);
      logged = new LoggedStore(restored.engine, writer ?? source!, {
        initialOffset: restored.changelogOffset,
        offsetFile: restored.offsetFile,
      });
      bytes = logged;
    }
    const cacheSize = this.#cacheSize(name, spec);
    const cached = cacheSize > 0 ? new CachedStore(bytes, { cacheSize }) : bytes;
    if (source !== undefined && spec.sourceTopic !== undefined) {
      const table = { store: cached, writer: source };
      const list = this.#sourceStores.get(spec.sourceTopic) ?? [];
      list.push(table);
      this.#sourceStores.set(spec.sourceTopic, list);
      const view = new ReadOnlyStore(cached, `store ${name} is a table of ${spec.sourceTopic}`);
      return {
        name,
        typed: new SerializedStore(view, spec.keySerde, spec.valueSerde),
        logged,
        engine,
      };
    }
    const typed = new SerializedStore(cached, spec.keySerde, spec.valueSerde);
    return { name, typed, logged, engine };
  }

  /** The folder of a persistent store's engine under the state dir; undefined in memory. */
  #storeDir(name: string, spec: StoreSpec<unknown, unknown>): string | undefined {
    return (spec.engine ?? 'persistent') === 'persistent'
      ? storeDirectory(this.#env.stateDir, this.#env.jobId, name, this.name)
      : undefined;
  }

  /**
   * Removes the OFFSET file of this task's persistent changelogged stores, for a task that was
   * lost (see the container): the engine may hold writes no checkpoint covers, and a flush that
   * ended after the group moved on may have recorded an offset whose changelog prefix holds the
   * new owner's writes. A later start here rebuilds those stores from the changelog. Tables kept
   * from an input topic are left alone: nothing but their source writes to that topic.
   */
  invalidateLocalState(): void {
    const { job, jobId } = this.#env;
    for (const [name, spec] of Object.entries(
      job.stores as Record<string, StoreSpec<unknown, unknown>>,
    )) {
      if (spec.sourceTopic !== undefined || spec.changelog === false) continue;
      const dir = this.#storeDir(name, spec);
      if (dir === undefined || !existsSync(dir)) continue;
      new OffsetFile(dir, {
        topic: changelogTopic(jobId, name),
        partition: this.partition,
      }).invalidate();
    }
  }

  /** The store's cache size: config `stores.<name>.cache.size`, else the job's, else the default. */
  #cacheSize(name: string, spec: StoreSpec<unknown, unknown>): number {
    const key = `stores.${name}.cache.size`;
    const text = this.#env.config[key];
    if (text === undefined) return spec.cacheSize ?? DEFAULT_CACHE_SIZE;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) {
      throw new TypeError(`${key} must be a whole number >= 0, not "${text}"`);
    }
    return n;
  }

  /**
   * Processes the records of one consumer batch (all of `topic`) from where `reader` is. Returns
   * undefined when all were processed synchronously, or a promise when a `process` call went
   * asynchronous (the rest of the batch then follows it). What a record needs beyond itself
   * (its input's name and serdes, the tables kept from its topic) is looked up once per batch,
   * and the record is read from the reader's cursor: no record object, no key or value view
   * unless the serde needs one.
   */
  processRecords(topic: string, reader: ConsumerBatchReader): Promise<void> | undefined {
    const route = this.#route(topic);
    for (let c = reader.next(); c !== undefined; c = reader.next()) {
      const result = this.#processOne(route, c);
      if (result !== undefined) return result.then(() => this.#processRest(route, reader));
    }
    return undefined;
  }

  async #processRest(route: InputRoute, reader: ConsumerBatchReader): Promise<void> {
    for (let c = reader.next(); c !== undefined; c = reader.next()) {
      const result = this.#processOne(route, c);
      if (result !== undefined) await result;
    }
  }

  #route(topic: string): InputRoute {
    let route = this.#routes.get(topic);
    if (route === undefined) {
      const stream = this.#env.inputByTopic.get(topic)!;
      const spec = this.#env.job.inputs[stream] as Inputs[string];
      route = {
        stream,
        topic,
        keySerde: spec.keySerde,
        valueSerde: spec.valueSerde,
        tables: this.#sourceStores.get(topic),
      };
      this.#routes.set(topic, route);
    }
    return route;
  }

  #processOne(route: InputRoute, c: RecordCursor): Promise<void> | undefined {
    const buffer = c.buffer;
    const offset = c.offset;
    const envelope = {
      stream: route.stream,
      topic: route.topic,
      partition: this.partition,
      offset,
      timestamp: c.timestamp,
      key: c.keyLength < 0 ? null : deserializeAt(route.keySerde, buffer, c.keyOffset, c.keyLength),
      value:
        c.valueLength < 0
          ? null
          : deserializeAt(route.valueSerde, buffer, c.valueOffset, c.valueLength),
      headers: c.headerCount === 0 ? NO_HEADERS : c.headers(),
    } as IncomingEnvelope<Inputs>;
    // The offset moves before process() returns: a message whose processing started counts as
    // processed at the next commit, which first waits for it to finish.
    this.offsets.set(route.topic, offset + 1);
    this.processed++;
    const tables = route.tables;
    if (tables !== undefined) {
      const key = c.key();
      const value = c.value();
      for (const t of tables) applySourceRecord(t.store, t.writer, offset, key, value);
    }
    const result = this.#task!.process(envelope, this.#env.collector, this.#env.coordinator);
    return result instanceof Promise ? result : undefined;
  }

  /** Calls the task's `window`. */
  window(): Promise<void> | undefined {
    const result = this.#task?.window?.(this.#env.collector, this.#env.coordinator);
    return result instanceof Promise ? result : undefined;
  }

  /** Waits for in-flight processing. */
  async drain(): Promise<void> {
    while (this.pending !== undefined) await this.pending;
  }

  /**
   * Lets the task write what it keeps in memory (`beforeCommit`), flushes every store (cache →
   * changelog → engine, then the OFFSET file) and returns the changelog offsets the checkpoint
   * records with the current input offsets. Everything before the first await is synchronous:
   * the checkpoint's snapshot.
   */
  async flushStores(): Promise<Map<string, ChangelogOffset>> {
    this.#task?.beforeCommit?.();
    await Promise.all([...this.#stores.values()].map((s) => s.typed.flush()));
    const out = new Map<string, ChangelogOffset>();
    for (const s of this.#stores.values()) {
      if (s.logged !== undefined) out.set(s.name, s.logged.changelogOffset);
    }
    return out;
  }

  /** Messages processed since the last call (asynchronous ones finish after their dispatch). */
  takeProcessedCount(): number {
    const n = this.processed - this.#counted;
    this.#counted = this.processed;
    return n;
  }

  /** Updates the per-task gauges (rate, store sizes); called after a commit. */
  updateGauges(): void {
    const { metrics } = this.#env;
    const now = performance.now();
    const seconds = (now - this.#rateSince) / 1000;
    if (seconds > 0) {
      metrics.processRate.set(this.#labels, (this.processed - this.#processedAtLastRate) / seconds);
    }
    this.#processedAtLastRate = this.processed;
    metrics.processed.inc(this.#labels, this.takeProcessedCount());
    this.#rateSince = now;
    for (const s of this.#stores.values()) {
      metrics.storeSize.set({ ...this.#labels, store: s.name }, s.typed.approximateCount());
    }
  }

  /** Closes the user's task and the stores (which flush; a clean close keeps local state). */
  async close(): Promise<void> {
    try {
      await this.#task?.close?.();
    } finally {
      await this.#closeStores();
    }
  }

  /** Closes the stores without flushing them to the changelog (the task was lost, not revoked). */
  async abandon(): Promise<void> {
    await this.#closeStores(true);
  }

  async #closeStores(engineOnly = false): Promise<void> {
    const stores = [...this.#stores.values()];
    this.#stores.clear();
    this.#sourceStores.clear();
    this.#routes.clear();
    for (const s of stores) await (engineOnly ? s.engine : s.typed).close().catch(() => {});
  }
}
