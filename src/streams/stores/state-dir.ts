import { join } from 'node:path';
import { InvalidNameError } from '../errors.js';

/** Characters Kafka allows in a topic name; job ids and store names end up in one. */
const TOPIC_SAFE = /^[A-Za-z0-9._-]+$/;
/** Kafka's topic name limit, less `-` and `-changelog` around the store name. */
const MAX_TOPIC_LENGTH = 249;

/**
 * Checks that a job id and store name make a legal changelog topic `<job-id>-<store>-changelog`
 * and safe folder names.
 */
export function validateStoreNames(jobId: string, store: string): void {
  for (const [what, name] of [
    ['job id', jobId],
    ['store name', store],
  ] as const) {
    if (!TOPIC_SAFE.test(name) || name === '.' || name === '..') {
      throw new InvalidNameError(
        `${what} ${JSON.stringify(name)} must be non-empty and use only letters, digits, '.', '_' and '-'`,
      );
    }
  }
  const length = jobId.length + store.length + '--changelog'.length;
  if (length > MAX_TOPIC_LENGTH) {
    throw new InvalidNameError(
      `changelog topic for job ${jobId} and store ${store} would be ${length} characters (Kafka allows ${MAX_TOPIC_LENGTH})`,
    );
  }
}

/**
 * A task name as a folder name: characters other than letters, digits, `.`, `_` and `-` are
 * percent-encoded (`Partition 0` → `Partition%200`), which keeps distinct names distinct.
 */
export function taskFolderName(taskName: string): string {
  if (taskName.length === 0) throw new InvalidNameError('task name must not be empty');
  const folder = taskName.replace(
    /[^A-Za-z0-9._-]/g,
    (c) =>
      `${[...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')}`,
  );
  if (folder === '.' || folder === '..') {
    throw new InvalidNameError(`task name ${JSON.stringify(taskName)} is not a usable folder name`);
  }
  return folder;
}

/** A store's folder for one task: `<state-dir>/<job-id>/<store>/<task-name>/`. */
export function storeDirectory(
  stateDir: string,
  jobId: string,
  store: string,
  taskName: string,
): string {
  validateStoreNames(jobId, store);
  return join(stateDir, jobId, store, taskFolderName(taskName));
}
