/*
 * A container: one process running some of a job's tasks. It joins the consumer group named
 * after the job (the task assignor deals whole tasks to containers), restores each assigned
 * task's stores to its checkpoint, runs the tasks, and commits checkpoints: every store flushed
 * and its changelog acknowledged, every output acknowledged, then the input offsets committed
 * with the changelog offsets in their metadata, in one OffsetCommit. Tasks the group takes away
 * without a clean revoke (this container was a zombie) are fenced at once and abandoned.
 */
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import {
  Admin,
  type ClientOptions,
  ConnectionError,
  Consumer,
  type ConsumerBatch,
  KafkaError,
  Producer,
  TimeoutError,
  type TopicPartition,
  type TopicPartitionOffset,
} from '../../client/index.js';
import { CommitFailedError } from '../../client/consumer/consumer.js';
import type { AnyJob, Inputs, MessageCollector, Outputs, Stores, TaskCoordinator } from '../job.js';
import { validateStoreNames } from '../stores/state-dir.js';
import { DEFAULT_STATE_DIR, taskNameForPartition } from '../types.js';
import { decodeCheckpointMetadata, encodeCheckpointMetadata } from './checkpoint.js';
import { type RuntimeConfig, resolveRuntimeConfig } from './config.js';
import { ContainerMetrics, startMetricsServer } from './metrics.js';
import { SendTracker } from './changelog-io.js';
import { OutputBuffer } from './output-buffer.js';
import { taskAssignor } from './task-assignor.js';
import { TaskFence, TaskLostError } from './task-fence.js';
import { TaskInstance } from './task-instance.js';
import { changelogTopics, createJobTopics, validateSourceTopics } from './topics.js';

/** How a container is started (what `brook job run` passes). */
export interface ContainerOptions {
  readonly bootstrapServers: string;
  /** Overrides the job's id (the group and changelog names). */
  readonly jobId?: string;
  /** Default `./brook-state`. */
  readonly stateDir?: string;
  /** Config keys on top of the job's own. */
  readonly config?: Readonly<Record<string, string>>;
  /** Port of the Prometheus /metrics endpoint: undefined for none, 0 for any free port. */
  readonly metricsPort?: number;
  readonly logger?: Logger;
}

/**
 * Unacknowledged produce calls (outputs of up to 1024 records, changelog chunks of up to 2048)
 * before polling pauses.
 */
const MAX_PRODUCE_CALLS = 256;

/** Batches a task may have waiting behind an asynchronous `process` before polling pauses. */
const MAX_QUEUED_BATCHES = 4;

/** Runs a job's tasks in this process. */
export class Container {
  readonly job: AnyJob;
  readonly jobId: string;
  readonly logger: Logger;
  readonly metrics: ContainerMetrics;
  readonly #options: ContainerOptions;
  readonly #jobConfig: Readonly<Record<string, string>>;
  readonly #runtime: RuntimeConfig;
  readonly #client: ClientOptions;
  readonly #tasks = new Map<number, TaskInstance>();
  /** Tasks restoring (until running, closed or abandoned). */
  readonly #starting = new Map<TaskInstance, Promise<void>>();
  readonly #ready = new Set<TaskInstance>();
  /** Every task not yet closed or abandoned, lost ones included, with its fence. */
  readonly #fences = new Map<TaskInstance, TaskFence>();
  readonly #inputByTopic = new Map<string, string>();
  /** Inputs that tables are kept from (`StoreSpec.sourceTopic`): read from the start. */
  readonly #tableTopics = new Set<string>();
  #admin: Admin | undefined;
  #producer: Producer | undefined;
  #consumer: Consumer | undefined;
  #outputs: OutputBuffer | undefined;
  /** Produce calls in flight, outputs and changelogs: the back-pressure of the run loop. */
  readonly #sends = new SendTracker();
  /** The checkpoint being written in the background, while processing goes on. */
  #committing: Promise<void> | undefined;
  #metricsServer: Server | undefined;
  #metricsPort: number | undefined;
  #taskCount = 0;
  #stopping = false;
  #commitRequested = false;
  #failure: Error | undefined;
  /** Serializes commits and rebalance callbacks. */
  #lock: Promise<void> = Promise.resolve();

