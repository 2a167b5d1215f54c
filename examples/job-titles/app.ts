/**
 * The job-title standardization job, for a given rule version: profile updates (topic
 * `profile-updates`, keyed by member, JSON `TitleUpdate`) →
 *
 * - `standardized-titles`: member → `{member, raw, standard}`, one per update;
 * - the queryable store `member-titles`: each member's current standard title;
 * - `title-counts` and the store `title-counts`: how many updates used each standard title.
 *
 * Every version of the job is written with these names (id `job-titles`): `job.ts` has the
 * rules v1, `job-v2.ts` the rules v2. Running a version beside the live one is the command's
 * business, not the module's: `brook job reprocess job-v2.ts --version v2` (or
 * `brook job run … --version v2`) runs it as `job-titles-v2`, with outputs suffixed `-v2` and
 * its own group, changelogs, repartition topic and stores (Kappa reprocessing).
 */
import { jsonSerde, stringSerde, streamsApp } from '../../src/streams/index.js';
import type { TitleUpdate } from './generator.js';
import { standardize, type TitleRule } from './rules.js';

/** A standardized title update. */
export interface StandardTitle {
  readonly member: string;
  readonly raw: string;
  readonly standard: string;
}

/** The job for `rules`. */
export function titlesApp(rules: readonly TitleRule[]) {
  const app = streamsApp({ id: 'job-titles' });
  const standardSerde = jsonSerde<StandardTitle>();
  const standardized = app
    .stream('profile-updates', { key: stringSerde, value: jsonSerde<TitleUpdate>() })
    .mapValues(
      (u): StandardTitle => ({
        member: u.member,
        raw: u.title,
        standard: standardize(u.title, rules),
      }),
    );
  standardized.sendTo('standardized-titles', { key: stringSerde, value: standardSerde });
  standardized
    .groupByKey({ key: stringSerde, value: standardSerde })
    .reduce((_old, latest) => latest, { name: 'member-titles' });
  standardized
    .groupBy((_member, t) => t.standard, { key: stringSerde, value: standardSerde }, 'by-title')
    .count({ name: 'title-counts' })
    .toStream()
    .mapValues((n) => (n === null ? null : String(n)))
    .sendTo('title-counts', { key: stringSerde, value: stringSerde });
  return app;
}
