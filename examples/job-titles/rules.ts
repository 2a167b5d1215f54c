/**
 * Job-title standardization rules: raw titles as members type them → standard titles. A rule
 * set is an ordered list of patterns; the first that matches the normalized title wins, and a
 * title no rule matches keeps its normalized form.
 */

/** One rule: a pattern over the lower-cased, whitespace-collapsed title, and its standard. */
export interface TitleRule {
  readonly pattern: RegExp;
  readonly standard: string;
}

/** Version 1 of the rules. */
export const RULES_V1: readonly TitleRule[] = [
  {
    pattern: /\b(sw|software|swe)\b.*\b(eng|engineer|developer|dev)\b|^swe$/,
    standard: 'Software Engineer',
  },
  { pattern: /\b(data scientist|ml engineer|machine learning)\b/, standard: 'Data Scientist' },
  { pattern: /\b(pm|product manager|product owner)\b/, standard: 'Product Manager' },
  { pattern: /\b(recruiter|talent)\b/, standard: 'Recruiter' },
  { pattern: /\b(sre|site reliability|devops)\b/, standard: 'Site Reliability Engineer' },
];

/**
 * Version 2: seniority is kept (a senior or staff engineer is no longer folded into "Software
 * Engineer"), and machine-learning engineers get their own title.
 */
export const RULES_V2: readonly TitleRule[] = [
  {
    pattern: /\b(staff|principal)\b.*\b(eng|engineer|developer|dev|swe)\b/,
    standard: 'Staff Software Engineer',
  },
  {
    pattern: /\b(sr|senior)\b.*\b(eng|engineer|developer|dev|swe)\b/,
    standard: 'Senior Software Engineer',
  },
  { pattern: /\b(ml engineer|machine learning)\b/, standard: 'Machine Learning Engineer' },
  ...RULES_V1,
];

/** The standard title for `raw` under `rules`. */
export function standardize(raw: string, rules: readonly TitleRule[]): string {
  const normalized = raw
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  for (const rule of rules) if (rule.pattern.test(normalized)) return rule.standard;
  return normalized;
}
