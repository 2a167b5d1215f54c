/**
 * End-to-end fixture: ad impressions joined with clicks on the same ad within 10 minutes
 * (stream–stream join), and the number of joined pairs per ad as a queryable table.
 */
import { longSerde, stringSerde, streamsApp } from '../../../src/streams/index.js';

const app = streamsApp({ id: 'dsl-ad-clicks', idleTimeoutMs: 3_600_000 });
const strings = { key: stringSerde, value: stringSerde };
const impressions = app.stream('dsl-impressions', strings);
const clicks = app.stream('dsl-clicks-on-ads', strings);
const joined = impressions.joinWindowed(clicks, (i, c) => `${i}+${c}`, {
  within: 10 * 60_000,
  grace: 3_600_000,
  serdes: { key: stringSerde, left: stringSerde, right: stringSerde },
});
joined.sendTo('dsl-ad-clicks', strings);
joined
  .groupByKey({ key: stringSerde })
  .count({ name: 'clicked-impressions' })
  .toStream()
  .sendTo('dsl-clicked-counts', { key: stringSerde, value: longSerde });

export default app.toJob();
