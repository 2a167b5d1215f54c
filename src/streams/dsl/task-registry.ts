/*
 * The compiled tasks running in this process, by job id and partition: what the interactive
 * query server reads stores from. Kept on `globalThis` under a registered symbol so that a job
 * module loaded through another copy of this package (sources vs. dist) shares one registry.
 */
import type { KeyValueStore } from '../stores/key-value-store.js';

/** What the query server needs of a task. */
export interface QueryableTask {
  readonly partition: number;
  store(name: string): KeyValueStore<Buffer, Buffer>;
}

const KEY = Symbol.for('brook.streams.dsl.tasks');
type Registry = Map<string, Map<number, QueryableTask>>;

function registry(): Registry {
  const g = globalThis as { [KEY]?: Registry };
  g[KEY] ??= new Map();
  return g[KEY];
}

/** Records that `task` runs partition `partition` of job `jobId` here. */
export function registerTask(jobId: string, partition: number, task: QueryableTask): void {
  let tasks = registry().get(jobId);
  if (tasks === undefined) {
    tasks = new Map();
    registry().set(jobId, tasks);
  }
  tasks.set(partition, task);
}

/** Forgets a task (closed: revoked or shut down). */
export function unregisterTask(jobId: string, partition: number, task: QueryableTask): void {
  const tasks = registry().get(jobId);
  if (tasks?.get(partition) === task) tasks.delete(partition);
}

/** The tasks of `jobId` running here. */
export function localTasks(jobId: string): QueryableTask[] {
  return [...(registry().get(jobId)?.values() ?? [])];
}
