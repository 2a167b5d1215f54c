import { produceHandler } from './0-produce.js';
import { fetchHandler } from './1-fetch.js';
import { apiVersionsHandler } from './18-api-versions.js';
import { createTopicsHandler } from './19-create-topics.js';
import { listOffsetsHandler } from './2-list-offsets.js';
import { metadataHandler } from './3-metadata.js';
import type { ApiHandler } from './types.js';

/** Every API the broker serves; adding an API is adding its file and one line here. */
export const HANDLERS: readonly ApiHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  createTopicsHandler,
];

export { HandlerRegistry } from './registry.js';
export type * from './types.js';
