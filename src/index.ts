/** Brook's public API. */
export { BROOK_VERSION } from './version.js';
