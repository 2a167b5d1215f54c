/*
 * Loads a job module: its default export (or an export named `job`) made with `defineJob`.
 * TypeScript files are imported through tsx's loader API, so `brook job run job.ts` works from
 * the compiled CLI without a build step for the job.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyJob } from '../job.js';

/** The module does not export a usable job. */
export class JobLoadError extends Error {
  override readonly name = 'JobLoadError';
}

/** Imports `path` and returns its job definition, checked for shape. */
export async function loadJob(path: string): Promise<AnyJob> {
  const url = pathToFileURL(resolve(path)).href;
  let mod: Record<string, unknown>;
  try {
    if (/\.[mc]?tsx?$/.test(path)) {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    } else {
      mod = (await import(url)) as Record<string, unknown>;
    }
  } catch (cause) {
    throw new JobLoadError(`cannot load job ${path}: ${(cause as Error).message}`, { cause });
  }
  const job = (mod.default ?? mod.job) as Partial<AnyJob> | undefined;
  const problems: string[] = [];
  if (job === undefined || job === null || typeof job !== 'object') {
    throw new JobLoadError(`${path} has no default export (export default defineJob({...}))`);
  }
  if (typeof job.id !== 'string' || job.id === '') problems.push('id must be a non-empty string');
  if (typeof job.inputs !== 'object' || job.inputs === null)
    problems.push('inputs must be an object');
  if (typeof job.outputs !== 'object' || job.outputs === null)
    problems.push('outputs must be an object');
  if (typeof job.stores !== 'object' || job.stores === null)
    problems.push('stores must be an object');
  if (typeof job.task !== 'function')
    problems.push('task must be a function returning a StreamTask');
  if (problems.length > 0) throw new JobLoadError(`${path}: ${problems.join('; ')}`);
  return job as AnyJob;
}