  constructor(job: AnyJob, options: ContainerOptions) {
    this.job = job;
    this.#options = options;
    this.jobId = options.jobId ?? job.id;
    this.#jobConfig = { ...(job.config ?? {}), ...(options.config ?? {}) };
    this.#runtime = resolveRuntimeConfig(this.#jobConfig);
    this.#client = {
      bootstrapServers: options.bootstrapServers,
      clientId: `${this.jobId}-container`,
    };
    this.logger = options.logger ?? pino({ base: { job: this.jobId } });
    this.metrics = new ContainerMetrics(this.jobId);
    for (const store of Object.keys(job.stores)) validateStoreNames(this.jobId, store);
    for (const [name, spec] of Object.entries(job.inputs as Inputs)) {
      if (this.#inputByTopic.has(spec.topic)) {
        throw new TypeError(
          `inputs ${this.#inputByTopic.get(spec.topic)} and ${name} read the same topic ${spec.topic}`,
        );
      }
      this.#inputByTopic.set(spec.topic, name);
    }
    if (this.#inputByTopic.size === 0) throw new TypeError(`job ${this.jobId} declares no inputs`);
    validateSourceTopics(job, this.jobId);
    for (const spec of Object.values(job.stores as Stores)) {
      if (spec.sourceTopic !== undefined) this.#tableTopics.add(spec.sourceTopic);
    }
  }

  /** The bound port of /metrics, once running (undefined when off). */
  get metricsPort(): number | undefined {
    return this.#metricsPort;
  }

  /** Asks the container to commit, close its tasks and leave the group. */
  shutdown(): void {
    this.#stopping = true;
  }

