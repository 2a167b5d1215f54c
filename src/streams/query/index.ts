/* Interactive queries over a job's tables. */
export { startQueryServerFromConfig } from './from-config.js';
export { type QueryEntry, QueryServer, type QueryServerOptions } from './server.js';
export {
  ALIAS_TOPIC,
  AliasReader,
  type JobAlias,
  parseAlias,
  readAliases,
  writeAlias,
} from './aliases.js';
