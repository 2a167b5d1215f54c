/**
 * The child processes of the Lambda vs Kappa comparison: `brook` commands run from the sources
 * (the broker, the jobs), each tracked so that every one is stopped whatever happens (a failed
 * step, a test giving up, Ctrl-C).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, where the children run. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'test/broker/helpers/brook-cli.ts');

/** A child process of the comparison. */
export interface Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly err: () => string;
}

/** Every child started, so that each is stopped whatever happens. */
export const children = new Set<Child>();

/** `brook <args>` from the sources, as a child process. */
export function brook(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const child = { proc, exited, err: () => err };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM (a job commits, a broker flushes), SIGKILL if it is still there after `graceMs`. */
export async function stop(child: Child, graceMs = 20_000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Stops every child the comparison started (for callers that give up on it, e.g. a test). */
export async function stopComparison(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 5000)));
}

/** Ctrl-C: stop the children (the finally above, once the current step gives way). */
export function onSignal(): void {
  for (const c of children) c.proc.kill('SIGTERM');
  setTimeout(() => {
    for (const c of children) c.proc.kill('SIGKILL');
    process.exit(130);
  }, 20_000).unref();
}
