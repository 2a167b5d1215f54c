/**
 * `brook job reprocess path/to/job.ts --version v2`: Kappa reprocessing in one command. Starts
 * the new version of a job as its own group (`<id>-<version>`, so its own changelogs and state)
 * from the earliest retained offsets, prints its catch-up progress against the live version (the
 * summed lag of both groups on the job's inputs), and once it has caught up records the switch in
 * the compacted topic `brook-job-aliases` (key: the live job id, value: `{version, jobId,
 * switchedAt}`) — what readers use to find the current version. The new version then keeps
 * running in the foreground until Ctrl-C.
 *
 * Partial: the job module names its own outputs (write version-suffixed topics in it, as
 * examples/job-titles/job-v2.ts does); the query endpoint does not read the alias yet; and
 * `--retire-old` only deletes the old version's group offsets after the switch (its container,
 * which may run anywhere, must be stopped by its operator, and its output topics are left).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Command } from 'commander';
import { Admin, Producer } from '../client/index.js';
import { loadJob } from '../streams/runtime/load-job.js';
import { DEFAULT_STATE_DIR } from '../streams/types.js';

/** The compacted topic mapping a job id to its current version. */
export const ALIAS_TOPIC = 'brook-job-aliases';

interface ReprocessOptions {
  /** `--version v2` (the documented flag) or its alias `--new-version v2`. */
  version?: string;
  newVersion?: string;
  liveId?: string;
  bootstrapServer: string;
  stateDir: string;
  retireOld?: boolean;
}

/** Summed lag of `group` on `topics`, or null while some partition has no commit. */
async function lagOn(admin: Admin, group: string, topics: Set<string>): Promise<number | null> {
  const { partitions } = await admin.groupLag(group);
  const mine = partitions.filter((p) => topics.has(p.topic));
  if (mine.length === 0 || mine.some((p) => p.lag === null)) return null;
  return mine.reduce((n, p) => n + (p.lag ?? 0), 0);
}

async function reprocess(file: string, options: ReprocessOptions): Promise<void> {
  const newVersion = options.version ?? options.newVersion;
  if (newVersion === undefined) {
    process.stderr.write(
      'brook job reprocess: give the new version with --version, e.g. --version v2\n',
    );
    process.exitCode = 2;
    return;
  }
  const o = { ...options, newVersion };
  const job = await loadJob(file);
  const liveId = o.liveId ?? job.id.replace(new RegExp(`-${o.newVersion}$`), '');
  const newId = job.id.endsWith(`-${o.newVersion}`) ? job.id : `${job.id}-${o.newVersion}`;
  const inputs = new Set(
    Object.values(job.inputs as Record<string, { topic: string }>).map((s) => s.topic),
  );
  const outputs = new Set(
    Object.values(job.outputs as Record<string, { topic: string }>).map((s) => s.topic),
  );
  const external = new Set([...inputs].filter((t) => !outputs.has(t)));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`brook job reprocess: ${newId} from the earliest offsets, next to the live ${liveId}`);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...process.execArgv,
      process.argv[1]!,
      'job',
      'run',
      file,
      '--job-id',
      newId,
      '--reset',
      'earliest',
      '--bootstrap-server',
      o.bootstrapServer,
      '--state-dir',
      o.stateDir,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = () => child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const admin = new Admin({ bootstrapServers: o.bootstrapServer });
  let switched = false;
  try {
    while (!switched && child.exitCode === null) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      if (child.exitCode !== null) break;
      const [mine, live] = await Promise.all([
        lagOn(admin, newId, external),
        lagOn(admin, liveId, external),
      ]);
      say(`catch-up: ${newId} lag ${mine ?? 'starting'}, live ${liveId} lag ${live ?? 'none'}`);
      if (mine !== null && mine <= (live ?? 0)) {
        const producer = new Producer({ bootstrapServers: o.bootstrapServer });
        try {
          const existing = new Set(await admin.listTopics());
          if (!existing.has(ALIAS_TOPIC)) {
            await admin.createTopics([
              { topic: ALIAS_TOPIC, numPartitions: 1, configs: { 'cleanup.policy': 'compact' } },
            ]);
          }
          const value = {
            version: o.newVersion,
            jobId: newId,
            switchedAt: new Date().toISOString(),
          };
          await producer.send(ALIAS_TOPIC, [{ key: liveId, value: JSON.stringify(value) }]);
        } finally {
          await producer.close();
        }
        switched = true;
        say(`switched: ${liveId} is now served by ${newId} (alias in ${ALIAS_TOPIC})`);
        if (o.retireOld) {
          await admin.deleteGroups([liveId]).then(
            () => say(`retired: deleted the offsets of group ${liveId}`),
            (e: Error) => say(`could not delete group ${liveId} (still running?): ${e.message}`),
          );
        }
      }
    }
  } finally {
    await admin.close();
  }
  const code = await exited;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  process.exitCode = code ?? 0;
}

/** The `brook job reprocess` sub-command. */
export function reprocessCommand(): Command {
  return new Command('reprocess')
    .description('run a new version of a job from the earliest offsets and switch to it (Kappa)')
    .argument('<file>', 'the new version of the job module')
    .option('--version <v>', 'the new version, e.g. v2 (group <id>-<v>)')
    .option('--new-version <v>', 'the same as --version')
    .option('--live-id <id>', "the live version's job id (default: the id without -<version>)")
    .option(
      '--bootstrap-server <host:port>',
      'broker(s) to connect to',
      process.env.BROOK_BOOTSTRAP_SERVER ?? 'localhost:9092',
    )
    .option('--state-dir <dir>', 'where stores keep their files', DEFAULT_STATE_DIR)
    .option('--retire-old', "after the switch, delete the live version's group offsets")
    .action(reprocess);
}
