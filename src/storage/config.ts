/**
 * Per-topic log configuration, named exactly as Kafka names its topic configs, with Kafka's
 * defaults (except where Brook documents otherwise: see `flush.policy` and `flush.ms`).
 */

/** `cleanup.policy`: which of retention (`delete`) and compaction (`compact`) apply. */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/**
 * `flush.policy` (Brook's own): `interval` writes to the OS at once and fdatasyncs every
 * `flush.ms` / `flush.messages`; `always` fdatasyncs before an append is acknowledged, with
 * group commit. See docs/storage.md for what each promises.
 */
export type FlushPolicy = 'interval' | 'always';

/** The typed per-topic config. Keys are Kafka's topic config names. */
export interface LogConfig {
  'segment.bytes': number;
  'segment.ms': number;
  'segment.jitter.ms': number;
  'segment.index.bytes': number;
  'index.interval.bytes': number;
  'retention.ms': number;
  'retention.bytes': number;
  'cleanup.policy': CleanupPolicy;
  'delete.retention.ms': number;
  'min.cleanable.dirty.ratio': number;
  'min.compaction.lag.ms': number;
  'message.timestamp.type': 'CreateTime' | 'LogAppendTime';
  'flush.policy': FlushPolicy;
  'flush.ms': number;
  'flush.messages': number;
  'file.delete.delay.ms': number;
}

/**
 * Kafka's defaults. Brook differs in one place: `flush.ms` is 1000 rather than Kafka's
 * Long.MAX_VALUE, because a single Brook node has no replicas to fall back on, so data is synced
 * to disk on an interval by default.
 */
export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  'segment.bytes': 1024 * 1024 * 1024,
  'segment.ms': 7 * 24 * 3600 * 1000,
  'segment.jitter.ms': 0,
  'segment.index.bytes': 10 * 1024 * 1024,
  'index.interval.bytes': 4096,
  'retention.ms': 7 * 24 * 3600 * 1000,
  'retention.bytes': -1,
  'cleanup.policy': 'delete',
  'delete.retention.ms': 24 * 3600 * 1000,
  'min.cleanable.dirty.ratio': 0.5,
  'min.compaction.lag.ms': 0,
  'message.timestamp.type': 'CreateTime',
  'flush.policy': 'interval',
  'flush.ms': 1000,
  'flush.messages': Number.MAX_SAFE_INTEGER,
  'file.delete.delay.ms': 60_000,
});

/** Raised for a config value that is out of range or of the wrong type. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
}

const NUMERIC_MIN: Partial<Record<keyof LogConfig, number>> = {
  'segment.bytes': 14,
  'segment.ms': 1,
  'segment.jitter.ms': 0,
  'segment.index.bytes': 4,
  'index.interval.bytes': 0,
  'retention.ms': -1,
  'retention.bytes': -1,
  'delete.retention.ms': 0,
  'min.cleanable.dirty.ratio': 0,
  'min.compaction.lag.ms': 0,
  'flush.ms': 0,
  'flush.messages': 1,
  'file.delete.delay.ms': 0,
};

/**
 * Builds a full config from Kafka-named overrides (numbers or strings, as they arrive from
 * CreateTopics / AlterConfigs), validating each value. Unknown keys are rejected.
 */
export function logConfig(overrides: Partial<Record<keyof LogConfig, unknown>> = {}): LogConfig {
  const out: LogConfig = { ...DEFAULT_LOG_CONFIG };
  for (const [key, raw] of Object.entries(overrides)) {
    if (raw === undefined) continue;
    if (!(key in DEFAULT_LOG_CONFIG)) throw new InvalidConfigError(`unknown topic config ${key}`);
    const k = key as keyof LogConfig;
    switch (k) {
      case 'cleanup.policy': {
        const v = String(raw)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .sort()
          .join(',');
        if (v !== 'delete' && v !== 'compact' && v !== 'compact,delete')
          throw new InvalidConfigError(
            `cleanup.policy must be delete, compact or both, not ${raw}`,
          );
        out[k] = v;
        break;
      }
      case 'message.timestamp.type':
        if (raw !== 'CreateTime' && raw !== 'LogAppendTime')
          throw new InvalidConfigError(
            `message.timestamp.type must be CreateTime or LogAppendTime`,
          );
        out[k] = raw;
        break;
      case 'flush.policy':
        if (raw !== 'interval' && raw !== 'always')
          throw new InvalidConfigError(`flush.policy must be interval or always, not ${raw}`);
        out[k] = raw;
        break;
      default: {
        const n = typeof raw === 'number' ? raw : Number(raw);
        const min = NUMERIC_MIN[k] ?? 0;
        if (
          !Number.isFinite(n) ||
          n < min ||
          (k !== 'min.cleanable.dirty.ratio' && !Number.isInteger(n))
        )
          throw new InvalidConfigError(`${k} must be a number >= ${min}, not ${String(raw)}`);
        if (k === 'min.cleanable.dirty.ratio' && n > 1)
          throw new InvalidConfigError(`min.cleanable.dirty.ratio must be in [0, 1]`);
        (out as unknown as Record<string, number>)[k] = n;
      }
    }
  }
  return out;
}

/** True when the policy includes compaction. */
export const isCompacted = (c: LogConfig): boolean => c['cleanup.policy'].includes('compact');
/** True when the policy includes time/size retention. */
export const isDeleteRetained = (c: LogConfig): boolean => c['cleanup.policy'].includes('delete');
