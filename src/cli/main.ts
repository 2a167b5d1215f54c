import { Command } from 'commander';
import { BROOK_VERSION } from '../version.js';
import { benchCommand } from './bench.js';
import { consumeCommand } from './consume.js';
import { demoCommand } from './demo.js';
import { groupsCommand } from './groups.js';
import { jobCommand } from './job.js';
import { produceCommand } from './produce.js';
import { startCommand } from './start.js';
import { topicsCommand } from './topics.js';

/** Builds the `brook` command tree. Each sub-command lives in its own file under src/cli/. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('brook')
    .description(
      'Brook: a Kafka-compatible broker, a typed Kafka client and a Samza-style stream processor.',
    )
    .version(BROOK_VERSION, '-V, --version', 'print the Brook version')
    .showHelpAfterError('(run `brook --help` for the list of commands)')
    // `--version` after a sub-command belongs to it (`brook job reprocess job.ts --version v2`).
    .enablePositionalOptions();
  program.addCommand(startCommand());
  program.addCommand(topicsCommand());
  program.addCommand(produceCommand());
  program.addCommand(consumeCommand());
  program.addCommand(groupsCommand());
  program.addCommand(jobCommand());
  program.addCommand(demoCommand());
  program.addCommand(benchCommand());
  return program;
}

/** Entry point used by bin/brook. */
export async function main(argv: string[]): Promise<void> {
  // `brook topics list | head` closes our stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  await buildProgram().parseAsync(argv);
}
