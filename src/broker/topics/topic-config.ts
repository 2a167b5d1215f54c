import { type LogConfig, logConfig } from '../../storage/config.js';
import type { BrokerConfig } from '../config.js';

/** A topic config value's type, for validation and DescribeConfigs. */
type TopicConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list';

/** Kafka's topic-level configs that Brook accepts, with the broker key that sets their default. */
export const TOPIC_CONFIGS: ReadonlyMap<string, { type: TopicConfigType; brokerKey?: string }> =
  new Map([
    ['cleanup.policy', { type: 'list', brokerKey: 'log.cleanup.policy' }],
    ['compression.type', { type: 'string', brokerKey: 'compression.type' }],
    ['delete.retention.ms', { type: 'long' }],
    ['file.delete.delay.ms', { type: 'long', brokerKey: 'log.segment.delete.delay.ms' }],
    ['flush.messages', { type: 'long', brokerKey: 'log.flush.interval.messages' }],
    ['flush.ms', { type: 'long', brokerKey: 'log.flush.interval.ms' }],
    ['flush.policy', { type: 'string' }],
    ['index.interval.bytes', { type: 'int', brokerKey: 'log.index.interval.bytes' }],
    ['max.compaction.lag.ms', { type: 'long' }],
    ['max.message.bytes', { type: 'int', brokerKey: 'message.max.bytes' }],
    [
      'message.timestamp.after.max.ms',
      { type: 'long', brokerKey: 'log.message.timestamp.after.max.ms' },
    ],
    [
      'message.timestamp.before.max.ms',
      { type: 'long', brokerKey: 'log.message.timestamp.before.max.ms' },
    ],
    ['message.timestamp.type', { type: 'string', brokerKey: 'log.message.timestamp.type' }],
    ['min.cleanable.dirty.ratio', { type: 'double' }],
    ['min.compaction.lag.ms', { type: 'long' }],
    ['min.insync.replicas', { type: 'int', brokerKey: 'min.insync.replicas' }],
    ['preallocate', { type: 'boolean' }],
    ['retention.bytes', { type: 'long', brokerKey: 'log.retention.bytes' }],
    ['retention.ms', { type: 'long', brokerKey: 'log.retention.ms' }],
    ['segment.bytes', { type: 'int', brokerKey: 'log.segment.bytes' }],
    ['segment.index.bytes', { type: 'int', brokerKey: 'log.index.size.max.bytes' }],
    ['segment.jitter.ms', { type: 'long' }],
    ['segment.ms', { type: 'long', brokerKey: 'log.roll.ms' }],
    ['unclean.leader.election.enable', { type: 'boolean' }],
  ]);

/**
 * The broker keys that set a topic config's default, most specific first (Kafka's synonyms):
 * `retention.ms` follows log.retention.ms, else .minutes, else .hours.
 */
export function brokerSynonyms(key: string): string[] {
  if (key === 'retention.ms')
    return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
  if (key === 'segment.ms') return ['log.roll.ms', 'log.roll.hours'];
  const k = TOPIC_CONFIGS.get(key)?.brokerKey;
  return k ? [k] : [];
}

/** True when the broker's configuration (not a built-in default) sets this topic config's default. */
export function setByBroker(config: BrokerConfig, key: string): boolean {
  return brokerSynonyms(key).some((k) => config.source(k) !== 'default');
}

/** Raised for an unknown topic config or a bad value (INVALID_CONFIG on the wire). */
export class InvalidTopicConfigError extends Error {
  override readonly name = 'InvalidTopicConfigError';
}

/** Topic config overrides as given by clients: Kafka name → string value. */
export type TopicConfigs = Record<string, string>;

const STORAGE_KEYS = new Set(Object.keys(logConfig()));

