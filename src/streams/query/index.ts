/* Interactive queries over a job's tables. */
export { startQueryServerFromConfig } from './from-config.js';
export { type QueryEntry, QueryServer, type QueryServerOptions } from './server.js';
