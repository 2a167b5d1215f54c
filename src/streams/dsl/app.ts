/*
 * The high-level API's entry point, after Samza's StreamApplication and Kafka Streams'
 * StreamsBuilder: `streamsApp({ id })` collects sources and operators into a graph, and
 * `toJob()` compiles the graph into the same JobDefinition the low-level runtime runs.
 *
 * ```ts
 * const app = streamsApp({ id: 'page-view-counts', outOfOrderness: 5_000 });
 * app.stream('page-views', { key: stringSerde, value: jsonSerde<View>() })
 *   .groupByKey()
 *   .windowedBy(tumblingWindows(60_000, { grace: 10_000 }))
 *   .count({ emit: 'final' })
 *   .toStream()
 *   .sendTo('view-counts', { key: windowedSerde(stringSerde), value: longSerde });
 * export default app.toJob();
 * ```
 */
import type { AnyJob } from '../job.js';
import type { Serde } from '../serdes/serde.js';
import { compileApp } from './compile.js';
import { type InputDecl, node, type OpNode } from './graph.js';
import { KStream, type StreamSerdes } from './stream.js';
import { KTable, type MaterializedStore } from './table.js';

/** Options of a streams app. */
export interface StreamsAppOptions {
  /** The job id: consumer group, prefix of changelog and repartition topics. */
  readonly id: string;
  /** Allowed out-of-orderness of event time, ms (default 0). */
  readonly outOfOrderness?: number;
  /** An input partition without records for this long stops holding the watermark (default 30 s). */
  readonly idleTimeoutMs?: number;
  /** Job config (see JobDefinition.config); `task.window.ms` defaults to 1000 here. */
  readonly config?: Readonly<Record<string, string>>;
}

/** Options of a source stream. */
export interface SourceOptions<K, V> {
  /** Event time of a record (default: the record's timestamp). */
  readonly timestamp?: (key: K | null, value: V | null, recordTimestamp: number) => number;
}

/** A pair of co-partitioned graph nodes, for `describe` and the runtime check. */
export interface Copartition {
  readonly operator: string;
  readonly a: OpNode;
  readonly b: OpNode;
}

const NAME = /^[A-Za-z0-9._-]+$/;

/** A high-level streams application. */
export class StreamsApp {
  readonly options: StreamsAppOptions;
  /** Every node, in creation order. */
  readonly nodes: OpNode[] = [];
  /** Source nodes by topic. */
  readonly sources = new Map<string, OpNode>();
  readonly copartitions: Copartition[] = [];
  /** Tables kept in stores, by store name: what interactive queries serve. */
  readonly materialized = new Map<string, MaterializedStore<unknown, unknown>>();
  readonly #names = new Set<string>();
  #counter = 0;

  constructor(options: StreamsAppOptions) {
    if (!NAME.test(options.id)) throw new TypeError(`job id "${options.id}" is not a topic name`);
    this.options = options;
  }

  /** A stream read from `topic`. */
  stream<K, V>(
    topic: string,
    serdes: StreamSerdes<K, V>,
    options: SourceOptions<K, V> = {},
  ): KStream<K, V> {
    return new KStream<K, V>(this, this.#source(topic, serdes, options, 'stream'), serdes);
  }

  /**
   * A table from a (compacted) topic: the latest value per key, materialized in the store
   * `name` (default: the topic), null values deleting keys. The topic is the store's changelog
   * (no second copy): restore replays it, and a task without a checkpoint reads it from the
   * start whatever the reset policy.
   */
  table<K, V>(
    topic: string,
    serdes: StreamSerdes<K, V>,
    options: { name?: string } = {},
  ): KTable<K, V> {
    const source = this.#source(topic, serdes, {}, 'table');
    const name = this.name('table', options.name ?? topic.replace(/[^A-Za-z0-9._-]/g, '_'));
    const n = this.add(
      source,
      node({
        name,
        kind: 'table',
        stores: [{ name, role: `table of ${topic}`, sourceTopic: topic }],
        // The runtime keeps the store from the topic (its changelog) before the record gets
        // here: the operator only passes the change on.
        create: (_rt, emit) => ({
          process(r) {
            if (r.key === null || r.key === undefined) return;
            emit(r);
          },
        }),
      }),
    );
    return new KTable<K, V>(this, n, serdes, {
      name,
      keySerde: serdes.key,
      valueSerde: serdes.value,
      windowed: false,
    });
  }

  #source<K, V>(
    topic: string,
    serdes: StreamSerdes<K, V>,
    options: SourceOptions<K, V>,
    role: string,
  ): OpNode {
    const existing = this.sources.get(topic);
    if (existing !== undefined) return existing;
    const name = this.name('source', undefined);
    const input: InputDecl & { timestampOf?: SourceOptions<K, V>['timestamp'] } = {
      name,
      topic,
      keySerde: serdes.key as Serde<unknown>,
      valueSerde: serdes.value as Serde<unknown>,
      role,
      timestampOf: options.timestamp,
    };
    const n = node({ name, kind: 'source', input, create: (_rt, emit) => ({ process: emit }) });
    this.register(n);
    this.sources.set(topic, n);
    return n;
  }

