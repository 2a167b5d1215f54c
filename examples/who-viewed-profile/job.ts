/**
 * Who viewed your profile: profile views (topic `profile-views`, keyed by viewer) are joined with
 * the viewer's current profile from the compacted topic `member-profiles` (keyed by member,
 * JSON `{name, title}`, updated over time), then
 *
 * - sent as notification events to `profile-view-notifications`, keyed by the viewed member:
 *   `{viewer, name, title, time}` (the viewer's name and title when they looked);
 * - kept per viewed member in the queryable store `recent-viewers`: the `RECENT_VIEWERS` viewers
 *   who looked most recently (each viewer once, at their latest view), newest first, also
 *   published on every change to the topic `recent-viewers`.
 *
 *   brook job run examples/who-viewed-profile/job.ts --bootstrap-server localhost:9092
 *
 * `profile-views` and `member-profiles` must have the same partition count (the join is local to
 * a task); views of a member without a profile are dropped.
 */
import { jsonSerde, stringSerde, streamsApp } from '../../src/streams/index.js';
import type { Profile, ProfileView } from './generator.js';

/** How many viewers the store keeps per member. */
export const RECENT_VIEWERS = 5;

/** One viewer, as the notification and the store show them. */
export interface Viewer {
  readonly viewer: string;
  readonly name: string;
  readonly title: string;
  readonly time: number;
}

/**
 * Adds `v` to the most recent viewers `list`. The result does not depend on the order views
 * arrive in (views of one member come from every partition of the viewers): each viewer keeps
 * their latest view, and the list holds the `RECENT_VIEWERS` latest, by time then viewer id.
 */
export function addViewer(list: readonly Viewer[], v: Viewer): Viewer[] {
  const old = list.find((e) => e.viewer === v.viewer);
  if (old !== undefined && old.time >= v.time) return [...list];
  const next = list.filter((e) => e.viewer !== v.viewer);
  next.push(v);
  next.sort((a, b) => b.time - a.time || (a.viewer < b.viewer ? -1 : 1));
  return next.slice(0, RECENT_VIEWERS);
}

const app = streamsApp({ id: 'who-viewed-profile' });
const profiles = app.table(
  'member-profiles',
  { key: stringSerde, value: jsonSerde<Profile>() },
  { name: 'profiles' },
);
const notifications = app
  .stream('profile-views', { key: stringSerde, value: jsonSerde<ProfileView>() })
  .join(profiles, (view, p): Viewer & { viewed: string } => ({
    viewer: view.viewer,
    name: p.name,
    title: p.title,
    time: view.time,
    viewed: view.viewed,
  }))
  .map((_viewer, n): readonly [string, Viewer & { viewed: string }] => [n.viewed, n]);

const notificationSerde = jsonSerde<Viewer & { viewed: string }>();
notifications.sendTo('profile-view-notifications', { key: stringSerde, value: notificationSerde });

// Keyed by the viewed member now, but still partitioned by viewer: repartition before grouping.
notifications
  .groupBy((viewed) => viewed, { key: stringSerde, value: notificationSerde }, 'by-viewed')
  .aggregate(
    (): Viewer[] => [],
    (list, n) => addViewer(list, { viewer: n.viewer, name: n.name, title: n.title, time: n.time }),
    jsonSerde<Viewer[]>(),
    { name: 'recent-viewers' },
  )
  .toStream()
  .sendTo('recent-viewers', { key: stringSerde, value: jsonSerde<Viewer[]>() });

export default app.toJob();
