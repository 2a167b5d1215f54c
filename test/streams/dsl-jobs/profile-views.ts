/**
 * End-to-end fixture, "who viewed your profile": page views keyed by viewer (value
 * `viewId,viewed`) enriched with the viewer's profile from the compacted topic `dsl-profiles`.
 */
import { stringSerde, streamsApp } from '../../../src/streams/index.js';

const app = streamsApp({ id: 'dsl-profile-views' });
const strings = { key: stringSerde, value: stringSerde };
const profiles = app.table('dsl-profiles', strings, { name: 'profiles' });
app
  .stream('dsl-page-views', strings)
  .join(profiles, (view, profile) => {
    const [id, viewed] = view.split(',');
    return `${id}: ${profile} viewed ${viewed}`;
  })
  .sendTo('dsl-profile-viewed', strings);

export default app.toJob();
