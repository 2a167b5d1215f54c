/** The broker configuration: keys, parsing, loading (the pieces live in ./config/). */
export {
  BrokerConfig,
  ConfigError,
  type ConfigSource,
  formatListener,
  type HostPort,
  parseConfigValue,
  parseListener,
} from './config/broker-config.js';
export {
  CONFIG_DEFS,
  type ConfigDef,
  type ConfigType,
  type ConfigValue,
  LONG_MAX,
} from './config/definitions.js';
export {
  type ConfigFlags,
  type ConfigInputs,
  envNameToKey,
  loadBrokerConfig,
} from './config/load.js';
export { editDistance, nearestName } from './config/nearest.js';
export { type PropertyEntry, PropertiesSyntaxError, parseProperties } from './config/properties.js';