function checkValue(key: string, type: TopicConfigType, value: string): void {
  const v = value.trim();
  const bad = (why: string) =>
    new InvalidTopicConfigError(`Invalid value ${value} for configuration ${key}: ${why}`);
  if (type === 'int' || type === 'long') {
    if (!/^-?\d+$/.test(v)) throw bad(`Not a number of type ${type === 'int' ? 'INT' : 'LONG'}`);
  } else if (type === 'double') {
    if (v === '' || !Number.isFinite(Number(v))) throw bad('Not a number of type DOUBLE');
  } else if (type === 'boolean') {
    if (v !== 'true' && v !== 'false') throw bad('Expected value to be either true or false');
  }
  if (
    key === 'compression.type' &&
    !['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'].includes(v)
  ) {
    throw bad('String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer');
  }
}

/** Kafka's Long.MAX_VALUE as Java prints it. */
const LONG_MAX_TEXT = '9223372036854775807';

/**
 * A config value as DescribeConfigs shows it: lists joined with commas, and the "never" value
 * that Brook holds as the largest exact JavaScript integer shown as Kafka's Long.MAX_VALUE,
 * the text Kafka's tools print and compare against.
 */
export function configValueText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.join(',');
  if (value === Number.MAX_SAFE_INTEGER) return LONG_MAX_TEXT;
  return String(value);
}

/** The broker-wide default of a topic config, as a string (null when Kafka has none to show). */
export function brokerDefault(config: BrokerConfig, key: string): string | null {
  const entry = TOPIC_CONFIGS.get(key);
  if (!entry) return null;
  if (key === 'retention.ms') return configValueText(config.logRetentionMs);
  if (key === 'segment.ms') return configValueText(config.logRollMs);
  if (entry.brokerKey) {
    const v = config.get(entry.brokerKey);
    if (v !== null) return configValueText(v);
  }
  const storageDefault = (logConfig() as unknown as Record<string, unknown>)[key];
  if (storageDefault !== undefined) return configValueText(storageDefault);
  if (key === 'max.compaction.lag.ms') return LONG_MAX_TEXT;
  if (key === 'preallocate' || key === 'unclean.leader.election.enable') return 'false';
  return null;
}

/**
 * Validates topic config overrides and returns the storage config they produce together with the
 * broker defaults. Throws {@link InvalidTopicConfigError}.
 */
export function resolveLogConfig(config: BrokerConfig, overrides: TopicConfigs): LogConfig {
  const merged: Record<string, unknown> = {};
  for (const key of STORAGE_KEYS) {
    const d = brokerDefault(config, key);
    if (d !== null)
      merged[key] = key === 'cleanup.policy' ? d : Number.isNaN(Number(d)) ? d : Number(d);
  }
  for (const [key, value] of Object.entries(overrides)) {
    const entry = TOPIC_CONFIGS.get(key);
    if (!entry) throw new InvalidTopicConfigError(`Unknown topic config name: ${key}`);
    checkValue(key, entry.type, value);
    if (STORAGE_KEYS.has(key)) merged[key] = value.trim();
  }
  try {
    return logConfig(merged as Partial<Record<keyof LogConfig, unknown>>);
  } catch (err) {
    throw new InvalidTopicConfigError((err as Error).message);
  }
}

/** The effective max.message.bytes of a topic. */
export function maxMessageBytes(config: BrokerConfig, overrides: TopicConfigs): number {
  const v = overrides['max.message.bytes'];
  return v !== undefined ? Number(v) : config.int('message.max.bytes');
}

/** Kafka's DescribeConfigs config sources. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** One topic config as DescribeConfigs and CreateTopics (v5+) report it. */
export interface TopicConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number;
  isSensitive: boolean;
}

/** Every topic config of a topic: its override, else the broker's setting, else the default. */
export function topicConfigEntries(
  config: BrokerConfig,
  overrides: TopicConfigs,
): TopicConfigEntry[] {
  const out: TopicConfigEntry[] = [];
  for (const key of [...TOPIC_CONFIGS.keys()].sort()) {
    const own = overrides[key];
    let source: number = ConfigSource.DEFAULT_CONFIG;
    if (own !== undefined) source = ConfigSource.DYNAMIC_TOPIC_CONFIG;
    else if (setByBroker(config, key)) source = ConfigSource.STATIC_BROKER_CONFIG;
    out.push({
      name: key,
      value: own ?? brokerDefault(config, key),
      readOnly: false,
      configSource: source,
      isSensitive: false,
    });
  }
  return out;
}
