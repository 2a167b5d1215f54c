/**
 * `brook job run … --until-end`: a bounded run, the batch layer of a Lambda architecture over the
 * same log. The end offsets of the job's input topics are read when it starts; once the job's
 * group has committed at least those offsets on every partition, and has caught up with the
 * topics it both writes and reads (its own repartition topics, whose ends move while it runs),
 * the container is shut down and the command exits.
 *
 * The container itself is unaware of the bound: records appended to the inputs while it runs may
 * be processed too. Over a log that is not being written to (a batch re-run, a test), the result
 * is exactly "every record up to the ends seen at start".
 */
import { Admin } from '../client/index.js';
import type { AnyJob } from '../streams/job.js';

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
}

type Ends = Map<string, number>;

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

/**
 * Reads the inputs' end offsets now, then polls the group's commits until they are reached and
 * calls `stop`. Resolves when it stopped the job or `signal` aborted.
 */
export async function watchUntilEnd(options: UntilEndOptions): Promise<void> {
  const admin = new Admin({ bootstrapServers: options.bootstrapServers });
  try {
    const inputs = topicsOf(options.job.inputs as Record<string, { topic: string }>);
    const outputs = topicsOf(options.job.outputs as Record<string, { topic: string }>);
    const internal = [...inputs].filter((t) => outputs.has(t));
    const external = [...inputs].filter((t) => !outputs.has(t));
    const atStart = await endOffsets(admin, external);
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
