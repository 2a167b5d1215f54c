#!/usr/bin/env node
// Runs the fault suite (test/faults/*.test.ts) with Node's test runner through tsx.
// Usage: npm run test:faults [-- --long | --soak] [<path-substring> ...]
//   (default) ci:   the bounded scenarios, as `npm test` runs them in CI
//   --long:        more crash cycles, damage rounds and data per scenario
//   --soak:        the soak scenario alone (test/faults/soak*.test.ts), for minutes
// The mode reaches the tests as BROOK_FAULTS_MODE (read by test/faults/helpers/mode.ts);
// BROOK_FAULTS_SEED=<n> replays the random choices a scenario printed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const filters = args.filter((a) => !a.startsWith('--'));
for (const f of flags) {
  if (f !== '--long' && f !== '--soak') {
    console.error(`test:faults: unknown option ${f} (use --long or --soak)`);
    process.exit(2);
  }
}
const mode = flags.includes('--soak') ? 'soak' : flags.includes('--long') ? 'long' : 'ci';

const dir = join(root, 'test', 'faults');
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.test.ts'))
  .filter((name) => (mode === 'soak' ? name.startsWith('soak') : true))
  .map((name) => join('test', 'faults', name))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(
    `test:faults: no fault scenarios match (mode ${mode}${filters.length ? `, ${filters.join(' ')}` : ''})`,
  );
  process.exit(1);
}
console.log(`test:faults: mode ${mode}, ${files.length} file(s)`);
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    // Fault scenarios start, kill and mount things: one file at a time keeps their figures
    // readable and the machine's load (and so the timing of kills) closer to what was asked.
    '--test-concurrency=1',
    `--test-timeout=${mode === 'ci' ? 600000 : 3600000}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, BROOK_FAULTS_MODE: mode } },
);
process.exit(result.status ?? 1);
