/**
 * Continuous, rate-limited generators for the three examples, as `brook demo` runs them: page
 * views (`page-views`), profile views (`profile-views`) and, now and then, profile and title
 * updates (`member-profiles`, `profile-updates`), with event times near the wall clock.
 *
 *   node --import tsx examples/generate.ts --bootstrap-server localhost:9092 --rate 20
 *
 * runs them on their own against a broker whose topics exist (`brook demo` creates them).
 */
import { parseArgs } from 'node:util';
import { Admin, Producer } from '../src/client/index.js';
import { pageViews } from './activity-tracking/generator.js';
import { titleUpdates } from './job-titles/generator.js';
import { memberId, profile, profileViews } from './who-viewed-profile/generator.js';

/** Members of the who-viewed-profile example. */
export const DEMO_MEMBERS = 30;

/** Options of `runGenerators`. */
export interface GeneratorOptions {
  readonly bootstrapServers: string;
  /** Page views per second; profile views are a third of it, title updates a tenth. */
  readonly rate: number;
  /** Stops the generators (after the batch in flight). */
  readonly signal: AbortSignal;
}

/** Sends the examples' input until `signal` aborts; resolves once stopped. */
export async function runGenerators(options: GeneratorOptions): Promise<void> {
  const producer = new Producer({ bootstrapServers: options.bootstrapServers });
  const tick = 200;
  let seed = Date.now() % 1_000_000;
  let versions = 0;
  let ticks = 0;
  const json = (key: string, value: unknown, timestamp?: number) => ({
    key,
    value: JSON.stringify(value),
    timestamp,
  });
  try {
    // Profiles once: a resumed demo keeps the (compacted) profiles it had, updates included.
    if (await isEmpty(options.bootstrapServers, 'member-profiles')) {
      const all = Array.from({ length: DEMO_MEMBERS }, (_, i) => json(memberId(i), profile(i, 0)));
      await producer.send('member-profiles', all);
    }
    let carry = 0;
    while (!options.signal.aborted) {
      const started = Date.now();
      ticks++;
      carry += (options.rate * tick) / 1000;
      const n = Math.floor(carry);
      carry -= n;
      if (n > 0) {
        const spacingMs = Math.max(1, Math.floor(tick / n));
        const views = pageViews(seed++, n, { start: started - tick, spacingMs });
        await producer.send(
          'page-views',
          views.map((v) => json(v.member, v, v.time)),
        );
        const seen = profileViews(seed++, Math.max(1, Math.floor(n / 3)), {
          members: DEMO_MEMBERS,
          start: started - tick,
          spacingMs,
        });
        await producer.send(
          'profile-views',
          seen.map((v) => json(v.viewer, v, v.time)),
        );
        if (ticks % 5 === 0) {
          const u = titleUpdates(seed, 1)[0]!;
          await producer.send('profile-updates', [json(u.member, u)]);
        }
        if (ticks % 50 === 0) {
          const i = seed % DEMO_MEMBERS;
          await producer.send('member-profiles', [json(memberId(i), profile(i, ++versions))]);
        }
      }
      const wait = tick - (Date.now() - started);
      if (wait > 0) await sleep(wait, options.signal);
    }
  } finally {
    await producer.close();
  }
}

async function isEmpty(bootstrapServers: string, topic: string): Promise<boolean> {
  const admin = new Admin({ bootstrapServers });
  try {
    const [info] = await admin.describeTopics([topic]);
    const tps = (info?.partitions ?? []).map((_, partition) => ({ topic, partition }));
    const ends = await admin.listOffsets(tps, -1);
    return [...ends.values()].every((end) => end === 0);
  } finally {
    await admin.close();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      'bootstrap-server': { type: 'string', default: 'localhost:9092' },
      rate: { type: 'string', default: '20' },
    },
  });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  await runGenerators({
    bootstrapServers: values['bootstrap-server'],
    rate: Number(values.rate),
    signal: stop.signal,
  });
}
