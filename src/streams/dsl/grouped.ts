/*
 * Grouped streams and their aggregations: `count`, `reduce` and `aggregate`, either per key
 * (a table kept in a changelog-backed store) or per key and window (windowed tables with
 * watermarks, grace, late side output and update/final emit).
 */
import { longSerde } from '../serdes/numbers.js';
import type { Serde } from '../serdes/serde.js';
import { node } from './graph.js';
import type { KStream } from './stream.js';
import { KTable, type MaterializedStore } from './table.js';
import { type Aggregation, type EmitMode, WindowAggregator } from './window-aggregator.js';
import type { Windowed, WindowSpec } from './windows.js';

/** Options of an aggregation. */
export interface AggregateOptions {
  /** Store name (default: the operator's name); also the interactive-query name. */
  readonly name?: string;
}

/** Options of a windowed aggregation. */
export interface WindowedAggregateOptions extends AggregateOptions {
  /** `update` (default): every change; `final`: once per window, when it closes. */
  readonly emit?: EmitMode;
}

/** A stream grouped by key, ready to aggregate. */
export class GroupedStream<K, V> {
  readonly #stream: KStream<K, V>;
  readonly #key: Serde<K>;
  readonly #value: Serde<V> | undefined;

  /** @internal */
  constructor(stream: KStream<K, V>, key: Serde<K>, value: Serde<V> | undefined) {
    this.#stream = stream;
    this.#key = key;
    this.#value = value;
  }

  /** Records per key. */
  count(options: AggregateOptions = {}): KTable<K, number> {
    return this.aggregate(
      () => 0,
      (n) => n + 1,
      longSerde,
      options,
    );
  }

  /** Combines the values of each key with `reducer`. */
  reduce(reducer: (a: V, b: V) => V, options: AggregateOptions = {}): KTable<K, V> {
    const serde = this.#value;
    if (serde === undefined) throw new TypeError('reduce needs the value serde (groupByKey)');
    return this.#aggregate(
      'reduce',
      {
        init: () => undefined as V | undefined,
        add: (a, _k, v) => (a === undefined ? v : reducer(a, v)),
      },
      serde,
      options,
    ) as KTable<K, V>;
  }

  /** Folds the values of each key into an aggregate. */
  aggregate<A>(
    init: () => A,
    add: (aggregate: A, value: V, key: K) => A,
    serde: Serde<A>,
    options: AggregateOptions = {},
  ): KTable<K, A> {
    return this.#aggregate('aggregate', { init, add: (a, k, v) => add(a, v, k) }, serde, options);
  }

  #aggregate<A>(
    kind: string,
    aggregation: Aggregation<K, V, A>,
    serde: Serde<A>,
    options: AggregateOptions,
  ): KTable<K, A> {
    const app = this.#stream.app;
    const name = app.name(kind, options.name);
    const keySerde = this.#key;
    const store: MaterializedStore<K, A> = { name, keySerde, valueSerde: serde, windowed: false };
    const n = app.add(
      this.#stream.node,
      node({
        name,
        kind,
        stores: [{ name, role: `${kind} by key` }],
        create: (rt, emit) => {
          const s = rt.store(name);
          return {
            process(r) {
              if (r.key === null || r.key === undefined) return; // no key, no group
              const k = keySerde.serialize(r.key as K);
              const old = s.get(k);
              const a = aggregation.add(
                old === undefined ? aggregation.init() : serde.deserialize(old),
                r.key as K,
                r.value as V,
              );
              s.put(k, serde.serialize(a));
              emit({ key: r.key, value: a, timestamp: r.timestamp });
            },
          };
        },
      }),
    );
    return new KTable<K, A>(app, n, { key: keySerde, value: serde }, store);
  }

  /** Aggregates per key and window. */
  windowedBy(windows: WindowSpec): WindowedGroupedStream<K, V> {
    return new WindowedGroupedStream(this.#stream, this.#key, this.#value, windows);
  }
}

/** A grouped stream with windows, ready to aggregate per key and window. */
export class WindowedGroupedStream<K, V> {
  readonly #stream: KStream<K, V>;
  readonly #key: Serde<K>;
  readonly #value: Serde<V> | undefined;
  readonly #windows: WindowSpec;

  /** @internal */
  constructor(stream: KStream<K, V>, key: Serde<K>, value: Serde<V> | undefined, w: WindowSpec) {
    this.#stream = stream;
    this.#key = key;
    this.#value = value;
    this.#windows = w;
  }

