/**
 * Records for the "who viewed your profile" example: member profiles (name and title, keyed by
 * member, for the compacted topic `member-profiles`, with updates over time) and profile views
 * (keyed by viewer). Deterministic for a seed; view times are unique and increasing.
 */
import { seededRandom, skewedIndex } from '../seeded-random.js';

/** A member's profile. */
export interface Profile {
  readonly name: string;
  readonly title: string;
}

/** `viewer` looked at `viewed`'s profile at `time`. */
export interface ProfileView {
  readonly viewer: string;
  readonly viewed: string;
  readonly time: number;
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson'];
const TITLES = [
  'Software Engineer',
  'Senior Software Engineer',
  'Staff Engineer',
  'Engineering Manager',
  'Data Scientist',
  'Product Manager',
  'Site Reliability Engineer',
  'Recruiter',
];

export const memberId = (i: number): string => `member-${i}`;

/** A profile for member `i`; `version` > 0 gives the same name with another title. */
export function profile(i: number, version: number, seed = 1): Profile {
  const random = seededRandom(seed * 7919 + i * 131 + version);
  return {
    name: `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]}`,
    title: TITLES[Math.floor(random() * TITLES.length)]!,
  };
}

/** `count` views among `members` members (popular members are viewed more), from `start`. */
export function profileViews(
  seed: number,
  count: number,
  options: { members?: number; start?: number; spacingMs?: number } = {},
): ProfileView[] {
  const random = seededRandom(seed);
  const members = options.members ?? 30;
  const spacing = options.spacingMs ?? 1000;
  let time = options.start ?? Date.UTC(2026, 0, 1);
  const out: ProfileView[] = [];
  while (out.length < count) {
    const viewer = Math.floor(random() * members);
    const viewed = skewedIndex(random(), members);
    time += 1 + Math.floor(random() * spacing);
    if (viewer === viewed) continue;
    out.push({ viewer: memberId(viewer), viewed: memberId(viewed), time });
  }
  return out;
}
