/**
 * The broker as users run it: compiled JavaScript, not the TypeScript sources through tsx (whose
 * loader adds some 60 MB of resident memory and start-up work that would be charged to the
 * broker). The suite compiles src/ into a private folder (.tmp/bench-broker, so a shared dist/
 * is never touched) and starts `brook start` from there.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const buildDir = join(root, '.tmp/bench-broker');
const entry = join(buildDir, 'brook.mjs');

/**
 * Compiles src/ with tsconfig.build.json into .tmp/bench-broker/dist; resolves with a note on
 * type errors (the JavaScript is emitted regardless), rejects when nothing was emitted.
 */
export async function buildBroker(): Promise<string> {
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  const tsc = join(root, 'node_modules/.bin/tsc');
  const args = ['-p', join(root, 'tsconfig.build.json'), '--outDir', join(buildDir, 'dist')];
  const failure = await new Promise<string | null>((resolve) => {
    execFile(
      tsc,
      [...args, '--declaration', 'false', '--sourceMap', 'false'],
      { cwd: root, timeout: 300000, maxBuffer: 16 * 2 ** 20 },
      (err, stdout) => resolve(err ? `${stdout}`.split('\n').slice(0, 3).join(' ') : null),
    );
  });
  if (!existsSync(join(buildDir, 'dist/cli/main.js'))) {
    throw new Error(`compiling the broker emitted nothing: ${failure ?? ''}`);
  }
  // src/version.ts reads ../package.json next to the compiled folder.
  copyFileSync(join(root, 'package.json'), join(buildDir, 'package.json'));
  writeFileSync(entry, "import { main } from './dist/cli/main.js';\nawait main(process.argv);\n");
  return failure === null ? 'compiled cleanly' : `compiled with type errors elsewhere: ${failure}`;
}

/** A compiled broker process on 127.0.0.1. */
export interface CompiledBroker {
  readonly proc: ChildProcess;
  readonly port: number;
  /** Stops it (SIGTERM, SIGKILL after 10 s) and removes its data directory. */
  cleanup(): Promise<void>;
}

/** Starts the compiled `brook start` with `sets` (key=value) and waits for its ready line. */
export async function startCompiledBroker(sets: readonly string[]): Promise<CompiledBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'brook-bench-broker-'));
  const proc = spawn(
    process.execPath,
    [
      entry,
      'start',
      '--data-dir',
      dataDir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--metrics-port',
      '0',
      ...sets.flatMap((s) => ['--set', s]),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 10000) stderr += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const cleanup = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let pending = '';
      const t = setTimeout(() => reject(new Error(`broker not ready in 60 s: ${stderr}`)), 60000);
      proc.stdout.on('data', (d: Buffer) => {
        pending += d.toString();
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          // Only the ready line matters; other log lines are dropped as they come.
          if (line.includes('"event":"ready"')) {
            clearTimeout(t);
            resolve((JSON.parse(line) as { port: number }).port);
          }
          nl = pending.indexOf('\n');
        }
        if (pending.length > 1e6) pending = '';
      });
      void exited.then(() => {
        clearTimeout(t);
        reject(new Error(`broker exited before ready: ${stderr}`));
      });
    });
    return { proc, port, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
