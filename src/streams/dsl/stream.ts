/*
 * KStream: a typed stream of records and its stateless operators. Every method adds a node to
 * the app's graph and returns the stream of that node's output, so a pipeline reads as a chain.
 */
import type { Serde } from '../serdes/serde.js';
import type { StreamsApp } from './app.js';
import type { Emit, OpNode, Rec } from './graph.js';
import { node } from './graph.js';
import { GroupedStream } from './grouped.js';
import { streamTableJoin, streamStreamJoin } from './joins.js';
import type { KTable } from './table.js';

/** Serdes of a stream's keys and values, where known. */
export interface StreamSerdes<K, V> {
  readonly key: Serde<K>;
  readonly value: Serde<V>;
}

/** Options of a windowed stream–stream join. */
export interface StreamJoinOptions<K, V, V2> {
  /** Largest distance (ms) between the timestamps of records that join. */
  readonly within: number;
  /** Extra lateness (ms) records may have and still join (default 0). */
  readonly grace?: number;
  /** Serdes of the key and both sides' values (the buffers are stores). */
  readonly serdes: { key: Serde<K>; left: Serde<V>; right: Serde<V2> };
  /** Name of the operator (and prefix of its buffer stores). */
  readonly name?: string;
}

/** A stream of keyed records. */
export class KStream<K, V> {
  /** @internal */
  readonly app: StreamsApp;
  /** @internal */
  readonly node: OpNode;
  /** Serdes when known (a source's, or given to an operator). */
  readonly serdes: Partial<StreamSerdes<K, V>>;

  /** @internal */
  constructor(app: StreamsApp, n: OpNode, serdes: Partial<StreamSerdes<K, V>> = {}) {
    this.app = app;
    this.node = n;
    this.serdes = serdes;
  }

