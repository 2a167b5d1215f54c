import { readFileSync } from 'node:fs';
import {
  BrokerConfig,
  ConfigError,
  type ConfigSource,
  formatListener,
  parseConfigValue,
  parseListener,
  unknownKeyError,
} from './broker-config.js';
import { CONFIG_DEFS, type ConfigValue } from './definitions.js';
import { nearestName } from './nearest.js';
import { PropertiesSyntaxError, parseProperties } from './properties.js';

/** The command-line flags that set one part of the configuration (highest precedence). */
export interface ConfigFlags {
  dataDir?: string;
  host?: string;
  port?: number | string;
  advertisedHost?: string;
  metricsPort?: number | string;
  logLevel?: string;
}

/** Everything the configuration is assembled from. */
export interface ConfigInputs {
  /** Path of a Kafka-style server.properties file. */
  file?: string;
  /** `key=value` strings (repeatable --set), applied after the file and the environment. */
  sets?: string[];
  /** The environment; only BROOK_* variables are read. */
  env?: NodeJS.ProcessEnv;
  flags?: ConfigFlags;
  /** Receives warnings (unknown BROOK_* variables); they are not errors because every brook command shares the environment. */
  warn?: (message: string) => void;
}

/** Environment variables that stand for a flag rather than a key. */
const ENV_FLAGS: Record<string, keyof ConfigFlags> = {
  BROOK_DATA_DIR: 'dataDir',
  BROOK_HOST: 'host',
  BROOK_PORT: 'port',
  BROOK_ADVERTISED_HOST: 'advertisedHost',
  BROOK_METRICS_PORT: 'metricsPort',
  BROOK_LOG_LEVEL: 'logLevel',
};

/** `BROOK_LOG_RETENTION_MS` → `log.retention.ms`. */
export function envNameToKey(name: string): string {
  return name.slice('BROOK_'.length).toLowerCase().replace(/_/g, '.');
}

function parsePort(what: string, v: number | string): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(`invalid ${what} ${JSON.stringify(v)}: expected 0-65535`);
  }
  return n;
}

/**
 * Assembles the broker configuration. Precedence, lowest first: defaults, the properties file,
 * BROOK_* environment variables, --set, flags (and their BROOK_DATA_DIR/BROOK_PORT/... aliases,
 * which lose to the flags themselves). Unknown keys are an error naming the nearest valid key.
 */
export function loadBrokerConfig(inputs: ConfigInputs = {}): BrokerConfig {
  const values = new Map<string, { value: ConfigValue; source: ConfigSource }>();
  for (const def of CONFIG_DEFS.values())
    values.set(def.key, { value: def.default, source: 'default' });

  const put = (key: string, raw: string, source: ConfigSource, where: string): void => {
    const def = CONFIG_DEFS.get(key);
    if (!def) throw unknownKeyError(key, where);
    try {
      values.set(key, { value: parseConfigValue(def, raw), source });
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${e.message} (${where})`);
      throw e;
    }
  };

  if (inputs.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(inputs.file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${inputs.file}: ${(e as Error).message}`);
    }
    let entries: ReturnType<typeof parseProperties>;
    try {
      entries = parseProperties(text);
    } catch (e) {
      if (e instanceof PropertiesSyntaxError) throw new ConfigError(`${inputs.file}: ${e.message}`);
      throw e;
    }
    for (const { key, value, line } of entries) put(key, value, 'file', `${inputs.file}:${line}`);
  }

  const envFlags: ConfigFlags = {};
  const env = inputs.env ?? {};
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('BROOK_')) continue;
    const raw = env[name] ?? '';
    const flag = ENV_FLAGS[name];
    if (flag) {
      (envFlags as Record<string, string>)[flag] = raw;
      continue;
    }
    const key = envNameToKey(name);
    if (!CONFIG_DEFS.has(key)) {
      const near = nearestName(key, CONFIG_DEFS.keys());
      inputs.warn?.(
        `ignoring environment variable ${name}: ${key} is not a broker configuration key${near ? ` (did you mean ${near}?)` : ''}`,
      );
      continue;
    }
    put(key, raw, 'env', `environment variable ${name}`);
  }

  for (const s of inputs.sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set ${JSON.stringify(s)}: expected key=value`);
    put(s.slice(0, eq).trim(), s.slice(eq + 1), 'set', `--set ${s}`);
  }

  for (const [flags, source] of [
    [envFlags, 'env'],
    [inputs.flags ?? {}, 'flag'],
  ] as const) {
    if (flags.dataDir !== undefined) values.set('log.dirs', { value: flags.dataDir, source });
    if (flags.host !== undefined || flags.port !== undefined) {
      const current = parseListener('listeners', values.get('listeners')?.value as string);
      const host = flags.host ?? current.host;
      const port = flags.port !== undefined ? parsePort('port', flags.port) : current.port;
      values.set('listeners', { value: formatListener({ host, port }), source });
    }
    if (flags.advertisedHost !== undefined) {
      put('advertised.host.name', flags.advertisedHost, source, '--advertised-host');
    }
    if (flags.metricsPort !== undefined) {
      values.set('metrics.port', { value: parsePort('metrics port', flags.metricsPort), source });
    }
    if (flags.logLevel !== undefined) put('logger.level', flags.logLevel, source, '--log-level');
  }
  return new BrokerConfig(values);
}
