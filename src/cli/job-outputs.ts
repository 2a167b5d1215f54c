/**
 * `brook job outputs <job.ts | alias>`: which version serves a job now and the topics to read,
 * from the serving alias in `brook-job-aliases` (what `brook job reprocess` switches). Without a
 * recorded switch the job serves under its own id; given the job file, its outputs are listed.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { changelogTopics } from '../streams/runtime/topics.js';
import { loadJob } from '../streams/runtime/load-job.js';
import { aliasOf } from '../streams/runtime/versioning.js';
import { readAliases } from '../streams/query/aliases.js';

interface OutputsOptions {
  bootstrapServer: string;
  json?: boolean;
}

/** What `brook job outputs` reports. */
export interface ServingReport {
  readonly alias: string;
  readonly jobId: string;
  readonly version: string | null;
  readonly switchedAt: string | null;
  /** Each output topic as the job names it → the topic to read now; null when unknown. */
  readonly outputs: Readonly<Record<string, string>> | null;
  readonly changelogs: readonly string[] | null;
  readonly query: readonly string[];
}

/** The serving version of `target` (a job file or an alias). */
export async function servingReport(
  target: string,
  bootstrapServers: string,
): Promise<ServingReport> {
  const isFile = /\.[mc]?[jt]sx?$/.test(target) && existsSync(target);
  const job = isFile ? await loadJob(target) : undefined;
  const alias = job === undefined ? target : aliasOf(job);
  const current = (await readAliases(bootstrapServers)).get(alias);
  if (current !== undefined) {
    return {
      alias,
      jobId: current.jobId,
      version: current.version,
      switchedAt: current.switchedAt,
      outputs: current.outputs ?? null,
      changelogs: current.changelogs ?? null,
      query: current.query ?? [],
    };
  }
  const inputs = new Set(
    Object.values((job?.inputs ?? {}) as Record<string, { topic: string }>).map((s) => s.topic),
  );
  const outputs =
    job === undefined
      ? null
      : Object.fromEntries(
          Object.values(job.outputs as Record<string, { topic: string }>)
            .filter((s) => !inputs.has(s.topic))
            .map((s) => [s.topic, s.topic]),
        );
  return {
    alias,
    jobId: job?.id ?? alias,
    version: null,
    switchedAt: null,
    outputs,
    changelogs: job === undefined ? null : changelogTopics(job, job.id),
    query: [],
  };
}

async function outputs(target: string, o: OutputsOptions): Promise<void> {
  let report: ServingReport;
  try {
    report = await servingReport(target, o.bootstrapServer);
  } catch (error) {
    process.stderr.write(`brook job outputs: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines = [
    report.version === null
      ? `${report.alias}: served by ${report.jobId} (no version switch recorded)`
      : `${report.alias}: served by ${report.jobId} (version ${report.version}, since ${report.switchedAt})`,
  ];
  if (report.outputs === null) lines.push('  outputs: unknown (give the job file to list them)');
  for (const [name, topic] of Object.entries(report.outputs ?? {})) {
    lines.push(name === topic ? `  output: ${topic}` : `  output: ${topic} (for ${name})`);
  }
  for (const topic of report.changelogs ?? []) lines.push(`  changelog: ${topic}`);
  for (const address of report.query) lines.push(`  query: http://${address}/stores`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The `brook job outputs` sub-command. */
export function outputsCommand(): Command {
  return new Command('outputs')
    .description('the version serving a job now and its output topics (from brook-job-aliases)')
    .argument('<job>', 'the job module, or the alias (the live job id)')
    .option(
      '--bootstrap-server <host:port>',
      'broker(s) to connect to',
      process.env.BROOK_BOOTSTRAP_SERVER ?? 'localhost:9092',
    )
    .option('--json', 'print one JSON object')
    .action(outputs);
}
