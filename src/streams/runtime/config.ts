/*
 * The runtime's own config keys, Samza's and Kafka's names, read from the job's `config` with
 * the command line's overrides on top. Every other key is the job's, passed to tasks.
 */

/** Settings the container runs with. */
export interface RuntimeConfig {
  /** `task.commit.ms`: milliseconds between checkpoints. */
  readonly commitMs: number;
  /** `task.window.ms`: milliseconds between `window()` calls; -1 for never. */
  readonly windowMs: number;
  /** `auto.offset.reset`: where a task without a checkpoint starts. */
  readonly reset: 'earliest' | 'latest';
  /** `session.timeout.ms` of the job's consumer group membership. */
  readonly sessionTimeoutMs: number;
  /** `heartbeat.interval.ms`. */
  readonly heartbeatIntervalMs: number;
  /** `producer.linger.ms` for outputs and changelogs. */
  readonly lingerMs: number;
  /** `producer.batch.size` in bytes. */
  readonly batchSize: number;
}

/** A config value that cannot be used. */
export class JobConfigError extends Error {
  override readonly name = 'JobConfigError';
}

function integer(
  config: Readonly<Record<string, string>>,
  key: string,
  fallback: number,
  min: number,
): number {
  const text = config[key];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new JobConfigError(`${key} must be a whole number >= ${min}, not "${text}"`);
  }
  return n;
}

/** Reads the runtime's keys; defaults follow Samza and Kafka Streams where they fit a test run. */
export function resolveRuntimeConfig(config: Readonly<Record<string, string>>): RuntimeConfig {
  const reset = config['auto.offset.reset'] ?? 'earliest';
  if (reset !== 'earliest' && reset !== 'latest') {
    throw new JobConfigError(`auto.offset.reset must be earliest or latest, not "${reset}"`);
  }
  return {
    commitMs: integer(config, 'task.commit.ms', 5000, 1),
    windowMs: integer(config, 'task.window.ms', -1, -1),
    reset,
    sessionTimeoutMs: integer(config, 'session.timeout.ms', 10_000, 1),
    heartbeatIntervalMs: integer(config, 'heartbeat.interval.ms', 1000, 1),
    lingerMs: integer(config, 'producer.linger.ms', 5, 0),
    batchSize: integer(config, 'producer.batch.size', 256 * 1024, 1),
  };
}
