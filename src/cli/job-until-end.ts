/**
 * `brook job run … --until-end`: a bounded run, the batch layer of a Lambda architecture over the
 * same log. The end offsets of the job's input topics are read when it starts; once the job's
 * group has committed at least those offsets on every partition, and has caught up with the
 * topics it both writes and reads (its own repartition topics, whose ends move while it runs),
 * the container is shut down and the command exits.
 *
 * The container itself is unaware of the bound, so the job is wrapped (`boundedJob`): records of
 * the external inputs at or past the end offsets read at start are consumed but not given to the
 * task. The result is exactly "every record up to the ends seen at start" even while the inputs
 * are being written. The offsets of skipped records are committed with the rest: a group used
 * for a bounded run should not be resumed as a streaming one (give the run its own --job-id or
 * --version). Stopping stays commit-based: the ends of the job's own repartition topics are only
 * known once the upstream stage is done, which the commits show.
 */
import { Admin } from '../client/index.js';
import type { AnyJob, IncomingEnvelope, Inputs, StreamTask } from '../streams/job.js';

/** Options of `watchUntilEnd`. */
export interface UntilEndOptions {
  readonly bootstrapServers: string;
  /** The job's consumer group: its id. */
  readonly groupId: string;
  readonly job: AnyJob;
  /** Called once the bound is reached: shuts the container down. */
  readonly stop: () => void;
  /** Aborted when the container stops for another reason. */
  readonly signal: AbortSignal;
  readonly pollMs?: number;
  /** The external inputs' end offsets, when read before the container started. */
  readonly ends?: Ends;
}

/** End offsets by `topic\0partition`. */
export type Ends = Map<string, number>;

const topicsOf = (specs: Record<string, { topic: string }>): Set<string> =>
  new Set(Object.values(specs).map((s) => s.topic));

async function endOffsets(admin: Admin, topics: Iterable<string>): Promise<Ends> {
  const ends: Ends = new Map();
  for (const topic of topics) {
    const [info] = await admin.describeTopics([topic]);
    const tps = (info?.partitions ?? []).map((_, partition) => ({ topic, partition }));
    for (const [key, end] of await admin.listOffsets(tps, -1)) ends.set(key, end);
  }
  return ends;
}

async function reached(admin: Admin, groupId: string, ends: Ends): Promise<boolean> {
  const committed = new Map(
    (await admin.fetchOffsets(groupId)).map((c) => [`${c.topic}\0${c.partition}`, c.offset]),
  );
  for (const [key, end] of ends) {
    if (end > 0 && (committed.get(key) ?? -1) < end) return false;
  }
  return true;
}

/** The end offsets, now, of the job's external inputs (those it does not also write). */
export async function readInputEnds(bootstrapServers: string, job: AnyJob): Promise<Ends> {
  const admin = new Admin({ bootstrapServers });
  try {
    const outputs = topicsOf(job.outputs as Record<string, { topic: string }>);
    const inputs = topicsOf(job.inputs as Record<string, { topic: string }>);
    return await endOffsets(
      admin,
      [...inputs].filter((t) => !outputs.has(t)),
    );
  } finally {
    await admin.close();
  }
}

type AnyTask = StreamTask<Inputs, AnyJob['outputs'], AnyJob['stores']>;

/**
 * `job` with its tasks given only the external inputs' records below `ends` (a partition
 * missing from `ends`, created after they were read, gives none). Internal topics are not
 * bounded: they carry what the bounded input produced.
 */
export function boundedJob(job: AnyJob, ends: Ends): AnyJob {
  // Per topic, the end by partition: a lookup per record without building a key string.
  const byTopic = new Map<string, number[]>();
  for (const [key, end] of ends) {
    const [topic, partition] = key.split('\0') as [string, string];
    const list = byTopic.get(topic) ?? [];
    list[Number(partition)] = end;
    byTopic.set(topic, list);
  }
  const within = (envelope: IncomingEnvelope<Inputs>): boolean => {
    const list = byTopic.get(envelope.topic);
    return list === undefined || envelope.offset < (list[envelope.partition] ?? 0);
  };
  const task = (): AnyTask => {
    const inner = job.task() as AnyTask;
    const wrapped: AnyTask = {
      process: (envelope, collector, coordinator) =>
        within(envelope) ? inner.process(envelope, collector, coordinator) : undefined,
    };
    if (inner.init !== undefined) wrapped.init = (context) => inner.init!(context);
    if (inner.window !== undefined) wrapped.window = (c, k) => inner.window!(c, k);
    if (inner.close !== undefined) wrapped.close = () => inner.close!();
    return wrapped;
  };
  const bounded: AnyJob = { ...job, task };
  for (const symbol of Object.getOwnPropertySymbols(job)) {
    Object.defineProperty(bounded, symbol, {
      value: (job as unknown as Record<symbol, unknown>)[symbol],
      enumerable: false,
    });
  }
  return bounded;
}

/**
 * Reads the inputs' end offsets now (unless given), then polls the group's commits until they are reached and
 * calls `stop`. Resolves when it stopped the job or `signal` aborted.
 */
export async function watchUntilEnd(options: UntilEndOptions): Promise<void> {
  const admin = new Admin({ bootstrapServers: options.bootstrapServers });
  try {
    const inputs = topicsOf(options.job.inputs as Record<string, { topic: string }>);
    const outputs = topicsOf(options.job.outputs as Record<string, { topic: string }>);
    const internal = [...inputs].filter((t) => outputs.has(t));
    const external = [...inputs].filter((t) => !outputs.has(t));
    const atStart = options.ends ?? (await endOffsets(admin, external));
    while (!options.signal.aborted) {
      await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
      if (options.signal.aborted) return;
      // Upstream first: once the external inputs are committed, every record the job will send
      // to its internal topics has been sent, so their ends read next are final.
      if (!(await reached(admin, options.groupId, atStart))) continue;
      if (await reached(admin, options.groupId, await endOffsets(admin, internal))) {
        options.stop();
        return;
      }
    }
  } finally {
    await admin.close();
  }
}
