/**
 * Activity tracking: page views (topic `page-views`, keyed by member, JSON `PageView` values,
 * event time from the value) become
 *
 * - per-page view counts in 1-minute tumbling windows: topic `page-view-counts`, key
 *   `<page>@<window start ISO time>`, value the count so far (updated on every view), and the
 *   queryable windowed store `views-per-page`;
 * - per-member sessions (activity separated by 5 minutes without views): topic
 *   `member-sessions`, key `<member>@<session start>-<session end>`, value the session's view
 *   count (null when the session merged into a larger one), and the store `member-sessions`.
 *
 *   brook job run examples/activity-tracking/job.ts --bootstrap-server localhost:9092
 *
 * Views are keyed by member, so sessions are counted where they arrive; per-page counts go
 * through a repartition topic keyed by page. Events arrive up to 15 s out of order; with
 * `outOfOrderness` 10 s and 10 s of grace none of the generator's events are late.
 */
import {
  jsonSerde,
  sessionWindows,
  stringSerde,
  streamsApp,
  tumblingWindows,
  type Windowed,
} from '../../src/streams/index.js';
import type { PageView } from './generator.js';

export const WINDOW_MS = 60_000;
export const SESSION_GAP_MS = 5 * 60_000;
export const OUT_OF_ORDERNESS_MS = 10_000;
export const GRACE_MS = 10_000;

const app = streamsApp({ id: 'activity-tracking', outOfOrderness: OUT_OF_ORDERNESS_MS });
const views = app.stream(
  'page-views',
  { key: stringSerde, value: jsonSerde<PageView>() },
  { timestamp: (_member, view, recordTime) => view?.time ?? recordTime },
);
const strings = { key: stringSerde, value: stringSerde };
const label = (w: Windowed<string>, n: number | null): readonly [string, string | null] => [
  `${w.key}@${new Date(w.start).toISOString()}`,
  n === null ? null : String(n),
];

views
  .groupBy((_member, view) => view.page, { key: stringSerde }, 'by-page')
  .windowedBy(tumblingWindows(WINDOW_MS, { grace: GRACE_MS }))
  .count({ name: 'views-per-page' })
  .toStream()
  .map(label)
  .sendTo('page-view-counts', strings);

views
  .groupByKey()
  .windowedBy(sessionWindows(SESSION_GAP_MS, { grace: GRACE_MS }))
  .count({ name: 'member-sessions' })
  .toStream()
  .map((w, n): readonly [string, string | null] => [
    `${w.key}@${new Date(w.start).toISOString()}-${new Date(w.end).toISOString()}`,
    n === null ? null : String(n),
  ])
  .sendTo('member-sessions', strings);

export default app.toJob();
