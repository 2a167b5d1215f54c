/**
 * Errors the client raises besides broker error codes (those are {@link KafkaError}s from
 * `src/protocol/errors.ts`). Every message names the cause and, where there is one, the fix.
 */
export { KafkaError } from '../protocol/errors.js';

/** A broker could not be reached, or the connection to it failed. Retriable. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  readonly retriable = true;
  /** `host:port` of the broker. */
  readonly broker: string;
  constructor(broker: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.broker = broker;
  }
}

/** A request, or a wait for buffer space, took longer than its timeout. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly retriable = true;
}

/** The client was used after `close()`, or was closed while an operation was pending. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
  readonly retriable = false;
  constructor(what = 'client') {
    super(`the ${what} is closed`);
  }
}

/** Message for a failed connect: what failed and what to check. */
export function connectFailureMessage(broker: string, cause: unknown): string {
  const code = (cause as { code?: string } | null)?.code;
  if (code === 'ECONNREFUSED') {
    return `cannot reach ${broker} — connection refused; is \`brook start\` (or another Kafka broker) running there? Pass --bootstrap-server HOST:PORT otherwise`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cannot resolve the host of ${broker} — check the --bootstrap-server / advertised host name`;
  }
  if (code === 'ETIMEDOUT') return `cannot reach ${broker} — the connection timed out`;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return `cannot reach ${broker} — ${detail}`;
}
