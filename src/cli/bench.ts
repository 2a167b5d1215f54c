/**
 * `brook bench [options]`: the benchmark suite (issue 10), the same as `npm run bench -- [options]`.
 * It runs `bench/run.ts` of this checkout through tsx in a child process with the options passed
 * through unchanged, so the two entry points cannot drift apart; `brook bench --help` prints the
 * suite's own help with every case name. Exits with the suite's exit code.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';

/** bench/run.ts next to src/ and dist/ (both are one level below the package root). */
const RUN = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));

export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'run the benchmark suite (Brook beside its peers and the machine limits); --help lists the cases',
    )
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument(
      '[options...]',
      'passed to the suite: --quick, --case NAME, --out DIR, --note TEXT, --help',
    )
    .action(async (options: string[]) => {
      if (!existsSync(RUN)) {
        process.stderr.write(
          `brook bench: ${RUN} is missing; the suite runs from a checkout of the Brook repository.\n`,
        );
        process.exitCode = 1;
        return;
      }
      // tsx resolved from Brook's own dependencies, whatever the current directory is.
      const tsx = import.meta.resolve('tsx');
      const child = spawn(process.execPath, ['--import', tsx, RUN, ...options], {
        stdio: 'inherit',
      });
      // Ctrl-C reaches the child through the terminal; the suite stops what it started itself.
      const forward = (signal: NodeJS.Signals): void => {
        child.kill(signal);
      };
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      const code = await new Promise<number>((resolve) =>
        child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 + 2 : 1))),
      );
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      process.exitCode = code;
    });
}
