/*
 * Compiles a streams app's graph into a JobDefinition: one execution engine for both APIs. The
 * job's inputs are the graph's source topics, its outputs the sinks and repartition topics, its
 * stores every operator's store plus `watermarks`; its task creates one processor per node and
 * routes each envelope from its source node through the graph. `window()` (every
 * `task.window.ms`) re-evaluates idle partitions and lets windows close and join buffers expire
 * even when no record arrives.
 */
import type {
  AnyJob,
  CopartitionGroup,
  IncomingEnvelope,
  Inputs,
  MessageCollector,
  Outputs,
  StoreSpec,
  StreamTask,
  TaskContext,
} from '../job.js';
import { bytesSerde, stringSerde } from '../serdes/basic.js';
import { longSerde } from '../serdes/numbers.js';
import type { KeyValueStore } from '../stores/key-value-store.js';
import type { StreamsApp } from './app.js';
import { DESCRIPTION, describeGraph, sourceTopic } from './describe.js';
import type { Emit, InputDecl, OpNode, Processor, Rec, TaskRuntime } from './graph.js';
import { registerTask, unregisterTask } from './task-registry.js';
import { WatermarkTracker } from './watermarks.js';
import { startQueryServerFromConfig } from '../query/from-config.js';

/** The store keeping each input partition's largest timestamp and the task watermark. */
export const WATERMARK_STORE = 'watermarks';

type AnyStores = Record<string, StoreSpec<unknown, unknown>>;

/** The job the runtime runs for `app`. */
export function compileApp(app: StreamsApp): AnyJob {
  const inputs: Record<string, { topic: string; keySerde: unknown; valueSerde: unknown }> = {};
  const outputs: Record<string, unknown> = {};
  const stores: AnyStores = {
    [WATERMARK_STORE]: { keySerde: stringSerde, valueSerde: longSerde, cacheSize: 1000 },
  };
  for (const n of app.nodes) {
    if (n.input !== undefined) {
      inputs[n.input.name] = {
        topic: n.input.topic,
        keySerde: n.input.keySerde,
        valueSerde: n.input.valueSerde,
      };
    }
    for (const o of n.outputs) {
      outputs[o.name] = {
        topic: o.topic,
        keySerde: o.keySerde,
        valueSerde: o.valueSerde,
        ...(o.partitions === undefined ? {} : { partitions: o.partitions }),
      };
    }
    for (const s of n.stores) {
      stores[s.name] = {
        keySerde: bytesSerde,
        valueSerde: bytesSerde,
        engine: s.inMemory === true ? 'in-memory' : 'persistent',
        ...(s.sourceTopic === undefined ? {} : { sourceTopic: s.sourceTopic }),
      };
    }
  }
  if (Object.keys(inputs).length === 0) throw new TypeError('the app reads no stream');
  // The joins' inputs, checked by the container at start (the runtime knows no operators).
  const copartitioned: CopartitionGroup[] = [];
  for (const c of app.copartitions) {
    const names = [sourceTopic(app, c.a), sourceTopic(app, c.b)].map(
      (topic) => app.sources.get(topic)?.input?.name,
    );
    if (names[0] !== undefined && names[1] !== undefined && names[0] !== names[1]) {
      copartitioned.push({ inputs: names as string[], by: c.operator });
    }
  }
  const job = {
    id: app.options.id,
    inputs: inputs as Inputs,
    outputs: outputs as Outputs,
    stores,
    config: { 'task.window.ms': '1000', ...app.options.config },
    copartitioned,
    task: () => new DslTask(app),
  };
  // Plain data for `brook job describe`, under a registered symbol (not part of the job model).
  Object.defineProperty(job, DESCRIPTION, { value: describeGraph(app), enumerable: false });
  return job;
}