  /** Records per key and window. */
  count(options: WindowedAggregateOptions = {}): WindowedTable<K, number> {
    return this.#aggregate(
      'window-count',
      { init: () => 0, add: (n) => n + 1, merge: (a, b) => a + b },
      longSerde,
      options,
    );
  }

  /** Combines the values of each key and window. */
  reduce(reducer: (a: V, b: V) => V, options: WindowedAggregateOptions = {}): WindowedTable<K, V> {
    const serde = this.#value;
    if (serde === undefined) throw new TypeError('reduce needs the value serde (groupByKey)');
    const add = (a: V | undefined, _k: K, v: V): V => (a === undefined ? v : reducer(a, v));
    return this.#aggregate(
      'window-reduce',
      {
        init: () => undefined as V | undefined,
        add,
        merge: (a, b) => (a === undefined ? b : b === undefined ? a : reducer(a, b)),
      },
      serde as Serde<V | undefined>,
      options,
    ) as WindowedTable<K, V>;
  }

  /** Folds the values of each key and window; sessions also need `merge`. */
  aggregate<A>(
    init: () => A,
    add: (aggregate: A, value: V, key: K) => A,
    serde: Serde<A>,
    options: WindowedAggregateOptions & { merge?: (a: A, b: A) => A } = {},
  ): WindowedTable<K, A> {
    return this.#aggregate(
      'window-aggregate',
      { init, add: (a, k, v) => add(a, v, k), merge: options.merge },
      serde,
      options,
    );
  }

  #aggregate<A>(
    kind: string,
    aggregation: Aggregation<K, V, A>,
    serde: Serde<A>,
    options: WindowedAggregateOptions,
  ): WindowedTable<K, A> {
    const app = this.#stream.app;
    const name = app.name(kind, options.name);
    const windows = this.#windows;
    const keySerde = this.#key;
    const emitMode = options.emit ?? 'update';
    if (windows.kind === 'session' && aggregation.merge === undefined) {
      throw new TypeError('session windows need a merge function');
    }
    const describeWindows =
      windows.kind === 'time'
        ? `size ${windows.size} ms, advance ${windows.advance} ms`
        : `session gap ${windows.gap} ms`;
    const n = app.add(
      this.#stream.node,
      node({
        name,
        kind,
        stores: [
          {
            name,
            role: `windows (${describeWindows}, grace ${windows.grace} ms, emit ${emitMode})`,
          },
        ],
        create: (rt, emit, emitLate) => {
          const aggregator = new WindowAggregator<K, V, A>({
            store: rt.store(name),
            windows,
            keySerde,
            aggregateSerde: serde,
            aggregation,
            emit: emitMode,
            forward: (key, value, timestamp) => emit({ key, value, timestamp }),
            late: (key, value, timestamp) => emitLate({ key, value, timestamp }),
          });
          return {
            process(r) {
              if (r.key === null || r.key === undefined) return;
              aggregator.process(r.key as K, r.value as V, r.timestamp, rt.watermark);
              aggregator.advance(rt.watermark);
            },
            advance: (wm) => aggregator.advance(wm),
          };
        },
      }),
    );
    const store: MaterializedStore<K, A> = { name, keySerde, valueSerde: serde, windowed: true };
    return new WindowedTable<K, A>(app, n, { value: serde }, store, this.#value, keySerde);
  }
}

/** A windowed aggregation's results, and its late records. */
export class WindowedTable<K, A> extends KTable<Windowed<K>, A> {
  readonly #lateValue: Serde<unknown> | undefined;
  readonly #lateKey: Serde<K>;

  /** @internal */
  constructor(
    app: ConstructorParameters<typeof KTable>[0],
    n: ConstructorParameters<typeof KTable>[1],
    serdes: { value: Serde<A> },
    store: MaterializedStore<K, A>,
    lateValue: Serde<unknown> | undefined,
    lateKey: Serde<K>,
  ) {
    super(app, n, serdes, store as unknown as MaterializedStore<Windowed<K>, A>);
    this.#lateValue = lateValue;
    this.#lateKey = lateKey;
  }

  /** The records that arrived after (one of) their windows closed: the late side output. */
  late<V = unknown>(): KStream<K, V> {
    const app = this.app;
    const n = node({
      name: app.name('late', undefined),
      kind: 'late',
      create: (_rt, emit) => ({ process: emit }),
    });
    this.node.lateChildren.push(n);
    app.register(n);
    return app.streamOf<K, V>(n, {
      key: this.#lateKey,
      value: this.#lateValue as Serde<V> | undefined,
    });
  }
}
