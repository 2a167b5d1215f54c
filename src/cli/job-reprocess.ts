/**
 * `brook job reprocess path/to/job.ts --version v2`: Kappa reprocessing in one command, as Jay
 * Kreps' "Questioning the Lambda Architecture" describes it.
 *
 * 1. The job module, as written, is run as version v2 (`withVersion`, src/streams/runtime/
 *    versioning.ts): job id `<id>-v2`, so its own group, changelogs and local state; outputs
 *    `<topic>-v2`; internal (repartition) topics `<id>-v2-…`. It starts from the earliest
 *    retained offsets, as a `brook job run --version v2` child.
 * 2. Every second it prints the new version's lag on the job's inputs beside the live
 *    version's (the id the alias names now, or the id itself before any switch).
 * 3. Once caught up (external inputs no further behind than the live version, its own
 *    repartition topics too), it records the switch in the compacted `brook-job-aliases`:
 *    key the alias (the unversioned id), value the new job id, version, output topics,
 *    changelogs, internal topics and query address. Query servers of every version and
 *    `brook job outputs` read it; store queries sent to the old version's query server are
 *    answered by the new one. The old version keeps serving until this moment.
 * 4. With `--retire-old`, the switch also asks the old version's containers to stop (they watch
 *    the alias), then its group offsets, output, repartition and changelog topics and local
 *    state are deleted (src/cli/job-retire.ts).
 *
 * The new version then keeps running in the foreground until Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Command } from 'commander';
import { Admin } from '../client/index.js';
import type { AnyJob } from '../streams/job.js';
import { type JobAlias, readAliases, writeAlias } from '../streams/query/aliases.js';
import { loadJob } from '../streams/runtime/load-job.js';
import { changelogTopics } from '../streams/runtime/topics.js';
import { aliasOf, withVersion } from '../streams/runtime/versioning.js';
import { DEFAULT_STATE_DIR } from '../streams/types.js';
import { collect } from './client-common.js';
import { retireVersion } from './job-retire.js';
import { createVersionOutputs } from './job-version-topics.js';

export { ALIAS_TOPIC } from '../streams/query/aliases.js';

interface ReprocessOptions {
  /** `--version v2` (the documented flag) or its alias `--new-version v2`. */
  version?: string;
  newVersion?: string;
  liveId?: string;
  bootstrapServer: string;
  stateDir: string;
  retireOld?: boolean;
  queryPort: string;
  config?: string[];
}

/** Summed lag of `group` on `topics`, or null while some partition has no commit. */
async function lagOn(admin: Admin, group: string, topics: Set<string>): Promise<number | null> {
  if (topics.size === 0) return 0;
  const { partitions } = await admin.groupLag(group);
  const mine = partitions.filter((p) => topics.has(p.topic));
  if (mine.length === 0 || mine.some((p) => p.lag === null)) return null;
  return mine.reduce((n, p) => n + (p.lag ?? 0), 0);
}

const topicsOf = (specs: object): Set<string> =>
  new Set(Object.values(specs as Record<string, { topic: string }>).map((s) => s.topic));

/** The topics a job writes, split: external outputs, internal (also read), changelogs. */
function topicsOfJob(job: AnyJob, jobId: string) {
  const inputs = topicsOf(job.inputs);
  const outputs = topicsOf(job.outputs);
  return {
    inputs,
    outputs,
    internal: [...outputs].filter((t) => inputs.has(t)),
    external: new Set([...inputs].filter((t) => !outputs.has(t))),
    changelogs: changelogTopics(job, jobId),
  };
}

/**
 * The old version's topics: as its alias record lists them, else those of the job as written
 * (the module without a version: the live job's names when its topology is unchanged).
 */
function oldTopics(previous: JobAlias | undefined, loaded: AnyJob, liveId: string): string[] {
  if (previous !== undefined && previous.jobId === liveId) {
    return [
      ...Object.values(previous.outputs ?? {}),
      ...(previous.internal ?? []),
      ...(previous.changelogs ?? []),
    ];
  }
  const t = topicsOfJob(loaded, liveId);
  return [...t.outputs, ...t.changelogs];
}

/** Each external output of the job as written → the topic the version writes instead. */
function outputMap(loaded: AnyJob, job: AnyJob, internal: Set<string>): Record<string, string> {
  const before = loaded.outputs as Record<string, { topic: string }>;
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(job.outputs as Record<string, { topic: string }>)) {
    if (!internal.has(spec.topic)) out[before[name]?.topic ?? spec.topic] = spec.topic;
  }
  return out;
}

/** Starts `brook job run <file> --version <v>` and collects its query address. */
function startNewVersion(file: string, version: string, o: ReprocessOptions) {
  const config = [
    'task.commit.ms=1000',
    ...(o.queryPort === 'none' ? [] : [`query.port=${o.queryPort}`]),
    ...(o.config ?? []),
  ];
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...process.execArgv,
      process.argv[1]!,
      'job',
      'run',
      file,
      '--version',
      version,
      '--reset',
      'earliest',
      '--bootstrap-server',
      o.bootstrapServer,
      '--state-dir',
      o.stateDir,
      '--log-level',
      'warn',
      ...config.flatMap((c) => ['--config', c]),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const query: string[] = [];
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('query-server-started')) continue;
      try {
        const event = JSON.parse(line) as { address?: string };
        if (typeof event.address === 'string') query.push(event.address);
      } catch {
        // Not a JSON line: nothing to learn from it.
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, query, exited };
}

