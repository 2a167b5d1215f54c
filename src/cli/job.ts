/**
 * `brook job run path/to/job.ts`: starts one container of a stream job. Containers of the same
 * job, on this machine or others, share its tasks through the consumer group named after the job.
 */
import { Command } from 'commander';
import { pino } from 'pino';
import type { AnyJob } from '../streams/job.js';
import { Container } from '../streams/runtime/container.js';
import { loadJob } from '../streams/runtime/load-job.js';
import { aliasOf, withVersion } from '../streams/runtime/versioning.js';
import { DEFAULT_STATE_DIR } from '../streams/types.js';
import { collect, parseCount, parsePairs, UsageError } from './client-common.js';
import { watchForRetirement } from './job-alias-watch.js';
import { describeCommand } from './job-describe.js';
import { outputsCommand } from './job-outputs.js';
import { createVersionOutputs } from './job-version-topics.js';
import { reprocessCommand } from './job-reprocess.js';
import { boundedJob, type Ends, readInputEnds, watchUntilEnd } from './job-until-end.js';

interface JobRunOptions {
  bootstrapServer: string;
  jobId?: string;
  stateDir: string;
  reset?: string;
  config?: string[];
  metricsPort?: string;
  logLevel: string;
  untilEnd?: boolean;
  version?: string;
}

async function runJob(file: string, o: JobRunOptions): Promise<void> {
  let container: Container;
  let job: AnyJob;
  let jobId: string;
  let ends: Ends | undefined;
  try {
    const config = parsePairs(o.config, '--config');
    if (o.reset !== undefined) {
      if (o.reset !== 'earliest' && o.reset !== 'latest') {
        throw new UsageError(`--reset must be earliest or latest, not "${o.reset}"`);
      }
      config['auto.offset.reset'] = o.reset;
    }
    // A bounded run checkpoints often, since it stops once its commits reach the ends.
    if (o.untilEnd && config['task.commit.ms'] === undefined) config['task.commit.ms'] = '500';
    job = await loadJob(file);
    if (o.version !== undefined) {
      const versioned = withVersion(job, o.version);
      await createVersionOutputs(o.bootstrapServer, job, versioned);
      job = versioned;
    }
    jobId = o.jobId ?? job.id;
    if (o.untilEnd) {
      // The bound is read before the container consumes anything.
      ends = await readInputEnds(o.bootstrapServer, job);
      job = boundedJob(job, ends);
    }
    // Query servers read the serving alias from the same cluster.
    config['bootstrap.servers'] ??= o.bootstrapServer;
    container = new Container(job, {
      bootstrapServers: o.bootstrapServer,
      jobId,
      stateDir: o.stateDir,
      config,
      metricsPort: parseCount(o.metricsPort, '--metrics-port'),
      logger: pino({ level: o.logLevel, base: { job: jobId, pid: process.pid } }),
    });
  } catch (error) {
    process.stderr.write(`brook job run: ${(error as Error).message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
    return;
  }
  const stop = (): void => container.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const stopped = new AbortController();
  const retirement = watchForRetirement({
    bootstrapServers: o.bootstrapServer,
    jobId,
    alias: aliasOf({ id: jobId, config: job.config }),
    signal: stopped.signal,
    stop: (reason) => {
      process.stdout.write(`${JSON.stringify({ event: 'job-retired', job: jobId, reason })}\n`);
      stop();
    },
  });
  const bound = o.untilEnd
    ? watchUntilEnd({
        bootstrapServers: o.bootstrapServer,
        groupId: jobId,
        job,
        stop,
        signal: stopped.signal,
        ...(ends === undefined ? {} : { ends }),
      }).catch((error: Error) => {
        process.stderr.write(`brook job run: --until-end: ${error.message}\n`);
        process.exitCode = 1;
        stop();
      })
    : undefined;
  try {
    await container.run();
  } catch (error) {
    process.stderr.write(`brook job run: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    stopped.abort();
    await bound;
    await retirement;
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}

/** The `job` command and its sub-commands. */
export function jobCommand(): Command {
  const job = new Command('job').description('run stream processing jobs');
  job
    .command('run')
    .description('start one container of a job (a module whose default export is defineJob({...}))')
    .argument('<file>', 'the job module (.ts or .js)')
    .option(
      '--bootstrap-server <host:port>',
      'broker(s) to connect to, comma-separated',
      process.env.BROOK_BOOTSTRAP_SERVER ?? 'localhost:9092',
    )
    .option('--job-id <id>', "overrides the job's id (its consumer group and changelog prefix)")
    .option('--state-dir <dir>', 'where stores keep their files', DEFAULT_STATE_DIR)
    .option(
      '--reset <earliest|latest>',
      'where tasks without a checkpoint start (default earliest)',
    )
    .option('--config <key=value>', 'job config, e.g. task.commit.ms=1000 (repeatable)', collect)
    .option('--metrics-port <n>', 'serve Prometheus metrics on 127.0.0.1:<n>/metrics (0: any port)')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .option(
      '--until-end',
      'bounded run: stop once the inputs are processed up to their end offsets at start',
    )
    .option(
      '--version <v>',
      'run the job as version <v>: id <id>-<v>, outputs <topic>-<v>, its own changelogs and state',
    )
    .action(runJob);
  job.addCommand(describeCommand());
  job.addCommand(reprocessCommand());
  job.addCommand(outputsCommand());
  return job;
}
