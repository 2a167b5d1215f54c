/**
 * The benchmark suite in one command: `npm run bench -- [--quick] [--case NAME] [--out DIR]`
 * (also `brook bench`). See docs/benchmarks.md and `--help`.
 */
import { fileURLToPath } from 'node:url';
import { helpText, parseBenchArgs } from './suite/args.js';
import { runSuite } from './suite/suite.js';

const argv = process.argv.slice(2);
let args: ReturnType<typeof parseBenchArgs>;
try {
  args = parseBenchArgs(argv, fileURLToPath(new URL('../bench-results/', import.meta.url)));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n\n${helpText()}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(helpText());
} else {
  const { result } = await runSuite({
    quick: args.quick,
    cases: args.cases,
    outDir: args.outDir,
    note: args.note,
    argv,
    brokerRuntime: args.broker,
  });
  // Figures are reported, not asserted; a case that threw is a failed run.
  process.exitCode = result.cases.some((c) => c.status === 'failed') ? 1 : 0;
}
