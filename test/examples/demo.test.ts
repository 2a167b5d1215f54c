/**
 * `brook demo` (what `npm start` runs), spawned from the sources in a temporary folder on free
 * ports: the example outputs appear, SIGINT stops the jobs and the broker and exits 0, and a
 * second start on the same folders resumes (the outputs keep growing from where they were).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Admin } from '../../src/client/index.js';
import { eventually, tempFolder } from '../streams/runtime-helpers.js';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'test/broker/helpers/brook-cli.ts');
const tsx = import.meta.resolve('tsx');
const folder = tempFolder('brook-demo-');
const running: ChildProcess[] = [];

after(async () => {
  // SIGTERM first: the demo stops its (detached) broker and jobs; SIGKILL would orphan them.
  for (const p of running) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  }
  folder.remove();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The end offsets, summed over partitions, of `topics`. */
async function ends(bootstrap: string, topics: readonly string[]): Promise<number[]> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const out: number[] = [];
    for (const topic of topics) {
      const [info] = await admin.describeTopics([topic]);
      const tps = info!.partitions.map((_, partition) => ({ topic, partition }));
      const offsets = await admin.listOffsets(tps, -1);
      out.push([...offsets.values()].reduce((a, b) => a + b, 0));
    }
    return out;
  } finally {
    await admin.close();
  }
}

const OUTPUTS = [
  'page-view-counts',
  'member-sessions',
  'profile-view-notifications',
  'title-counts',
];

function startDemo(port: number, queryPort: number, cwd = folder.path) {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      tsx,
      cli,
      'demo',
      '--data-dir',
      'data',
      '--state-dir',
      'state',
      '--port',
      String(port),
      '--query-port',
      String(queryPort),
      '--rate',
      '50',
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | string | null>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { proc, output: () => out, exited };
}

test('brook demo: outputs appear, SIGINT stops cleanly, a second start resumes', async () => {
  const port = await freePort();
  // Three consecutive free ports for the query endpoints.
  let queryPort = 0;
  for (let tries = 0; tries < 20 && queryPort === 0; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const busy = await Promise.all([0, 1, 2].map((i) => listening(base + i)));
    if (!busy.some(Boolean)) queryPort = base;
  }
  assert.notEqual(queryPort, 0, 'three free ports');
  const bootstrap = `127.0.0.1:${port}`;

  const first = startDemo(port, queryPort);
  await eventually(
    'the demo is running',
    () => first.output().includes('Brook demo is running'),
    60_000,
  );
  try {
    await eventually(
      'every example output',
      async () => (await ends(bootstrap, OUTPUTS)).every((n) => n > 0),
      120_000,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}: ${await ends(bootstrap, OUTPUTS)}\n${first.output()}`,
    );
  }
  // The query server answers (retried: on a loaded machine it may still be starting).
  await eventually(
    'the query server answers',
    async () => {
      const res = await fetch(`http://127.0.0.1:${queryPort + 1}/stores`).catch(() => undefined);
      return res?.status === 200;
    },
    30_000,
  );
  const seen = await ends(bootstrap, OUTPUTS);
  first.proc.kill('SIGINT');
  assert.equal(await first.exited, 0, first.output());
  assert.match(first.output(), /brook demo: stopped/);
  // Children stopped too: nothing listens on the broker or query ports any more.
  for (const p of [port, queryPort, queryPort + 1, queryPort + 2]) {
    assert.equal(await listening(p), false, `port ${p} still open`);
  }

  const second = startDemo(port, queryPort);
  await eventually(
    'the demo is running again',
    () => second.output().includes('Brook demo is running'),
    60_000,
  );
  const resumed = await ends(bootstrap, OUTPUTS);
  for (let i = 0; i < OUTPUTS.length; i++) {
    assert.ok(resumed[i]! >= seen[i]!, `${OUTPUTS[i]} kept its records`);
  }
  await eventually(
    'outputs growing again',
    async () => (await ends(bootstrap, ['page-view-counts']))[0]! > resumed[0]!,
    120_000,
  );
  second.proc.kill('SIGINT');
  assert.equal(await second.exited, 0, second.output());
});

test('brook demo: kill -9 of the demo stops its broker and jobs too', async () => {
  const port = await freePort();
  let queryPort = 0;
  for (let tries = 0; tries < 20 && queryPort === 0; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const busy = await Promise.all([0, 1, 2].map((i) => listening(base + i)));
    if (!busy.some(Boolean)) queryPort = base;
  }
  assert.notEqual(queryPort, 0, 'three free ports');
  // A folder of its own: nothing of the first test's demo is shared, even if that one failed.
  const own = join(folder.path, 'kill-9');
  mkdirSync(own);
  const demo = startDemo(port, queryPort, own);
  await eventually(
    'the demo is running',
    () => demo.output().includes('Brook demo is running'),
    60_000,
  );
  const ports = [port, queryPort, queryPort + 1, queryPort + 2];
  await eventually('the broker and every query port listen', async () =>
    (await Promise.all(ports.map(listening))).every(Boolean),
  );
  demo.proc.kill('SIGKILL');
  assert.equal(await demo.exited, 'SIGKILL');
  // No handler of the demo ran: its watchdog stops the children (jobs, then the broker).
  for (const p of ports) {
    await eventually(`port ${p} closed`, async () => !(await listening(p)), 90_000);
  }
  await eventually('no process of the demo left', () => processesUsing(own).length === 0, 60_000);
});

/** Pids of processes whose command line names `path` (the demo's data and state folders). */
function processesUsing(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(path)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
