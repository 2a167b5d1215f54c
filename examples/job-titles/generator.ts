/**
 * Profile updates with raw job titles, as members type them, for the job-title example: keyed by
 * member, JSON `{member, title}`. Deterministic for a seed.
 */
import { seededRandom, skewedIndex } from '../seeded-random.js';

/** A member changed the title on their profile. */
export interface TitleUpdate {
  readonly member: string;
  readonly title: string;
}

export const RAW_TITLES = [
  'Software Engineer',
  'SW Engineer',
  'software developer',
  'SWE',
  'Sr. Software Engineer',
  'Senior SW Dev',
  'Staff Engineer',
  'Principal Software Engineer',
  'Data Scientist',
  'ML Engineer',
  'Machine Learning Engineer',
  'Product Manager',
  'PM',
  'Technical Recruiter',
  'Talent Partner',
  'SRE',
  'DevOps Engineer',
  'Barista',
];

/** `count` title updates by `members` members. */
export function titleUpdates(seed: number, count: number, members = 40): TitleUpdate[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    member: `member-${Math.floor(random() * members)}`,
    title: RAW_TITLES[skewedIndex(random(), RAW_TITLES.length)]!,
  }));
}
