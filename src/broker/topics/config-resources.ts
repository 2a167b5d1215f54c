import type { BrokerConfig } from '../config.js';
import { CONFIG_DEFS } from '../config.js';
import {
  brokerSynonyms,
  ConfigSource,
  configValueText,
  TOPIC_CONFIGS,
  topicConfigEntries,
} from './topic-config.js';

/** Kafka's config resource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Kafka's config value types (DescribeConfigs v3+). */
const ConfigType = {
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
} as const;

const TYPE_CODE: Record<string, number> = {
  boolean: ConfigType.BOOLEAN,
  string: ConfigType.STRING,
  int: ConfigType.INT,
  long: ConfigType.LONG,
  double: ConfigType.DOUBLE,
  list: ConfigType.LIST,
};

/** One described config, in the shape of DescribeConfigs' result entries. */
export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string | null;
}

/** The broker's own configuration: static (set at start-up), so read-only. */
export function describeBrokerConfigs(
  config: BrokerConfig,
  includeSynonyms: boolean,
): DescribedConfig[] {
  return config.entries().map((e) => {
    const def = CONFIG_DEFS.get(e.key);
    const value = configValueText(e.value);
    const source =
      e.source === 'default' ? ConfigSource.DEFAULT_CONFIG : ConfigSource.STATIC_BROKER_CONFIG;
    return {
      name: e.key,
      value,
      readOnly: true,
      configSource: source,
      isSensitive: false,
      synonyms: includeSynonyms ? [{ name: e.key, value, source }] : [],
      configType: TYPE_CODE[def?.type ?? 'string'] ?? ConfigType.STRING,
      documentation: def?.doc ?? null,
    };
  });
}

/** A topic's configs: overrides, else broker settings, else defaults. */
export function describeTopicConfigs(
  config: BrokerConfig,
  overrides: Record<string, string>,
  includeSynonyms: boolean,
): DescribedConfig[] {
  return topicConfigEntries(config, overrides).map((e) => {
    const entry = TOPIC_CONFIGS.get(e.name);
    const synonyms: DescribedConfig['synonyms'] = [];
    if (includeSynonyms) {
      if (overrides[e.name] !== undefined) {
        synonyms.push({
          name: e.name,
          value: overrides[e.name],
          source: ConfigSource.DYNAMIC_TOPIC_CONFIG,
        });
      }
      for (const brokerKey of brokerSynonyms(e.name)) {
        if (config.source(brokerKey) === 'default') continue;
        const v = config.get(brokerKey);
        synonyms.push({
          name: brokerKey,
          value: configValueText(v),
          source: ConfigSource.STATIC_BROKER_CONFIG,
        });
      }
    }
    return {
      ...e,
      synonyms,
      configType: TYPE_CODE[entry?.type ?? 'string'] ?? ConfigType.STRING,
      documentation: null,
    };
  });
}