async function reprocess(file: string, options: ReprocessOptions): Promise<void> {
  const version = options.version ?? options.newVersion;
  if (version === undefined) {
    process.stderr.write(
      'brook job reprocess: give the new version with --version, e.g. --version v2\n',
    );
    process.exitCode = 2;
    return;
  }
  const o = options;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let loaded: AnyJob;
  let job: AnyJob;
  let previous: JobAlias | undefined;
  try {
    loaded = await loadJob(file);
    job = withVersion(loaded, version);
    previous = (await readAliases(o.bootstrapServer)).get(aliasOf(job));
    for (const topic of await createVersionOutputs(o.bootstrapServer, loaded, job)) {
      say(`created ${topic}`);
    }
  } catch (error) {
    process.stderr.write(`brook job reprocess: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const alias = aliasOf(job);
  const liveId = o.liveId ?? previous?.jobId ?? alias;
  if (liveId === job.id) {
    process.stderr.write(`brook job reprocess: ${job.id} already serves ${alias}\n`);
    process.exitCode = 2;
    return;
  }
  const mine = topicsOfJob(job, job.id);
  const internal = new Set(mine.internal);
  // The live version's internal topics: recorded, or the unversioned job's.
  const liveInternal = new Set(
    previous?.jobId === liveId ? (previous.internal ?? []) : topicsOfJob(loaded, liveId).internal,
  );
  say(`brook job reprocess: ${job.id} from the earliest offsets, next to the live ${liveId}`);
  const { child, query, exited } = startNewVersion(file, version, o);
  const stop = () => child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const admin = new Admin({ bootstrapServers: o.bootstrapServer });
  let switched = false;
  let retired = true;
  try {
    while (!switched && child.exitCode === null) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      if (child.exitCode !== null) break;
      // Upstream first: once the external inputs are caught up, the internal topics' ends
      // read next include what that input produced.
      const [ext, live] = await Promise.all([
        lagOn(admin, job.id, mine.external),
        lagOn(admin, liveId, mine.external),
      ]);
      const [int, liveInt] = await Promise.all([
        lagOn(admin, job.id, internal),
        lagOn(admin, liveId, liveInternal),
      ]);
      say(
        `catch-up: ${job.id} lag ${ext ?? 'starting'} (internal ${int ?? 'starting'}), live ${liveId} lag ${live ?? 'none'}`,
      );
      if (ext === null || int === null || ext > (live ?? 0) || int > (liveInt ?? 0)) continue;
      // A query server starts with the first task; give it a moment to report its address.
      for (let i = 0; i < 30 && query.length === 0 && o.queryPort !== 'none'; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const value: JobAlias = {
        jobId: job.id,
        version,
        switchedAt: new Date().toISOString(),
        previous: liveId,
        outputs: outputMap(loaded, job, internal),
        changelogs: mine.changelogs,
        internal: mine.internal,
        query: [...query],
        ...(o.retireOld ? { retire: [liveId] } : {}),
      };
      await writeAlias(o.bootstrapServer, alias, value);
      switched = true;
      say(`switched: ${alias} is now served by ${job.id} (alias in brook-job-aliases)`);
      if (o.retireOld) {
        retired = await retireVersion({
          bootstrapServers: o.bootstrapServer,
          jobId: liveId,
          topics: oldTopics(previous, loaded, liveId),
          keep: new Set([...mine.inputs, ...mine.outputs, ...mine.changelogs]),
          stateDir: o.stateDir,
          say,
        });
      }
    }
  } catch (error) {
    say(`brook job reprocess: ${(error as Error).message}`);
    retired = false;
    stop();
  } finally {
    await admin.close();
  }
  const code = await exited;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  process.exitCode = code !== 0 && code !== null ? code : retired ? 0 : 1;
}

/** The `brook job reprocess` sub-command. */
export function reprocessCommand(): Command {
  return new Command('reprocess')
    .description('run a new version of a job from the earliest offsets and switch to it (Kappa)')
    .argument('<file>', 'the job module (as written: the version renames its outputs)')
    .option('--version <v>', 'the new version, e.g. v2 (job id <id>-<v>, outputs <topic>-<v>)')
    .option('--new-version <v>', 'the same as --version')
    .option('--live-id <id>', "the live version's job id (default: what the alias names)")
    .option(
      '--bootstrap-server <host:port>',
      'broker(s) to connect to',
      process.env.BROOK_BOOTSTRAP_SERVER ?? 'localhost:9092',
    )
    .option('--state-dir <dir>', 'where stores keep their files', DEFAULT_STATE_DIR)
    .option('--query-port <n>', "the new version's query port (0: any; none: no server)", '0')
    .option('--config <key=value>', 'job config for the new version (repeatable)', collect)
    .option(
      '--retire-old',
      'after the switch, stop the old version and delete its offsets, topics and state',
    )
    .action(reprocess);
}
