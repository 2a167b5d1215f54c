import { readFileSync } from 'node:fs';

/** Brook's version, read from package.json so that there is one source of truth. */
export const BROOK_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
