/*
 * A version of a job beside the live one, for Kappa reprocessing: the same job definition with
 * its id and every topic it writes renamed, so the new version runs from the earliest offsets
 * into its own outputs, group, changelogs, repartition topics and local state while the live
 * version keeps serving. The job module stays as written; `brook job run --version v2` and
 * `brook job reprocess --version v2` apply this to whatever job they load, high-level (DSL) jobs
 * included, since the DSL compiles to the same definition.
 *
 * Names: the id `<id>` becomes `<id>-<version>`; an internal topic of the job (one whose name
 * starts with `<id>-`, such as the DSL's `<id>-<op>-repartition`) follows the id
 * (`<id>-<version>-<op>-repartition`); any other output topic `t` becomes `t-<version>`. Inputs
 * that the job also writes are renamed the same way; external inputs are read as they are.
 * Changelogs follow the id in the runtime (`<job-id>-<store>-changelog`), and so do state
 * folders. A module that already names versioned topics (id ending in `-<version>`) is left as
 * it is.
 */
import type { AnyJob, IncomingEnvelope, Inputs, StreamTask } from '../job.js';

/** The config key naming the alias a versioned job serves under (the live job's id). */
export const ALIAS_CONFIG = 'job.alias';
/** The config key carrying the version (`v2`) of a versioned job. */
export const VERSION_CONFIG = 'job.version';

/** A version string that cannot be part of topic names. */
export class JobVersionError extends Error {
  override readonly name = 'JobVersionError';
}

const VERSION_NAME = /^[A-Za-z0-9._-]{1,40}$/;

/** What `withVersion` renamed: old → new, for outputs and for the id. */
export interface VersionPlan {
  /** The alias the versioned job serves under: the unversioned id. */
  readonly aliasId: string;
  readonly jobId: string;
  readonly version: string;
  /** Every renamed topic, unversioned name → versioned name. */
  readonly topics: ReadonlyMap<string, string>;
}

/** The alias a job serves under: `job.alias` from its config, else its id. */
export function aliasOf(job: Pick<AnyJob, 'id' | 'config'>): string {
  return job.config?.[ALIAS_CONFIG] ?? job.id;
}

/** The id, alias and topic names `withVersion(job, version)` gives, without building the job. */
export function planVersion(
  job: Pick<AnyJob, 'id' | 'outputs' | 'config'>,
  version: string,
): VersionPlan {
  if (!VERSION_NAME.test(version)) {
    throw new JobVersionError(
      `version "${version}" must be 1-40 letters, digits, '.', '_' or '-' (it is part of topic names)`,
    );
  }
  const suffix = `-${version}`;
  const already = job.id.endsWith(suffix);
  const baseId = already ? job.id.slice(0, -suffix.length) : job.id;
  const jobId = `${baseId}${suffix}`;
  const topics = new Map<string, string>();
  for (const spec of Object.values(job.outputs as Record<string, { topic: string }>)) {
    const t = spec.topic;
    let renamed: string;
    if (t.startsWith(`${jobId}-`) || t.endsWith(suffix)) renamed = t;
    else if (t.startsWith(`${baseId}-`)) renamed = `${jobId}-${t.slice(baseId.length + 1)}`;
    else renamed = `${t}${suffix}`;
    if (renamed !== t) topics.set(t, renamed);
  }
  return { aliasId: job.config?.[ALIAS_CONFIG] ?? baseId, jobId, version, topics };
}

/**
 * The job `job` as version `version`: id `<id>-<version>`, outputs renamed (see the module
 * comment), config `job.alias` (the live id) and `job.version` set. When inputs are renamed
 * (topics the job writes and reads), its tasks see envelopes with the original topic names, so
 * tasks that route by topic (the DSL's) run unchanged.
 */
export function withVersion(job: AnyJob, version: string): AnyJob {
  const plan = planVersion(job, version);
  const rename = (t: string): string => plan.topics.get(t) ?? t;
  const outputs: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(job.outputs as Record<string, { topic: string }>)) {
    outputs[name] = { ...spec, topic: rename(spec.topic) };
  }
  const inputs: Record<string, unknown> = {};
  const original = new Map<string, string>();
  for (const [name, spec] of Object.entries(job.inputs as Record<string, { topic: string }>)) {
    const topic = rename(spec.topic);
    if (topic !== spec.topic) original.set(topic, spec.topic);
    inputs[name] = { ...spec, topic };
  }
  const versioned: AnyJob = {
    ...job,
    id: plan.jobId,
    inputs: inputs as Inputs,
    outputs: outputs as AnyJob['outputs'],
    config: { ...job.config, [ALIAS_CONFIG]: plan.aliasId, [VERSION_CONFIG]: version },
    task: original.size === 0 ? job.task : () => renamingTask(job.task(), original),
  };
  // Keep what tools attach under symbols (the DSL's description for `brook job describe`).
  for (const symbol of Object.getOwnPropertySymbols(job)) {
    Object.defineProperty(versioned, symbol, {
      value: (job as unknown as Record<symbol, unknown>)[symbol],
      enumerable: false,
    });
  }
  return versioned;
}

type AnyTask = StreamTask<Inputs, AnyJob['outputs'], AnyJob['stores']>;

/**
 * Wraps a task so that envelopes of renamed inputs carry the topic name the task was written
 * against. Only records of renamed (internal) topics get a copy of their envelope.
 */
function renamingTask(inner: AnyTask, original: ReadonlyMap<string, string>): AnyTask {
  const task: AnyTask = {
    process(envelope, collector, coordinator) {
      const topic = original.get(envelope.topic);
      const seen: IncomingEnvelope<Inputs> =
        topic === undefined ? envelope : { ...envelope, topic };
      return inner.process(seen, collector, coordinator);
    },
  };
  if (inner.init !== undefined) task.init = (context) => inner.init!(context);
  if (inner.window !== undefined) task.window = (c, k) => inner.window!(c, k);
  if (inner.close !== undefined) task.close = () => inner.close!();
  return task;
}
