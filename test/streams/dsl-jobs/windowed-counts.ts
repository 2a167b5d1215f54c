/**
 * End-to-end fixture: windowed counts of `dsl-clicks` (string keys, event time = record
 * timestamp) in three windowings at once: tumbling (emit on update), hopping (emit final
 * results only) and sessions (emit on update, merged sessions retracted with null).
 */
import {
  hoppingWindows,
  sessionWindows,
  stringSerde,
  streamsApp,
  tumblingWindows,
  type Windowed,
} from '../../../src/streams/index.js';

export const OUT_OF_ORDERNESS = 50;
export const GRACE = 30;

const app = streamsApp({
  id: 'dsl-windows',
  outOfOrderness: OUT_OF_ORDERNESS,
  idleTimeoutMs: 3_600_000,
});
const strings = { key: stringSerde, value: stringSerde };
const grouped = app.stream('dsl-clicks', strings).groupByKey();
const label = (w: Windowed<string>, n: number | null): readonly [string, string | null] => [
  `${w.key}@${w.start}-${w.end}`,
  n === null ? null : String(n),
];
grouped
  .windowedBy(tumblingWindows(100, { grace: GRACE }))
  .count({ name: 'tumbling' })
  .toStream()
  .map(label)
  .sendTo('dsl-tumbling', strings);
grouped
  .windowedBy(hoppingWindows(100, 40, { grace: GRACE }))
  .count({ name: 'hopping', emit: 'final' })
  .toStream()
  .map(label)
  .sendTo('dsl-hopping', strings);
grouped
  .windowedBy(sessionWindows(60, { grace: GRACE }))
  .count({ name: 'sessions' })
  .toStream()
  .map(label)
  .sendTo('dsl-sessions', strings);

export default app.toJob();
