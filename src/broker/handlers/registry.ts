import type { ApiHandler, HandlerRegistryView } from './types.js';

/** The table of API keys the broker serves: one handler per key. */
export class HandlerRegistry implements HandlerRegistryView {
  readonly #byKey: (ApiHandler | undefined)[] = [];

  constructor(handlers: readonly ApiHandler[]) {
    for (const h of handlers) {
      if (this.#byKey[h.apiKey]) throw new Error(`two handlers for API key ${h.apiKey}`);
      if (h.minVersion > h.maxVersion) throw new Error(`${h.name}: empty version range`);
      this.#byKey[h.apiKey] = h;
    }
  }

  /** The handler for `apiKey`, if served. */
  get(apiKey: number): ApiHandler | undefined {
    return apiKey >= 0 ? this.#byKey[apiKey] : undefined;
  }

  /** Every served handler in key order. */
  all(): ApiHandler[] {
    return this.#byKey.filter((h): h is ApiHandler => h !== undefined);
  }

  apiVersions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return this.all().map((h) => ({
      apiKey: h.apiKey,
      minVersion: h.minVersion,
      maxVersion: h.maxVersion,
    }));
  }
}
