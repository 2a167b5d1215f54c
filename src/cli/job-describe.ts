/**
 * `brook job describe path/to/job.ts`: prints the job's operators, the topics and stores each
 * uses, and its tasks. With `--bootstrap-server`, partition counts come from the broker and
 * joins whose inputs are not co-partitioned are reported with the fix (exit code 1).
 */
import { Command } from 'commander';
import { Admin } from '../client/index.js';
import {
  copartitioningErrors,
  DESCRIPTION,
  describeJob,
  type GraphDescription,
} from '../streams/dsl/describe.js';
import { loadJob } from '../streams/runtime/load-job.js';

async function describe(file: string, o: { bootstrapServer?: string }): Promise<void> {
  try {
    const job = await loadJob(file);
    let partitions: Map<string, number> | undefined;
    if (o.bootstrapServer !== undefined) {
      partitions = new Map();
      const admin = new Admin({ bootstrapServers: o.bootstrapServer });
      try {
        const topics = Object.values(job.inputs).map((s) => (s as { topic: string }).topic);
        for (const topic of topics) {
          const [info] = await admin.describeTopics([topic]).catch(() => []);
          if (info !== undefined) partitions.set(topic, info.partitions.length);
        }
      } finally {
        await admin.close();
      }
    }
    process.stdout.write(describeJob(job, partitions));
    const graph = (job as unknown as Record<symbol, GraphDescription | undefined>)[DESCRIPTION];
    if (partitions !== undefined && graph !== undefined) {
      if (copartitioningErrors(graph, partitions).length > 0) process.exitCode = 1;
    }
  } catch (error) {
    process.stderr.write(`brook job describe: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

/** The `job describe` sub-command. */
export function describeCommand(): Command {
  return new Command('describe')
    .description("print a job's operators, topics, stores and tasks")
    .argument('<file>', 'the job module (.ts or .js)')
    .option('--bootstrap-server <host:port>', 'read partition counts and check co-partitioning')
    .action(describe);
}