  #then<K2, V2>(
    kind: string,
    fn: (emit: Emit) => (rec: Rec) => void,
    serdes: Partial<StreamSerdes<K2, V2>> = {},
    name?: string,
  ): KStream<K2, V2> {
    const n = this.app.add(
      this.node,
      node({
        name: this.app.name(kind, name),
        kind,
        create: (_rt, emit) => ({ process: fn(emit) }),
      }),
    );
    return new KStream<K2, V2>(this.app, n, serdes);
  }

  /** Replaces each record by a new key and value. */
  map<K2, V2>(fn: (key: K, value: V) => readonly [K2, V2]): KStream<K2, V2> {
    return this.#then('map', (emit) => (r) => {
      const [key, value] = fn(r.key as K, r.value as V);
      emit({ key, value, timestamp: r.timestamp });
    });
  }

  /** Replaces each value, keeping the key (and the partitioning). */
  mapValues<V2>(fn: (value: V, key: K) => V2): KStream<K, V2> {
    return this.#then(
      'map-values',
      (emit) => (r) =>
        emit({ key: r.key, value: fn(r.value as V, r.key as K), timestamp: r.timestamp }),
      { key: this.serdes.key },
    );
  }

  /** Keeps the records `predicate` accepts. */
  filter(predicate: (key: K, value: V) => boolean): KStream<K, V> {
    return this.#then(
      'filter',
      (emit) => (r) => {
        if (predicate(r.key as K, r.value as V)) emit(r);
      },
      this.serdes,
    );
  }

  /** Replaces each record by zero or more records. */
  flatMap<K2, V2>(fn: (key: K, value: V) => Iterable<readonly [K2, V2]>): KStream<K2, V2> {
    return this.#then('flat-map', (emit) => (r) => {
      for (const [key, value] of fn(r.key as K, r.value as V)) {
        emit({ key, value, timestamp: r.timestamp });
      }
    });
  }

  /** Calls `fn` for each record and passes it on unchanged. */
  peek(fn: (key: K, value: V, timestamp: number) => void): KStream<K, V> {
    return this.#then(
      'peek',
      (emit) => (r) => {
        fn(r.key as K, r.value as V, r.timestamp);
        emit(r);
      },
      this.serdes,
    );
  }

  /** The records of this stream and `other`, interleaved in processing order. */
  merge(other: KStream<K, V>): KStream<K, V> {
    const merged = this.#then<K, V>('merge', (emit) => emit, this.serdes);
    other.node.children.push(merged.node);
    return merged;
  }

  /**
   * Splits the stream: each record goes to the first branch whose predicate accepts it (records
   * no predicate accepts are dropped).
   */
  branch(...predicates: ((key: K, value: V) => boolean)[]): KStream<K, V>[] {
    // One filter per branch, each accepting the records whose first matching predicate is its own.
    return predicates.map((_, i) =>
      this.#then<K, V>(
        'branch',
        (emit) => (r) => {
          if (predicates.findIndex((p) => p(r.key as K, r.value as V)) === i) emit(r);
        },
        this.serdes,
      ),
    );
  }

  /** Writes the stream to `topic` (created by the job if missing when `create` is set). */
  sendTo(topic: string, serdes?: Partial<StreamSerdes<K, V>>, name?: string): void {
    const key = serdes?.key ?? this.serdes.key;
    const value = serdes?.value ?? this.serdes.value;
    if (key === undefined || value === undefined) {
      throw new TypeError(`sendTo(${topic}) needs key and value serdes (this stream has none)`);
    }
    const output = this.app.name('send-to', name);
    this.app.add(
      this.node,
      node({
        name: output,
        kind: 'send-to',
        outputs: [
          {
            name: output,
            topic,
            keySerde: key as Serde<unknown>,
            valueSerde: value as Serde<unknown>,
          },
        ],
        create: (rt) => ({ process: (r) => rt.send(output, r.key, r.value, r.timestamp) }),
      }),
    );
  }

  /** Calls `fn` for every record: a terminal operator for side effects (metrics, logs, tests). */
  sink(fn: (key: K, value: V, timestamp: number) => void): void {
    this.#then('sink', () => (r) => fn(r.key as K, r.value as V, r.timestamp));
  }

  /**
   * Re-keys the stream by `keyFn` and sends it through the internal topic
   * `<job-id>-<op>-repartition` (one partition per task), so that records with the same new key
   * meet in one task: what state keyed by the new key needs.
   */
  partitionBy<K2>(
    keyFn: (key: K, value: V) => K2,
    serdes: { key: Serde<K2>; value?: Serde<V> },
    name?: string,
  ): KStream<K2, V> {
    const value = serdes.value ?? this.serdes.value;
    if (value === undefined) throw new TypeError('partitionBy needs a value serde');
    return this.app.repartition(this, keyFn, { key: serdes.key, value }, name);
  }

  /** Groups by the current key (the stream must be partitioned by it). */
  groupByKey(serdes?: Partial<StreamSerdes<K, V>>): GroupedStream<K, V> {
    const key = serdes?.key ?? this.serdes.key;
    if (key === undefined) throw new TypeError('groupByKey needs a key serde');
    return new GroupedStream(this, key, serdes?.value ?? this.serdes.value);
  }

  /** Groups by a new key: repartitions by it, then groups. */
  groupBy<K2>(
    keyFn: (key: K, value: V) => K2,
    serdes: { key: Serde<K2>; value?: Serde<V> },
    name?: string,
  ): GroupedStream<K2, V> {
    return this.partitionBy(keyFn, serdes, name).groupByKey();
  }

  /**
   * Joins each record with the table's current value for its key (enrichment). Both inputs must
   * be co-partitioned: same partition count and the same key → partition mapping.
   */
  join<T, R>(
    table: KTable<K, T>,
    joiner: (value: V, tableValue: T, key: K) => R,
    options: { left?: boolean; name?: string } = {},
  ): KStream<K, R> {
    return streamTableJoin(this, table, joiner, options);
  }

  /** Joins with records of `other` with the same key at most `within` ms apart. */
  joinWindowed<V2, R>(
    other: KStream<K, V2>,
    joiner: (value: V, otherValue: V2, key: K) => R,
    options: StreamJoinOptions<K, V, V2>,
  ): KStream<K, R> {
    return streamStreamJoin(
      this,
      other,
      joiner as (value: V, otherValue: V2 | null, key: K) => R,
      options,
      false,
    );
  }

  /**
   * Like `joinWindowed`, and a record of this stream that no record of `other` joined is also
   * passed on, with `null`, once it can no longer be joined (a left join).
   */
  leftJoinWindowed<V2, R>(
    other: KStream<K, V2>,
    joiner: (value: V, otherValue: V2 | null, key: K) => R,
    options: StreamJoinOptions<K, V, V2>,
  ): KStream<K, R> {
    return streamStreamJoin(this, other, joiner, options, true);
  }
}
