import { resolve } from 'node:path';
import { CONFIG_DEFS, type ConfigDef, type ConfigValue } from './definitions.js';
import { nearestName } from './nearest.js';

/** Where a configuration value came from (DescribeConfigs reports defaults apart from the rest). */
export type ConfigSource = 'default' | 'file' | 'env' | 'set' | 'flag';

/** Raised for an unknown key or a value that does not parse or is out of range. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A host and port. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses and range-checks one value of `def`. Throws {@link ConfigError} with the key in it. */
export function parseConfigValue(def: ConfigDef, raw: string): ConfigValue {
  const text = raw.trim();
  const fail = (why: string): never => {
    throw new ConfigError(`invalid value ${JSON.stringify(raw)} for ${def.key}: ${why}`);
  };
  switch (def.type) {
    case 'int':
    case 'long': {
      if (text === '' && def.default === null) return null;
      if (!/^[-+]?\d+$/.test(text)) fail('not an integer');
      let n = Number(text);
      if (def.type === 'int' && (n < -2147483648 || n > 2147483647))
        fail('outside the int32 range');
      // Kafka writes "never" as Long.MAX_VALUE; anything past 2^53 means the same here.
      if (n > Number.MAX_SAFE_INTEGER) n = Number.MAX_SAFE_INTEGER;
      if (def.min !== undefined && n < def.min) fail(`must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`must be at most ${def.max}`);
      return n;
    }
    case 'double': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) fail('not a number');
      if (def.min !== undefined && n < def.min) fail(`must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`must be at most ${def.max}`);
      return n;
    }
    case 'boolean': {
      const t = text.toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
      return fail('expected true or false');
    }
    case 'string': {
      if (def.choices) {
        const i = def.choices.indexOf(text.toLowerCase());
        if (i < 0) fail(`expected one of ${def.choices.join(', ')}`);
      }
      return text;
    }
    case 'list': {
      const items = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (def.choices) {
        for (const item of items) {
          if (!def.choices.includes(item.toLowerCase())) {
            fail(`${JSON.stringify(item)} is not one of ${def.choices.join(', ')}`);
          }
        }
      }
      return items;
    }
  }
}

/** The error for an unknown key, naming the closest valid key. */
export function unknownKeyError(key: string, where: string): ConfigError {
  const near = nearestName(key, CONFIG_DEFS.keys());
  const hint = near ? ` (did you mean ${near}?)` : '';
  return new ConfigError(`unknown configuration key ${JSON.stringify(key)} in ${where}${hint}`);
}

/**
 * Parses `PLAINTEXT://host:port` (IPv6 hosts in brackets). Brook has one plaintext listener; a
 * list of several, or another security protocol, is refused rather than silently half-served.
 */
export function parseListener(key: string, value: string): HostPort {
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length !== 1) {
    throw new ConfigError(
      `${key}: Brook serves exactly one listener, got ${JSON.stringify(value)}`,
    );
  }
  const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]*):(\d+)$/.exec(parts[0]);
  if (!m)
    throw new ConfigError(`${key}: expected PLAINTEXT://host:port, got ${JSON.stringify(value)}`);
  if (m[1].toUpperCase() !== 'PLAINTEXT') {
    throw new ConfigError(`${key}: only the PLAINTEXT security protocol is served, got ${m[1]}`);
  }
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`${key}: port ${port} is out of range`);
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  return { host, port };
}

/** Formats a host and port as a listener string. */
export function formatListener({ host, port }: HostPort): string {
  return `PLAINTEXT://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The broker's effective configuration: every key of {@link CONFIG_DEFS} with its value and the
 * source that set it, plus the derived settings the broker uses (data dir, listener, retention).
 */
export class BrokerConfig {
  readonly #values: Map<string, { value: ConfigValue; source: ConfigSource }>;

  constructor(values: Map<string, { value: ConfigValue; source: ConfigSource }>) {
    this.#values = values;
    // Validate the derived settings now, so that a bad listener fails at start-up.
    this.listener;
    this.advertisedListener;
  }

  /** The raw value of a key (null when unset). */
  get(key: string): ConfigValue {
    const v = this.#values.get(key);
    if (!v) throw new ConfigError(`unknown configuration key ${key}`);
    return v.value;
  }

  /** Where a key's value came from. */
  source(key: string): ConfigSource {
    return this.#values.get(key)?.source ?? 'default';
  }

  int(key: string): number {
    return this.get(key) as number;
  }

  /** An integer key that may be unset. */
  optionalInt(key: string): number | null {
    return this.get(key) as number | null;
  }

  bool(key: string): boolean {
    return this.get(key) as boolean;
  }

  string(key: string): string {
    return this.get(key) as string;
  }

  list(key: string): string[] {
    return this.get(key) as string[];
  }

  /** Every key with its value and source, in definition order. */
  entries(): { key: string; value: ConfigValue; source: ConfigSource }[] {
    return [...this.#values].map(([key, v]) => ({ key, value: v.value, source: v.source }));
  }

  get nodeId(): number {
    return this.int('node.id');
  }

  /** The data directory, absolute. */
  get dataDir(): string {
    const dirs = (this.get('log.dirs') as string | null) ?? this.string('log.dir');
    const list = dirs
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (list.length !== 1) {
      throw new ConfigError(
        `log.dirs: Brook uses exactly one data directory, got ${JSON.stringify(dirs)}`,
      );
    }
    return resolve(list[0]);
  }

  /** The address the broker listens on. */
  get listener(): HostPort {
    return parseListener('listeners', this.string('listeners'));
  }

  /**
   * The address clients are told to use. `boundPort` replaces a configured port 0 once the
   * listener is bound; an empty or wildcard listener host is advertised as `localhost`.
   */
  advertisedFor(boundPort: number): HostPort {
    const adv = this.advertisedListener;
    const hostOverride = this.get('advertised.host.name') as string | null;
    const { host } = this.listener;
    const wildcard = host === '' || host === '0.0.0.0' || host === '::';
    return {
      host: hostOverride || adv?.host || (wildcard ? 'localhost' : host),
      port: adv?.port ?? boundPort,
    };
  }

  get advertisedListener(): HostPort | null {
    const v = this.get('advertised.listeners') as string | null;
    return v === null || v.trim() === '' ? null : parseListener('advertised.listeners', v);
  }

  /** log.retention.ms, else minutes, else hours (Kafka's precedence); -1 is forever. */
  get logRetentionMs(): number {
    const ms = this.optionalInt('log.retention.ms');
    if (ms !== null) return ms;
    const minutes = this.optionalInt('log.retention.minutes');
    if (minutes !== null) return minutes < 0 ? -1 : minutes * 60000;
    const hours = this.int('log.retention.hours');
    return hours < 0 ? -1 : hours * 3600000;
  }

  /** log.roll.ms, else log.roll.hours. */
  get logRollMs(): number {
    return this.optionalInt('log.roll.ms') ?? this.int('log.roll.hours') * 3600000;
  }
}
