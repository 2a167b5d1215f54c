/** Kafka's longest topic name (a partition directory name must fit in 255 bytes). */
export const MAX_TOPIC_NAME_LENGTH = 249;

/**
 * Why `name` is not a valid Kafka topic name, or undefined when it is. Kafka's rules: 1-249
 * characters of [a-zA-Z0-9._-], and not "." or "..".
 */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return undefined;
}

/**
 * Metric names flatten "." to "_", so Kafka refuses a topic whose name collides with an existing
 * one under that mapping (`a.b` and `a_b`).
 */
export function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

/** Kafka's internal topics (hidden from "all topics" listings unless asked for by name). */
export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets' || name === '__transaction_state';
}
