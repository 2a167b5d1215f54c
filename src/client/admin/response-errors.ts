/** Turns an admin response's error code into a thrown {@link KafkaError}. */
import { KafkaError } from '../../protocol/errors.js';

/** Throws a KafkaError for a non-zero `code`, naming `what` and the broker's message. */
export function throwOnError(code: number, message: string | null | undefined, what: string): void {
  if (code !== 0) throw new KafkaError(code, message ? `(${what}: ${message})` : `(${what})`);
}
