/**
 * Page-view events for the activity-tracking example: members viewing pages with realistic skew
 * (a few popular pages get most views), bursts (a member viewing several pages within seconds)
 * and out-of-order arrivals (some events arrive up to `MAX_DISORDER_MS` after later ones).
 * Deterministic for a seed, so tests compute their reference from the same records.
 */
import { seededRandom, skewedIndex } from '../seeded-random.js';

/** One page view: who, which page, when (event time, ms). */
export interface PageView {
  readonly member: string;
  readonly page: string;
  readonly time: number;
}

/** The most an event arrives after a later-timed one. */
export const MAX_DISORDER_MS = 15_000;

export const PAGES = [
  'feed',
  'jobs',
  'messaging',
  'notifications',
  'mynetwork',
  'learning',
  'company-brook',
  'groups-streams',
  'events',
  'premium',
];

/**
 * `count` page views by `members` members starting at event time `start`, in arrival order.
 * Mean spacing is `spacingMs` of event time.
 */
export function pageViews(
  seed: number,
  count: number,
  options: { start?: number; members?: number; spacingMs?: number } = {},
): PageView[] {
  const random = seededRandom(seed);
  const members = options.members ?? 50;
  const spacing = options.spacingMs ?? 500;
  let clock = options.start ?? Date.UTC(2026, 0, 1);
  const out: PageView[] = [];
  while (out.length < count) {
    const member = `member-${skewedIndex(random(), members)}`;
    // A burst: one member clicks through 1..5 pages a second or two apart.
    const burst = random() < 0.2 ? 2 + Math.floor(random() * 4) : 1;
    for (let b = 0; b < burst && out.length < count; b++) {
      clock += b === 0 ? Math.floor(random() * 2 * spacing) : 500 + Math.floor(random() * 1500);
      const late = random() < 0.1 ? Math.floor(random() * MAX_DISORDER_MS) : 0;
      out.push({ member, page: PAGES[skewedIndex(random(), PAGES.length)]!, time: clock - late });
    }
  }
  return out;
}
