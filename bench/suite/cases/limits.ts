/**
 * The limits of this machine, measured in the same run as everything else: TCP throughput over
 * loopback between two processes (no broker can move more bytes than this), and sequential file
 * append throughput into the directory the brokers' data directories live in, without and with
 * fdatasync (what a flush policy costs).
 */
import { spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type BenchCase, type CaseContext, repeat } from '../context.js';

const MB = 1e6;

/**
 * The receiving process: counts bytes and answers one byte once it has them all, so the sender's
 * clock covers delivery, not just its own writes.
 */
const SINK = `
const net = require('node:net');
const want = Number(process.argv[1]);
const server = net.createServer((s) => {
  let got = 0;
  s.on('data', (d) => { got += d.length; if (got >= want) { s.end('k'); server.close(); } });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** MB/s of `bytes` written in 64 KiB chunks from this process to a sink process. */
async function loopbackRun(bytes: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', SINK, String(bytes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', (code) => reject(new Error(`loopback sink exited with ${code}`)));
    });
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise((r) => socket.once('connect', r));
    const chunk = Buffer.alloc(64 * 1024, 7);
    const acked = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const started = performance.now();
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
    }
    await acked;
    const secs = (performance.now() - started) / 1000;
    socket.destroy();
    return bytes / MB / secs;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** MB/s appending `bytes` in `chunk`-byte writes, fdatasync after every `syncEvery` writes (0: never). */
function appendRun(dir: string, bytes: number, chunk: number, syncEvery: number): number {
  const fd = openSync(join(dir, `append-${chunk}-${syncEvery}.log`), 'a');
  const buf = Buffer.alloc(chunk, 1);
  try {
    const started = performance.now();
    let writes = 0;
    for (let done = 0; done < bytes; done += chunk) {
      writeSync(fd, buf);
      if (syncEvery > 0 && ++writes % syncEvery === 0) fdatasyncSync(fd);
    }
    return bytes / MB / ((performance.now() - started) / 1000);
  } finally {
    closeSync(fd);
  }
}

async function run(ctx: CaseContext): Promise<void> {
  const { sizes } = ctx;
  const machine = 'machine';
  const lo = await repeat(ctx, 'loopback TCP', () => loopbackRun(sizes.loopbackBytes));
  ctx.figure({
    name: 'loopback TCP, process to process, 64 KiB writes',
    system: machine,
    unit: 'MB/s',
    runs: lo,
    params: { bytes: sizes.loopbackBytes, writeSize: 65536, host: '127.0.0.1' },
  });
  const dir = ctx.tempDir('brook-bench-append-');
  const page = await repeat(ctx, 'file append, no sync', async () =>
    appendRun(dir, sizes.appendBytes, 65536, 0),
  );
  ctx.figure({
    name: 'file append, 64 KiB writes, no fdatasync (page cache)',
    system: machine,
    unit: 'MB/s',
    runs: page,
    params: { bytes: sizes.appendBytes, writeSize: 65536, fdatasync: 'never' },
  });
  const synced = await repeat(ctx, 'file append, fdatasync every 1 MiB', async () =>
    appendRun(dir, sizes.appendBytes / 4, 65536, 16),
  );
  ctx.figure({
    name: 'file append, 64 KiB writes, fdatasync every 1 MiB',
    system: machine,
    unit: 'MB/s',
    runs: synced,
    params: {
      bytes: sizes.appendBytes / 4,
      writeSize: 65536,
      fdatasync: 'every 16 writes (1 MiB)',
    },
  });
  const small = await repeat(ctx, 'file append, 4 KiB + fdatasync each', async () => {
    const n = sizes.syncedAppends;
    const mbps = appendRun(dir, n * 4096, 4096, 1);
    return (mbps * MB) / 4096;
  });
  ctx.figure({
    name: 'file append, 4 KiB writes, fdatasync after each',
    system: machine,
    unit: 'appends/s',
    runs: small,
    params: { appends: sizes.syncedAppends, writeSize: 4096, fdatasync: 'after every write' },
    note: 'the ceiling of an fsync-per-write policy without group commit',
  });
}

export const limitsCase: BenchCase = {
  name: 'limits',
  title: 'Limits of this machine',
  summary: 'loopback TCP between two processes; sequential file append with and without fdatasync',
  run,
};
