/*
 * KTable: a changelog stream read as the latest value per key. Tables built from a topic and
 * aggregation results are materialized in a store; every change is forwarded downstream as a
 * record whose value is the new value (null: the key was deleted).
 */
import type { Serde } from '../serdes/serde.js';
import type { StreamsApp } from './app.js';
import { node, type OpNode } from './graph.js';
import { KStream, type StreamSerdes } from './stream.js';

/** Where a table's current values live. */
export interface MaterializedStore<K, V> {
  readonly name: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  /** A windowed aggregation's store (window layout, see WindowAggregator). */
  readonly windowed: boolean;
}

/** A table: the latest value per key. */
export class KTable<K, V> {
  /** @internal */
  readonly app: StreamsApp;
  /** @internal */
  readonly node: OpNode;
  readonly serdes: Partial<StreamSerdes<K, V>>;
  /** The store holding the table, when materialized. */
  readonly store: MaterializedStore<K, V> | undefined;

  /** @internal */
  constructor(
    app: StreamsApp,
    n: OpNode,
    serdes: Partial<StreamSerdes<K, V>>,
    store?: MaterializedStore<K, V>,
  ) {
    this.app = app;
    this.node = n;
    this.serdes = serdes;
    this.store = store;
    if (store !== undefined)
      app.materialized.set(store.name, store as MaterializedStore<unknown, unknown>);
  }

  /** The table's changes as a stream (null values are deletions). */
  toStream(): KStream<K, V> {
    const n = this.app.add(
      this.node,
      node({
        name: this.app.name('to-stream', undefined),
        kind: 'to-stream',
        create: (_rt, emit) => ({ process: emit }),
      }),
    );
    return new KStream<K, V>(this.app, n, this.serdes);
  }

  /**
   * Joins with another table on the key (inner join): a change on either side emits the joined
   * value, or a deletion when either side has no value. Both tables must be materialized and
   * co-partitioned.
   */
  join<V2, R>(
    other: KTable<K, V2>,
    joiner: (value: V, otherValue: V2, key: K) => R,
    options: { name?: string; serde?: Serde<R> } = {},
  ): KTable<K, R> {
    const left = this.store;
    const right = other.store;
    if (left === undefined || right === undefined || left.windowed || right.windowed) {
      throw new TypeError('table–table joins need two materialized, non-windowed tables');
    }
    const app = this.app;
    const name = app.name('table-join', options.name);
    const result = node({ name, kind: 'table-join', create: (_rt, emit) => ({ process: emit }) });
    const side = (from: KTable<K, unknown>, isLeft: boolean): void => {
      const otherStore = isLeft ? right : left;
      const n = app.add(
        from.node,
        node({
          name: `${name}-${isLeft ? 'left' : 'right'}`,
          kind: 'table-join-side',
          create: (rt, emit) => {
            const store = rt.store(otherStore.name);
            return {
              process(r) {
                const bytes = store.get(left.keySerde.serialize(r.key as K));
                const value =
                  r.value === null || bytes === undefined
                    ? null
                    : isLeft
                      ? joiner(r.value as V, right.valueSerde.deserialize(bytes), r.key as K)
                      : joiner(left.valueSerde.deserialize(bytes), r.value as V2, r.key as K);
                emit({ key: r.key, value, timestamp: r.timestamp });
              },
            };
          },
        }),
      );
      n.children.push(result);
    };
    side(this as KTable<K, unknown>, true);
    side(other as KTable<K, unknown>, false);
    app.register(result);
    return new KTable<K, R>(app, result, { key: left.keySerde, value: options.serde });
  }
}
