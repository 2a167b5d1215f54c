/*
 * Joins that involve a stream: stream–table (enrichment: each record looks up the table's
 * current value in the same task) and stream–stream within a time window (both sides buffered
 * in stores, see WindowJoin). Both need co-partitioned inputs, which the runtime's tasks give
 * when the topics have the same partition count and keys are partitioned the same way.
 */
import { node, type TaskRuntime } from './graph.js';
import type { KStream, StreamJoinOptions } from './stream.js';
import type { KTable } from './table.js';
import { WindowJoin } from './window-join.js';

/** Stream–table join: see `KStream.join`. */
export function streamTableJoin<K, V, T, R>(
  stream: KStream<K, V>,
  table: KTable<K, T>,
  joiner: (value: V, tableValue: T, key: K) => R,
  options: { left?: boolean; name?: string },
): KStream<K, R> {
  const store = table.store;
  if (store === undefined || store.windowed) {
    throw new TypeError('stream–table joins need a materialized, non-windowed table');
  }
  const app = stream.app;
  const name = app.name(options.left === true ? 'left-join' : 'join', options.name);
  app.copartitioned(stream.node, table.node, name);
  const n = app.add(
    stream.node,
    node({
      name,
      kind: 'stream-table-join',
      create: (rt, emit) => {
        const s = rt.store(store.name);
        return {
          process(r) {
            if (r.key === null || r.key === undefined) return;
            const bytes = s.get(store.keySerde.serialize(r.key as K));
            if (bytes === undefined && options.left !== true) return;
            const t = bytes === undefined ? (null as T) : store.valueSerde.deserialize(bytes);
            emit({
              key: r.key,
              value: joiner(r.value as V, t, r.key as K),
              timestamp: r.timestamp,
            });
          },
        };
      },
    }),
  );
  return app.streamOf<K, R>(n, { key: stream.serdes.key });
}

/** Stream–stream windowed join: see `KStream.joinWindowed`. */
export function streamStreamJoin<K, V, V2, R>(
  left: KStream<K, V>,
  right: KStream<K, V2>,
  joiner: (value: V, otherValue: V2 | null, key: K) => R,
  options: StreamJoinOptions<K, V, V2>,
  leftJoin: boolean,
): KStream<K, R> {
  const app = left.app;
  const name = app.name(leftJoin ? 'window-left-join' : 'window-join', options.name);
  app.copartitioned(left.node, right.node, name);
  const leftStore = `${name}-left`;
  const rightStore = `${name}-right`;
  // Both side nodes of one task share one join state machine.
  const perTask = new WeakMap<TaskRuntime, WindowJoin<K, V, V2, R>>();
  const result = node({ name, kind: 'window-join', create: (_rt, emit) => ({ process: emit }) });
  const joinOf = (rt: TaskRuntime, emit: (k: K, v: R, ts: number) => void) => {
    let j = perTask.get(rt);
    if (j === undefined) {
      j = new WindowJoin<K, V, V2, R>({
        left: rt.store(leftStore),
        right: rt.store(rightStore),
        keySerde: options.serdes.key,
        leftSerde: options.serdes.left,
        rightSerde: options.serdes.right,
        within: options.within,
        grace: options.grace ?? 0,
        joiner,
        leftOnly: leftJoin ? (value, key) => joiner(value, null, key) : undefined,
        forward: emit,
      });
      perTask.set(rt, j);
    }
    return j;
  };
  for (const side of ['left', 'right'] as const) {
    const parent = side === 'left' ? left : right;
    const n = app.add(
      parent.node,
      node({
        name: `${name}-${side}`,
        kind: 'window-join-side',
        stores: [
          {
            name: side === 'left' ? leftStore : rightStore,
            role: `${side} join buffer (within ${options.within} ms)`,
          },
        ],
        create: (rt, emit) => {
          const j = joinOf(rt, (key, value, timestamp) => emit({ key, value, timestamp }));
          return {
            process(r) {
              if (r.key === null || r.key === undefined) return;
              const id = rt.envelope?.offset ?? 0;
              j.process(side, r.key as K, r.value as V | V2, r.timestamp, id, rt.watermark);
            },
            advance: side === 'left' ? (wm) => j.expire(wm) : undefined,
          };
        },
      }),
    );
    n.children.push(result);
  }
  app.register(result);
  return app.streamOf<K, R>(result, { key: options.serdes.key });
}
