/**
 * The job-title standardization job, for a given rule version: profile updates (topic
 * `profile-updates`, keyed by member, JSON `TitleUpdate`) →
 *
 * - `standardized-titles[-<version>]`: member → `{member, raw, standard}`, one per update;
 * - the queryable store `member-titles`: each member's current standard title;
 * - `title-counts[-<version>]` and the store `title-counts`: how many updates used each
 *   standard title.
 *
 * Version v1 is the live job (`job.ts`, id `job-titles`, unsuffixed outputs); another version
 * (`job-v2.ts`) has its own id, so its own group, changelogs and stores, and outputs suffixed
 * with the version: it can reprocess the whole retained log next to the live one (Kappa).
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

/** The job for `rules`; `version` undefined is the live, unsuffixed one. */
export function titlesApp(rules: readonly TitleRule[], version?: string) {
  const suffix = version === undefined ? '' : `-${version}`;
  const app = streamsApp({ id: `job-titles${suffix}` });
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
  standardized.sendTo(`standardized-titles${suffix}`, { key: stringSerde, value: standardSerde });
  standardized
    .groupByKey({ key: stringSerde, value: standardSerde })
    .reduce((_old, latest) => latest, { name: 'member-titles' });
  standardized
    .groupBy((_member, t) => t.standard, { key: stringSerde, value: standardSerde }, 'by-title')
    .count({ name: 'title-counts' })
    .toStream()
    .mapValues((n) => (n === null ? null : String(n)))
    .sendTo(`title-counts${suffix}`, { key: stringSerde, value: stringSerde });
  return app;
}
