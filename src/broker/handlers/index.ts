import { apiVersionsHandler } from './18-api-versions.js';
import type { ApiHandler } from './types.js';

/** Every API the broker serves; adding an API is adding its file and one line here. */
export const HANDLERS: readonly ApiHandler[] = [apiVersionsHandler];

export { HandlerRegistry } from './registry.js';
export type * from './types.js';
