/**
 * The command line of `npm run bench` / `brook bench`.
 */
import { parseArgs } from 'node:util';
import { CASES } from './cases/index.js';

/** Parsed flags. */
export interface BenchArgs {
  readonly help: boolean;
  readonly quick: boolean;
  readonly cases: string[];
  readonly outDir: string;
  readonly note: string | null;
  readonly broker: 'compiled' | 'tsx' | undefined;
}

/** Parses `argv` (without node and the script); throws with a readable message on bad input. */
export function parseBenchArgs(argv: readonly string[], defaultOut: string): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      quick: { type: 'boolean', default: false },
      case: { type: 'string', multiple: true, default: [] },
      out: { type: 'string' },
      note: { type: 'string' },
      broker: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const cases = (values.case ?? []).flatMap((c) => c.split(',')).filter((c) => c !== '');
  for (const c of cases) {
    if (!CASES.some((x) => x.name === c)) {
      throw new Error(`unknown case "${c}"; cases: ${CASES.map((x) => x.name).join(', ')}`);
    }
  }
  const broker = values.broker;
  if (broker !== undefined && broker !== 'compiled' && broker !== 'tsx') {
    throw new Error(`--broker must be compiled or tsx, not "${broker}"`);
  }
  return {
    broker,
    help: values.help ?? false,
    quick: values.quick ?? false,
    cases,
    outDir: values.out ?? defaultOut,
    note: values.note ?? null,
  };
}

/** The --help text, with every case name. */
export function helpText(): string {
  const width = Math.max(...CASES.map((c) => c.name.length));
  return [
    'Usage: npm run bench -- [options]   (or: brook bench [options])',
    '',
    'Runs the benchmark suite of issue 10: every case below, a table as it goes, then',
    'bench-results/<date>.json and bench-results/<date>.md (with SVG charts).',
    'Every server runs on 127.0.0.1 with a temporary data directory and is stopped at the end.',
    '',
    'Options:',
    '  --quick          a short smoke run (small workloads, one run per figure; a few minutes)',
    '  --case NAME      run only this case (repeatable, or comma-separated)',
    '  --out DIR        where to write the results (default: bench-results/)',
    '  --broker KIND    compiled (default; src/ built into .tmp/bench-broker) or tsx (sources,',
    '                   more memory; the default with --quick)',
    '  --note TEXT      a note stored with the results (e.g. "machine shared with other builds")',
    '  -h, --help       this text',
    '',
    'Cases:',
    ...CASES.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}