  /** Runs until `shutdown()` (or a task's `coordinator.shutdown()`); rejects on failure. */
  async run(): Promise<void> {
    const { logger } = this;
    try {
      await this.#setUp();
      logger.info(
        { event: 'container-started', tasks: this.#taskCount, metricsPort: this.#metricsPort },
        `job ${this.jobId}: container started`,
      );
      await this.#loop();
      await this.#lockWith(() => this.#commitAll());
      await this.#closeTasks();
      logger.info({ event: 'container-stopped' }, `job ${this.jobId}: container stopped`);
    } catch (error) {
      logger.error(
        { event: 'container-failed', err: error },
        `job ${this.jobId} failed: ${(error as Error).message}`,
      );
      for (const task of this.#fences.keys()) await task.abandon().catch(() => {});
      this.#tasks.clear();
      this.#fences.clear();
      throw error;
    } finally {
      await this.#consumer?.close().catch(() => {});
      await this.#producer?.close().catch(() => {});
      await this.#admin?.close().catch(() => {});
      if (this.#metricsServer !== undefined) {
        await new Promise<void>((resolve) => this.#metricsServer!.close(() => resolve()));
      }
    }
  }

  async #setUp(): Promise<void> {
    const job = this.job;
    const admin = new Admin(this.#client);
    this.#admin = admin;
    if (this.#options.metricsPort !== undefined) {
      const m = await startMetricsServer(this.metrics.registry, this.#options.metricsPort);
      this.#metricsServer = m.server;
      this.#metricsPort = m.port;
    }
    this.#taskCount = await createJobTopics(admin, this.job, this.jobId, this.logger);

    const producer = new Producer({
      ...this.#client,
      acks: 'all',
      lingerMs: this.#runtime.lingerMs,
      batchSize: this.#runtime.batchSize,
    });
    this.#producer = producer;
    await producer.connect();
    // Topic metadata up front, so that sends enqueue at once and keep their order.
    const outputTopics = Object.values(job.outputs as Outputs).map((o) => o.topic);
    for (const topic of [...outputTopics, ...changelogTopics(this.job, this.jobId)]) {
      await producer.cluster.waitForTopic(topic, 30_000);
    }
    this.#outputs = new OutputBuffer(producer, (error) => this.#fail(error), this.#sends);

    const consumer = new Consumer({
      ...this.#client,
      groupId: this.jobId,
      enableAutoCommit: false,
      autoOffsetReset: this.#runtime.reset,
      partitionAssignors: [taskAssignor],
      sessionTimeoutMs: this.#runtime.sessionTimeoutMs,
      heartbeatIntervalMs: this.#runtime.heartbeatIntervalMs,
      rebalanceListener: {
        onAssigned: (tps) => this.#lockWith(() => this.#onAssigned(tps)),
        onRevoked: (tps) => this.#lockWith(() => this.#onRevoked(tps)),
        // Fenced at once, before anything else runs: in-flight processing of a lost task must
        // not write any more, and a rejoin may hand the same partitions to a new task meanwhile.
        onLost: (tps) => {
          const lost = this.#fence(tps);
          return this.#lockWith(() => this.#abandon(lost));
        },
      },
    });
    this.#consumer = consumer;
    consumer.subscribe([...this.#inputByTopic.keys()]);
  }

  #collector(): MessageCollector<Outputs> {
    const outputs = this.job.outputs as Outputs;
    const buffer = this.#outputs!;
    return {
      send: (stream, message) => {
        const spec = outputs[stream];
        if (spec === undefined)
          throw new TypeError(`job ${this.jobId} declares no output "${stream}"`);
        const key = message.key;
        buffer.add(spec.topic, {
          key: key === null || key === undefined ? null : spec.keySerde.serialize(key),
          value: message.value === null ? null : spec.valueSerde.serialize(message.value),
          partition: message.partition,
          timestamp: message.timestamp,
          headers: message.headers,
        });
      },
    };
  }

  #coordinator(): TaskCoordinator {
    return {
      commit: () => {
        this.#commitRequested = true;
      },
      shutdown: () => {
        this.#stopping = true;
      },
    };
  }

  async #loop(): Promise<void> {
    const consumer = this.#consumer!;
    const outputs = this.#outputs!;
    const sends = this.#sends;
    const { commitMs, windowMs } = this.#runtime;
    let nextCommit = Date.now() + commitMs;
    let nextWindow = windowMs > 0 ? Date.now() + windowMs : Number.POSITIVE_INFINITY;
    while (!this.#stopping) {
      if (this.#failure !== undefined) throw this.#failure;
      // A due commit does not shorten the wait while the previous one is in flight: a loop that
      // never waits would run on microtasks alone and starve the I/O that commit waits for.
      const commitAt = this.#committing === undefined ? nextCommit : Number.POSITIVE_INFINITY;
      const wait = Math.max(0, Math.min(100, commitAt - Date.now(), nextWindow - Date.now()));
      const batch = await consumer.poll(wait);
      if (batch !== undefined) this.#dispatch(batch);
      outputs.send();
      if (sends.size > MAX_PRODUCE_CALLS) await sends.waitBelow(MAX_PRODUCE_CALLS / 2);
      for (const task of this.#ready) {
        if (task.queued >= MAX_QUEUED_BATCHES && task.pending !== undefined) await task.pending;
      }
      const now = Date.now();
      // One checkpoint at a time; a due one waits for the one in flight instead of piling up.
      if ((this.#commitRequested || now >= nextCommit) && this.#committing === undefined) {
        this.#commitRequested = false;
        this.#commitInBackground();
        nextCommit = Date.now() + commitMs;
      }
      if (now >= nextWindow) {
        await this.#windowAll();
        nextWindow = Date.now() + windowMs;
      }
    }
    await this.#committing;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Starts a checkpoint of every ready task and returns at once: processing goes on while the
   * producer acknowledges what the checkpoint covers (see {@link Container.#commitAll}).
   */
  #commitInBackground(): void {
    const committing = this.#lockWith(() => this.#commitAll()).then(
      () => {},
      (error: unknown) => this.#fail(error),
    );
    this.#committing = committing;
    void committing.finally(() => {
      if (this.#committing === committing) this.#committing = undefined;
    });
  }

  #dispatch(batch: ConsumerBatch): void {
    const task = this.#tasks.get(batch.partition);
    if (task === undefined || !this.#ready.has(task)) return;
    const labels = { job: this.jobId, task: task.name };
    const reader = batch.reader();
    if (task.pending === undefined) {
      const result = task.processRecords(batch.topic, reader);
      if (result !== undefined) this.#track(task, result);
    } else {
      task.queued++;
      this.#track(
        task,
        task.pending.then(() => {
          task.queued--;
          return task.processRecords(batch.topic, reader);
        }),
      );
    }
    this.metrics.processed.inc(labels, task.takeProcessedCount());
    this.metrics.inputLag.set(
      { ...labels, topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, batch.highWatermark - batch.nextOffset),
    );
  }

  #track(task: TaskInstance, work: Promise<void>): void {
    const chained: Promise<void> = work.then(
      () => {
        if (task.pending === chained) task.pending = undefined;
      },
      (error: unknown) => {
        if (task.pending === chained) task.pending = undefined;
        this.#fail(error);
      },
    );
    task.pending = chained;
  }

  #fail(error: unknown): void {
    this.#failure ??= error instanceof Error ? error : new Error(String(error));
    this.#stopping = true;
  }

  async #windowAll(): Promise<void> {
    for (const task of this.#ready) {
      await task.drain();
      await task.window();
    }
  }

  /** Runs `fn` after every earlier locked operation (commits and rebalance callbacks). */
  #lockWith(fn: () => Promise<void>): Promise<void> {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  /**
   * Checkpoints `tasks` (default: every ready task), in Samza's order: outputs and changelogs
   * flushed (acknowledged), then the checkpoint written. What the checkpoint covers is fixed
   * synchronously at the start, once no task has a `process` call in flight: each task's input
   * offsets, its stores' changes (handed to their changelogs by the flush calls) and the outputs
   * so far. Processing may go on during the waits that follow; what it does belongs to the next
   * checkpoint.
   */
  async #commitAll(all: TaskInstance[] = [...this.#ready]): Promise<void> {
    if (all.length === 0) return;
    while (all.some((task) => task.pending !== undefined)) {
      for (const task of all) await task.drain();
    }
    if (this.#failure !== undefined) throw this.#failure;
    // Lost while draining: not this container's to checkpoint any more.
    const tasks = all.filter((task) => !this.#isLost(task));
    if (tasks.length === 0) return;
    // From here to the first await: the snapshot, with the generation it belongs to. The commit
    // goes out under that generation, so that the coordinator refuses it if the group moves on
    // meanwhile, even once this container has rejoined.
    const started = performance.now();
    const member = this.#consumer!.groupMetadata();
    const outputsDone = this.#outputs!.flush();
    const snapshots = tasks.map((task) => ({
      task,
      offsets: [...task.offsets],
      stores: task.flushStores(),
    }));
    const offsets: TopicPartitionOffset[] = [];
    try {
      for (const { task, offsets: inputs, stores } of snapshots) {
        const metadata = encodeCheckpointMetadata(await stores);
        for (const [topic, offset] of inputs) {
          offsets.push({ topic, partition: task.partition, offset, metadata });
        }
      }
      await outputsDone;
    } catch (error) {
      for (const s of snapshots) s.stores.catch(() => {});
      outputsDone.catch(() => {});
      // A task lost meanwhile refuses its changelog writes: there is nothing left to commit.
      if (error instanceof TaskLostError) {
        this.logger.warn(
          { event: 'commit-fenced', err: error },
          `commit dropped: ${error.message}`,
        );
        return;
      }
      throw error;
    }
    const lost = tasks.filter((task) => this.#isLost(task));
    if (lost.length > 0) {
      // The group has moved on from this member: a commit could only be refused.
      this.logger.warn(
        { event: 'commit-fenced', lost: lost.map((t) => t.partition) },
        `commit dropped: tasks ${lost.map((t) => t.partition).join(', ')} were lost meanwhile`,
      );
      return;
    }
    if (offsets.length > 0) {
      try {
        await this.#consumer!.commitSync(offsets, { groupMetadata: member });
      } catch (error) {
        if (error instanceof CommitFailedError) {
          if (error.assignmentLost) {
            // A zombie's checkpoint: the tasks' new owners resume from the previous one. The
            // consumer has given the assignment up (onLost fences and abandons the tasks).
            this.logger.warn(
              { event: 'commit-fenced', err: error },
              `commit refused: ${error.message}`,
            );
          } else {
            // Taken in a generation the group has since replaced (a rebalance completed while
            // the checkpoint waited for acknowledgements): the next checkpoint covers it.
            this.logger.info(
              { event: 'commit-superseded', generation: member.generationId },
              `commit of generation ${member.generationId} superseded by a rebalance`,
            );
          }
          return;
        }
        // A rebalance under way or the coordinator unreachable: the next commit (or the revoke)
        // checkpoints these tasks; the state already flushed stays consistent with the older
        // checkpoint, as a restart would restore to exactly that one.
        if (
          !(
            error instanceof KafkaError ||
            error instanceof ConnectionError ||
            error instanceof TimeoutError
          )
        ) {
          throw error;
        }
        this.logger.warn({ event: 'commit-failed', err: error }, `commit failed: ${error.message}`);
        return;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    for (const task of tasks) {
      this.metrics.commitLatency.observe({ job: this.jobId, task: task.name }, seconds);
      task.updateGauges();
    }
    this.logger.debug({ event: 'committed', tasks: tasks.length, ms: Math.round(seconds * 1000) });
  }

  async #onAssigned(tps: TopicPartition[]): Promise<void> {
    // Only what the consumer still owns: this callback waits for its turn behind the commit and
    // the callbacks before it, and the assignment may have been lost again meanwhile.
    const key = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`;
    const owned = new Set(this.#consumer!.assignedPartitions().map(key));
    const byTask = new Map<number, TopicPartition[]>();
    for (const tp of tps) {
      if (!owned.has(key(tp))) continue;
      const list = byTask.get(tp.partition) ?? [];
      list.push(tp);
      byTask.set(tp.partition, list);
    }
    for (const [partition, list] of byTask) {
      if (this.#tasks.has(partition)) continue;
      // The task's outputs and changelog writes go through its fence, cut if the task is lost.
      const fence = new TaskFence(taskNameForPartition(partition));
      const task = new TaskInstance(
        {
          job: this.job,
          jobId: this.jobId,
          client: this.#client,
          producer: fence.producer(this.#producer!),
          admin: this.#admin!,
          stateDir: this.#options.stateDir ?? DEFAULT_STATE_DIR,
          config: this.#jobConfig,
          logger: this.logger,
          metrics: this.metrics,
          sends: this.#sends,
          collector: fence.collector(this.#collector()),
          coordinator: this.#coordinator(),
          inputByTopic: this.#inputByTopic,
        },
        partition,
      );
      this.#tasks.set(partition, task);
      this.#fences.set(task, fence);
      // No input for this task until its stores are restored; restoring runs in the background
      // so that the group's heartbeats and the other tasks go on meanwhile.
      this.#consumer!.pause(list);
      const starting = this.#startTask(task, list).catch((error: unknown) => {
        // Lost while restoring: its fenced changelog refuses the restore's trimming writes.
        if (fence.lost) {
          this.logger.info(
            { event: 'task-start-abandoned', task: task.name, err: error },
            `task ${task.name} was lost while starting`,
          );
          return;
        }
        this.#fail(error);
      });
      this.#starting.set(task, starting);
      void starting.finally(() => this.#starting.delete(task));
    }
    this.metrics.tasks.set({ job: this.jobId }, this.#tasks.size);
    this.logger.info(
      {
        event: 'tasks-assigned',
        added: [...byTask.keys()],
        tasks: [...this.#tasks.keys()].sort((a, b) => a - b),
      },
      `tasks assigned: ${[...byTask.keys()].join(', ')}`,
    );
  }

  async #startTask(task: TaskInstance, tps: TopicPartition[]): Promise<void> {
    const committed = await this.#admin!.fetchOffsets(this.jobId, tps);
    let checkpoint: Map<string, number> | undefined;
    for (const c of committed) {
      if (c.offset < 0) continue;
      task.offsets.set(c.topic, c.offset);
      checkpoint ??= decodeCheckpointMetadata(c.metadata);
    }
    await task.start(checkpoint);
    if (this.#tasks.get(task.partition) !== task) {
      // Revoked while restoring: closed cleanly. Lost: closed without a write (see #abandon).
      if (this.#isLost(task)) await task.abandon();
      else await task.close();
      return;
    }
    const consumer = this.#consumer!;
    try {
      const fromReset: TopicPartition[] = [];
      const tables: TopicPartition[] = [];
      for (const tp of tps) {
        const offset = task.offsets.get(tp.topic);
        if (offset !== undefined) consumer.seek(tp, offset);
        else if (this.#tableTopics.has(tp.topic)) tables.push(tp);
        else fromReset.push(tp);
      }
      if (fromReset.length > 0) {
        if (this.#runtime.reset === 'earliest') await consumer.seekToBeginning(fromReset);
        else await consumer.seekToEnd(fromReset);
      }
      // A table starts complete whatever the reset policy: without a checkpoint its store is empty.
      if (tables.length > 0) await consumer.seekToBeginning(tables);
      // The start is part of the checkpoint from now on, so that a restart (after `latest`)
      // resumes here, not at a later end.
      for (const tp of [...fromReset, ...tables]) {
        const position = consumer.position(tp);
        if (position !== undefined && !task.offsets.has(tp.topic)) {
          task.offsets.set(tp.topic, position);
        }
      }
    } catch (error) {
      // Revoked while seeking: the revoke closes the task; anything else is a failure.
      if (this.#tasks.get(task.partition) !== task) return;
      throw error;
    }
    if (this.#tasks.get(task.partition) !== task) return;
    this.#ready.add(task);
    consumer.resume(tps);
    this.logger.info(
      {
        event: 'task-running',
        task: task.name,
        positions: Object.fromEntries(tps.map((tp) => [tp.topic, consumer.position(tp) ?? null])),
      },
      `task ${task.name} running`,
    );
  }

  async #onRevoked(tps: TopicPartition[]): Promise<void> {
    const leaving = this.#removeTasks(tps);
    for (const task of leaving) await this.#starting.get(task);
    await this.#commitAll(leaving.filter((t) => this.#ready.has(t)));
    for (const task of leaving) {
      this.#ready.delete(task);
      this.#fences.delete(task);
      await task.close();
    }
    this.#reportRemoved(leaving, 'tasks-revoked', 'tasks revoked');
  }

  /** Takes the tasks of `tps`' partitions out of `#tasks` (no new dispatch) and returns them. */
  #removeTasks(tps: TopicPartition[]): TaskInstance[] {
    const removed: TaskInstance[] = [];
    for (const partition of new Set(tps.map((tp) => tp.partition))) {
      const task = this.#tasks.get(partition);
      if (task === undefined) continue;
      this.#tasks.delete(partition);
      removed.push(task);
    }
    return removed;
  }

  /** The task-count gauge and a log line for tasks that left (revoked or lost). */
  #reportRemoved(
    removed: TaskInstance[],
    event: string,
    what: string,
    level: 'info' | 'warn' = 'info',
  ): void {
    this.metrics.tasks.set({ job: this.jobId }, this.#tasks.size);
    if (removed.length === 0) return;
    this.logger[level](
      {
        event,
        removed: removed.map((t) => t.partition),
        tasks: [...this.#tasks.keys()].sort((a, b) => a - b),
      },
      `${what}: ${removed.map((t) => t.partition).join(', ')}`,
    );
  }

  /** Whether the task was lost (one already abandoned, or closed, is no longer ours either). */
  #isLost(task: TaskInstance): boolean {
    return this.#fences.get(task)?.lost ?? true;
  }

  /**
   * The group took these partitions away without a revoke (onLost: the member's session expired
   * or its generation was refused; another container may run the tasks now). Synchronously, so
   * that nothing runs in between: the tasks leave `#tasks` and `#ready` (no more dispatch, and a
   * rejoin that hands the same partitions back starts new tasks) and their fences are cut (no more
   * outputs or changelog writes, even from processing already under way). Returns the tasks for
   * {@link Container.#abandon}.
   */
  #fence(tps: TopicPartition[]): TaskInstance[] {
    const lost = this.#removeTasks(tps);
    for (const task of lost) {
      this.#ready.delete(task);
      this.#fences.get(task)?.lose();
    }
    this.#reportRemoved(lost, 'tasks-lost', 'tasks lost to another container', 'warn');
    return lost;
  }

  /**
   * Closes fenced tasks "dirty", as Kafka Streams does with lost tasks: no flush, no commit. A
   * restore under way ends first and started processing finishes (it cannot be interrupted; its
   * writes stop at the fence), so that the stores' engines are closed before a task of the same
   * partition opens their folders again (callbacks run in order, this one before any rejoin's).
   */
  async #abandon(lost: TaskInstance[]): Promise<void> {
    for (const task of lost) {
      await this.#starting.get(task);
      await task.drain().catch(() => {});
      await task.abandon();
      task.invalidateLocalState();
      const dropped = this.#fences.get(task)?.dropped ?? 0;
      this.#fences.delete(task);
      this.logger.info(
        { event: 'task-abandoned', task: task.name, droppedOutputs: dropped },
        `task ${task.name} abandoned (${dropped} outputs dropped after the loss)`,
      );
    }
  }

  async #closeTasks(): Promise<void> {
    for (const starting of this.#starting.values()) await starting;
    for (const task of this.#tasks.values()) {
      this.#ready.delete(task);
      this.#fences.delete(task);
      await task.close();
    }
    this.#tasks.clear();
  }
}
