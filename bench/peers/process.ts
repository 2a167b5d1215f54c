/**
 * What every peer needs to run a server it does not own the code of: free ports on 127.0.0.1,
 * a temporary data directory, a child process in its own process group (so stopping it stops
 * the helpers it forks), polling for readiness with a deadline, and a last-resort cleanup when
 * the benchmark process itself exits early (an exception, Ctrl-C in try.ts).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A port that was free on 127.0.0.1 a moment ago (the OS picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `pred` every `intervalMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(
  pred: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Temp dirs made and not yet removed, each with the cancel of its exit-time removal. */
const tempDirs = new Map<string, () => void>();

/**
 * A fresh directory under the OS temp dir, named after the peer; removed at process exit if
 * `removeDir` has not removed it by then.
 */
export function makeTempDir(peer: string): string {
  const dir = mkdtempSync(join(tmpdir(), `brook-bench-${peer}-`));
  tempDirs.set(
    dir,
    atExit(() => rmSync(dir, { recursive: true, force: true })),
  );
  return dir;
}

/** Removes a temp dir; a missing one is fine (stop() may run twice). */
export function removeDir(dir: string | undefined): void {
  if (dir === undefined) return;
  rmSync(dir, { recursive: true, force: true });
  tempDirs.get(dir)?.();
  tempDirs.delete(dir);
}

/** The absolute path of an executable: `name` itself if absolute, else searched on PATH. */
export function findExecutable(name: string, extraDirs: readonly string[] = []): string | null {
  const dirs = name.includes('/')
    ? ['']
    : [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', ...extraDirs];
  for (const dir of dirs) {
    const path = dir === '' ? name : join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/** Options every peer takes: where its server binary is (the Debian package's by default). */
export interface PeerOptions {
  /** The server executable; a bare name is looked up on PATH (and /usr/sbin, /usr/bin). */
  readonly binary?: string;
}

/** What a started peer runs, so a caller can check that `stop()` left nothing behind. */
export interface RunningServer {
  /** Process id of the server (the leader of its process group). */
  readonly pid: number | undefined;
  /** Every port it listens on, all on 127.0.0.1. */
  readonly ports: readonly number[];
  /** Its temporary data directory. */
  readonly dataDir: string;
}

/** The note `available()` gives when a server binary is missing. */
export function missingNote(binary: string, debianPackage: string): string {
  return `${binary} not found: install the Debian package ${debianPackage} with bench/setup-peers.sh`;
}

/** null when `binary` can be run, else the note `available()` gives (see {@link missingNote}). */
export function executableNote(binary: string, debianPackage: string): string | null {
  return findExecutable(binary) === null ? missingNote(binary, debianPackage) : null;
}

/** The first line a command prints (its version banner), or null if it cannot run. */
export function firstLineOf(command: string, args: readonly string[]): string | null {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10000 });
  if (r.error !== undefined || r.status !== 0) return null;
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? null;
}

/** Cleanups still owed when the process exits (server groups not yet stopped, daemons). */
const owedAtExit = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Runs `cleanup` synchronously if the process exits before `cancel` is called: the safety net
 * for servers left running by an exception or an interrupted run.
 */
export function atExit(cleanup: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      // Last owed, first done: a server is killed before its data dir is removed.
      for (const c of [...owedAtExit].reverse()) {
        try {
          c();
        } catch {
          // best effort while exiting
        }
      }
    });
  }
  owedAtExit.add(cleanup);
  return () => owedAtExit.delete(cleanup);
}

/** A server process in its own process group, with the tail of its output kept for errors. */
export class ServerProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #running = true;
  #tail = '';
  readonly #cancelExitHook: () => void;

  private constructor(child: ChildProcess) {
    this.#child = child;
    const keep = (chunk: Buffer): void => {
      this.#tail = (this.#tail + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#running = false;
        resolve(code ?? (signal === null ? null : -1));
      });
      child.once('error', (err) => {
        this.#running = false;
        this.#tail += `\n${err.message}`;
        resolve(null);
      });
    });
    const pid = child.pid;
    this.#cancelExitHook = atExit(() => {
      if (pid !== undefined && this.#running) killGroup(pid, 'SIGKILL');
    });
  }

  /** Starts `command` detached (a new session and process group) with stdin closed. */
  static start(
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ): ServerProcess {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServerProcess(child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#running;
  }

  /** The last few kB the server printed (for error messages). */
  get output(): string {
    return this.#tail;
  }

  /** Resolves with the exit code once the process has exited. */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  /**
   * Sends SIGTERM to the whole process group, waits up to `graceMs` for the leader to exit,
   * then SIGKILLs the group. Safe to call when already stopped.
   */
  async stop(graceMs = 10000): Promise<void> {
    const pid = this.#child.pid;
    if (pid !== undefined && this.#running) {
      killGroup(pid, 'SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([this.#exited, timer])) === 'timeout') {
        killGroup(pid, 'SIGKILL');
        await this.#exited;
      }
    }
    // Helpers that outlive the leader in its group (none expected) go too.
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    this.#child.stdout?.destroy();
    this.#child.stderr?.destroy();
    this.#cancelExitHook();
  }
}

/** Signals every process in group `pgid`; a group that is already gone is fine. */
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}