  /** @internal Re-keys through `<id>-<op>-repartition`; see `KStream.partitionBy`. */
  repartition<K, V, K2>(
    stream: KStream<K, V>,
    keyFn: (key: K, value: V) => K2,
    serdes: StreamSerdes<K2, V>,
    given: string | undefined,
  ): KStream<K2, V> {
    const op = this.name('partition-by', given);
    const topic = `${this.options.id}-${op}-repartition`;
    const positions = `${op}-positions`;
    this.add(
      stream.node,
      node({
        name: op,
        kind: 'partition-by',
        outputs: [
          {
            name: op,
            topic,
            keySerde: serdes.key as Serde<unknown>,
            valueSerde: serdes.value as Serde<unknown>,
            partitions: 'tasks',
          },
        ],
        create: (rt) => {
          // Each record carries its position (source topic/partition, offset, index) so the
          // reading side can drop what a replay after a crash sends a second time.
          let lastOffset = -1;
          let lastTopic = '';
          let index = 0;
          return {
            process(r) {
              const env = rt.envelope;
              const key = keyFn(r.key as K, r.value as V);
              if (env === undefined) {
                rt.send(op, key, r.value, r.timestamp);
                return;
              }
              if (env.offset !== lastOffset || env.topic !== lastTopic) index = 0;
              lastOffset = env.offset;
              lastTopic = env.topic;
              const position = `${env.topic}:${env.partition}:${env.offset}:${index++}`;
              rt.send(op, key, r.value, r.timestamp, [
                { key: POSITION_HEADER, value: Buffer.from(position) },
              ]);
            },
          };
        },
      }),
    );
    const source = this.#source(topic, serdes, {}, 'repartition');
    const dedup = this.add(
      source,
      node({
        name: `${op}-dedup`,
        kind: 'dedup',
        stores: [{ name: positions, role: 'last position read per upstream partition' }],
        create: (rt, emit) => {
          const store = rt.store(positions);
          return {
            process(r) {
              const header = rt.envelope?.headers.find((h) => h.key === POSITION_HEADER);
              if (header?.value) {
                const text = header.value.toString();
                const cut = text.lastIndexOf(':', text.lastIndexOf(':') - 1);
                const from = Buffer.from(text.slice(0, cut));
                const [offset, index] = text
                  .slice(cut + 1)
                  .split(':')
                  .map(Number) as [number, number];
                const last = store.get(from);
                if (last !== undefined) {
                  const lo = last.readDoubleBE(0);
                  const li = last.readDoubleBE(8);
                  if (offset < lo || (offset === lo && index <= li)) return; // replayed
                }
                const next = Buffer.allocUnsafe(16);
                next.writeDoubleBE(offset, 0);
                next.writeDoubleBE(index, 8);
                store.put(from, next);
              }
              emit(r);
            },
          };
        },
      }),
    );
    return new KStream<K2, V>(this, dedup, serdes);
  }

  /** @internal Records that `a` and `b` must be co-partitioned for operator `operator`. */
  copartitioned(a: OpNode, b: OpNode, operator: string): void {
    this.copartitions.push({ operator, a, b });
  }

  /** @internal A unique operator name: `given`, or `<kind>-<n>`. */
  name(kind: string, given: string | undefined): string {
    const name = given ?? `${kind}-${this.#counter++}`;
    if (!NAME.test(name)) throw new TypeError(`operator name "${name}" is not a topic name`);
    if (this.#names.has(name)) throw new TypeError(`operator name "${name}" is used twice`);
    this.#names.add(name);
    return name;
  }

  /** @internal Adds `child` under `parent`. */
  add(parent: OpNode, child: OpNode): OpNode {
    parent.children.push(child);
    this.register(child);
    return child;
  }

  /** @internal */
  register(n: OpNode): void {
    if (!this.nodes.includes(n)) this.nodes.push(n);
  }

  /** @internal */
  streamOf<K, V>(n: OpNode, serdes: Partial<StreamSerdes<K, V>>): KStream<K, V> {
    return new KStream<K, V>(this, n, serdes);
  }

  /** Compiles the graph into a job for the runtime (`brook job run`). */
  toJob(): AnyJob {
    return compileApp(this);
  }
}

/** The header carrying a repartitioned record's upstream position. */
export const POSITION_HEADER = 'brook.position';

/** Starts a streams app. */
export function streamsApp(options: StreamsAppOptions): StreamsApp {
  return new StreamsApp(options);
}
