/**
 * Retirement of an old job version, seen from its container: `brook job run` follows the job's
 * serving alias (`brook-job-aliases`), and when a newer version has taken it over and asks for
 * this job id to be retired (`brook job reprocess --retire-old`), it shuts its container down
 * cleanly (commit, leave the group), wherever it runs. Containers are never told directly: the
 * alias topic is the one place every container of every version can read.
 */
import { AliasReader } from '../streams/query/aliases.js';

/** Options of `watchForRetirement`. */
export interface RetirementWatchOptions {
  readonly bootstrapServers: string;
  /** This container's job id. */
  readonly jobId: string;
  /** The alias the job serves under. */
  readonly alias: string;
  /** Shuts the container down. */
  readonly stop: (reason: string) => void;
  /** Aborted when the container stops for another reason. */
  readonly signal: AbortSignal;
  /** Default 2000. */
  readonly pollMs?: number;
}

/** Polls the alias until it retires this job id (then calls `stop`) or `signal` aborts. */
export async function watchForRetirement(options: RetirementWatchOptions): Promise<void> {
  const reader = new AliasReader(options.bootstrapServers);
  while (!options.signal.aborted) {
    try {
      const current = (await reader.refresh()).get(options.alias);
      if (
        current !== undefined &&
        current.jobId !== options.jobId &&
        (current.retire ?? []).includes(options.jobId)
      ) {
        options.stop(
          `${options.alias} is served by ${current.jobId} now, which retired ${options.jobId}`,
        );
        return;
      }
    } catch {
      // The broker may be restarting; the container reports its own connection problems.
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, options.pollMs ?? 2000);
      options.signal.addEventListener('abort', done, { once: true });
    });
  }
}
