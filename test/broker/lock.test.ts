import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataDirLock, DataDirLockedError } from '../../src/broker/data-dir-lock.js';
import { spawnBrook, startBroker, tempDataDir, waitExit } from './helpers/broker-process.js';
import { KafkaTestClient } from './helpers/kafka-client.js';

/** The pid of a process that has exited (and so cannot hold a lock). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

test('a second broker on the same data dir refuses to start and names the holder', async () => {
  const first = await startBroker();
  try {
    const second = spawnBrook([
      'start',
      '--data-dir',
      first.dataDir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--metrics-port',
      '0',
    ]);
    const { code, stderr } = await waitExit(second);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`in use by another broker \\(pid ${first.proc.pid}`));
    assert.match(stderr, /different --data-dir/);
    // The first broker still holds its lock.
    assert.equal(readFileSync(join(first.dataDir, '.lock'), 'utf8').trim(), String(first.proc.pid));
  } finally {
    await first.cleanup();
  }
});

test('a stale lock from a dead process is taken over', async () => {
  const dir = tempDataDir();
  try {
    const pid = deadPid();
    writeFileSync(join(dir, '.lock'), `${pid}\n`);
    const broker = await startBroker({ dataDir: dir });
    try {
      assert.equal(readFileSync(join(dir, '.lock'), 'utf8').trim(), String(broker.proc.pid));
      assert.ok(broker.lines.some((l) => l.stalePid === pid && /stale/.test(String(l.msg))));
    } finally {
      await broker.cleanup();
    }
    assert.equal(existsSync(join(dir, '.lock')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DataDirLock in-process: exclusive, reentrant attempts fail, release is idempotent', () => {
  const dir = tempDataDir();
  try {
    const lock = DataDirLock.acquire(dir);
    assert.throws(() => DataDirLock.acquire(dir), DataDirLockedError);
    lock.release();
    lock.release();
    assert.equal(existsSync(join(dir, '.lock')), false);
    // An empty lock file (a crash between create and write) counts as stale.
    writeFileSync(join(dir, '.lock'), '');
    DataDirLock.acquire(dir).release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a data dir written by another node id is refused', async () => {
  const dir = tempDataDir();
  try {
    writeFileSync(
      join(dir, 'meta.properties'),
      'cluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=3\nversion=1\n',
    );
    const p = spawnBrook([
      'start',
      '--data-dir',
      dir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--metrics-port',
      '0',
    ]);
    const { code, stderr } = await waitExit(p);
    assert.equal(code, 1);
    assert.match(stderr, /stored node id 3/);
    assert.equal(existsSync(join(dir, '.lock')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('configuration errors stop brook start with exit code 2 and a suggestion', async () => {
  const dir = tempDataDir();
  try {
    const p = spawnBrook(['start', '--data-dir', dir, '--set', 'num.partitons=3']);
    const { code, stderr } = await waitExit(p);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /unknown configuration key "num\.partitons".*did you mean num\.partitions\?/,
    );
    const q = spawnBrook(['start', '--data-dir', dir], { BROOK_LOG_SEGMENT_BYTES: 'big' });
    const r = await waitExit(q);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /log\.segment\.bytes: not an integer \(environment variable BROOK_LOG_SEGMENT_BYTES\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('brook start reads a server.properties file (comments, continuation) and BROOK_* variables', async () => {
  const dir = tempDataDir();
  try {
    const file = join(dir, 'server.properties');
    writeFileSync(
      file,
      '# a Kafka-style file\nnum.partitions=\\\n  3\nauto.create.topics.enable = true\n',
    );
    const broker = await startBroker({
      args: ['--config', file],
      env: { BROOK_DEFAULT_REPLICATION_FACTOR: '1', BROOK_NOT_A_KEY: 'x' },
    });
    try {
      const c = await KafkaTestClient.connect(broker.port);
      const md = await c.request(3, 9, {
        topics: [{ name: 'from-file' }],
        allowAutoTopicCreation: true,
        includeTopicAuthorizedOperations: false,
      });
      c.close();
      assert.equal(md.topics[0].partitions.length, 3);
      assert.ok(
        broker.lines.some((l) => /BROOK_NOT_A_KEY/.test(String(l.msg))),
        'unknown BROOK_ variables are warned about',
      );
    } finally {
      await broker.cleanup();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