/** The compiled task: the graph's processors for one task. */
export class DslTask implements StreamTask<Inputs, Outputs, AnyStores>, TaskRuntime {
  readonly #app: StreamsApp;
  readonly #processors = new Map<OpNode, Processor>();
  readonly #advancing: Processor[] = [];
  /** Per input topic: its node, its declaration and the name its watermark is kept under. */
  #sources = new Map<string, { node: OpNode; input: InputDecl; partitionName: string }>();
  #context!: TaskContext<AnyStores>;
  #tracker!: WatermarkTracker;
  #collector: MessageCollector<Outputs> | undefined;
  envelope: TaskRuntime['envelope'];

  constructor(app: StreamsApp) {
    this.#app = app;
  }

  get jobId(): string {
    return this.#context.jobId;
  }

  get partition(): number {
    return this.#context.partition;
  }

  get watermark(): number {
    return this.#tracker.watermark;
  }

  store(name: string): KeyValueStore<Buffer, Buffer> {
    return this.#context.getStore(name) as KeyValueStore<Buffer, Buffer>;
  }

  send(
    output: string,
    key: unknown,
    value: unknown,
    timestamp: number,
    headers?: { key: string; value: Buffer | null }[],
  ): void {
    const collector = this.#collector;
    if (collector === undefined) throw new Error('send outside process/window');
    collector.send(output, {
      key,
      value,
      timestamp,
      ...(headers === undefined ? {} : { headers }),
    });
  }

  init(context: TaskContext<AnyStores>): void {
    this.#context = context;
    const state = context.getStore(WATERMARK_STORE) as KeyValueStore<string, number>;
    this.#tracker = new WatermarkTracker(
      {
        outOfOrderness: this.#app.options.outOfOrderness ?? 0,
        idleTimeoutMs: this.#app.options.idleTimeoutMs ?? 30_000,
      },
      { get: (k) => state.get(k), set: (k, v) => state.put(k, v) },
    );
    const emitTo = (children: OpNode[]): Emit => {
      if (children.length === 1) {
        const only = children[0]!;
        return (rec: Rec) => this.#processors.get(only)!.process(rec);
      }
      return (rec: Rec) => {
        for (const c of children) this.#processors.get(c)!.process(rec);
      };
    };
    for (const n of this.#app.nodes) {
      const p = n.create(this, emitTo(n.children), emitTo(n.lateChildren));
      this.#processors.set(n, p);
      if (p.advance !== undefined) this.#advancing.push(p);
      if (n.input !== undefined) {
        const partitionName = `${n.input.topic}-${context.partition}`;
        this.#sources.set(n.input.topic, { node: n, input: n.input, partitionName });
        // A table's topic is state, not events: it does not hold the watermark back.
        if (n.input.role !== 'table') this.#tracker.register(partitionName);
      }
    }
    registerTask(context.jobId, context.partition, this);
    startQueryServerFromConfig(this.#app, context.jobId, context.config);
  }

  process(envelope: IncomingEnvelope<Inputs>, collector: MessageCollector<Outputs>): void {
    const source = this.#sources.get(envelope.topic);
    if (source === undefined) return;
    this.#collector = collector;
    this.envelope = envelope;
    const extract = (
      source.input as { timestampOf?: (k: unknown, v: unknown, t: number) => number }
    ).timestampOf;
    const timestamp =
      extract === undefined
        ? envelope.timestamp
        : extract(envelope.key, envelope.value, envelope.timestamp);
    const advanced =
      source.input.role !== 'table' && this.#tracker.observe(source.partitionName, timestamp);
    this.#processors
      .get(source.node)!
      .process({ key: envelope.key, value: envelope.value, timestamp });
    if (advanced) this.#advance();
    this.envelope = undefined;
  }

  /** The watermark state goes to its store with each checkpoint, not with each record. */
  beforeCommit(): void {
    this.#tracker.persist();
  }

  close(): void {
    unregisterTask(this.jobId, this.partition, this);
  }

  /** The app this task runs. */
  get app(): StreamsApp {
    return this.#app;
  }

  window(collector: MessageCollector<Outputs>): void {
    this.#collector = collector;
    this.#tracker.tick();
    this.#advance();
  }

  #advance(): void {
    const wm = this.#tracker.watermark;
    for (const p of this.#advancing) p.advance!(wm);
  }
}
