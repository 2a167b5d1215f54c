/**
 * The client sub-commands (topics, produce, consume, groups) end to end against a Brook broker,
 * run from the TypeScript sources the way `bin/brook` runs the build.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type BrokerProcess, startBroker } from '../broker/helpers/broker-process.js';

const root = new URL('../../', import.meta.url).pathname;
const cli = `${root}test/broker/helpers/brook-cli.ts`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function brook(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`brook ${args.join(' ')} did not exit: ${stderr}`));
    }, 60000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
    proc.stdin.end(input ?? '');
  });
}

describe('brook topics / produce / consume against Brook', () => {
  let broker: BrokerProcess;
  let bs: string[];
  before(async () => {
    broker = await startBroker();
    bs = ['--bootstrap-server', `127.0.0.1:${broker.port}`];
  });
  after(async () => {
    await broker?.cleanup();
  });

  test('topics create, list, describe, alter, delete', async () => {
    let r = await brook([
      'topics',
      'create',
      ...bs,
      '--topic',
      'cli-t',
      '--partitions',
      '3',
      '--config',
      'retention.ms=3600000',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Created topic cli-t/);
    r = await brook(['topics', 'create', ...bs, '--topic', 'cli-t']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TOPIC_ALREADY_EXISTS.*--if-not-exists/);
    r = await brook(['topics', 'create', ...bs, '--topic', 'cli-t', '--if-not-exists']);
    assert.equal(r.code, 0, r.stderr);
    r = await brook(['topics', 'list', ...bs, '--json']);
    assert.deepEqual(JSON.parse(r.stdout), ['cli-t']);
    r = await brook(['topics', 'describe', ...bs, '--topic', 'cli-t']);
    assert.match(r.stdout, /Topic: cli-t\t.*PartitionCount: 3\tReplicationFactor: 1/);
    assert.equal((r.stdout.match(/\tPartition: \d/g) ?? []).length, 3);
    r = await brook(['topics', 'alter', ...bs, '--topic', 'cli-t', '--partitions', '4']);
    assert.equal(r.code, 0, r.stderr);
    r = await brook(['topics', 'describe', ...bs, '--topic', 'cli-t', '--json']);
    assert.equal(JSON.parse(r.stdout).partitionCount, 4);
    r = await brook(['topics', 'delete', ...bs, '--topic', 'cli-t']);
    assert.equal(r.code, 0, r.stderr);
    r = await brook(['topics', 'list', ...bs]);
    assert.equal(r.stdout, '');
  });

  test('produce keyed lines from stdin, consume them back with keys, exit on --max-messages and --timeout-ms', async () => {
    await brook(['topics', 'create', ...bs, '--topic', 'cli-p', '--partitions', '2']);
    const lines = Array.from({ length: 100 }, (_, i) => `k${i % 5}:v${i}`).join('\n');
    let r = await brook(
      [
        'produce',
        ...bs,
        '--topic',
        'cli-p',
        '--property',
        'parse.key=true',
        '--property',
        'key.separator=:',
        '--compression',
        'lz4',
        '--acks',
        'all',
      ],
      `${lines}\n`,
    );
    assert.equal(r.code, 0, r.stderr);
    r = await brook([
      'consume',
      ...bs,
      '--topic',
      'cli-p',
      '--from-beginning',
      '--max-messages',
      '100',
      '--property',
      'print.key=true',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = r.stdout.trim().split('\n');
    assert.equal(got.length, 100);
    for (const line of got) {
      const [k, v] = line.split('\t');
      assert.equal(k, `k${Number(v.slice(1)) % 5}`);
    }
    assert.match(r.stderr, /Processed a total of 100 messages/);
    r = await brook([
      'consume',
      ...bs,
      '--topic',
      'cli-p',
      '--partition',
      '1',
      '--offset',
      '0',
      '--timeout-ms',
      '1000',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const json = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { partition: number; offset: number });
    assert.ok(json.length > 0 && json.length < 100);
    assert.deepEqual(
      json.map((j) => j.offset),
      json.map((_, i) => i),
    );
    for (const j of json) assert.equal(j.partition, 1);
    // In a group: the offsets of what was printed are committed on exit.
    r = await brook([
      'consume',
      ...bs,
      '--topic',
      'cli-p',
      '--group',
      'cli-g',
      '--from-beginning',
      '--max-messages',
      '100',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 100);
    r = await brook(['groups', 'describe', ...bs, '--group', 'cli-g', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const described = JSON.parse(r.stdout) as {
      partitions: { committedOffset: number; lag: number }[];
    };
    assert.equal(
      described.partitions.reduce((n, p) => n + p.committedOffset, 0),
      100,
    );
    assert.ok(described.partitions.every((p) => p.lag === 0));
    r = await brook(['groups', 'list', ...bs]);
    assert.match(r.stdout, /^cli-g$/m);
    r = await brook([
      'consume',
      ...bs,
      '--topic',
      'cli-p',
      '--max-messages',
      '1',
      '--timeout-ms',
      '500',
    ]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
  });

  test('errors name the cause and the fix', async () => {
    let r = await brook(['topics', 'list', '--bootstrap-server', '127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach 127\.0\.0\.1:1 .*`brook start`/);
    r = await brook(['produce', ...bs]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--topic is required/);
    r = await brook(['consume', ...bs, '--topic', 'x', '--offset', '3']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--offset needs --partition/);
  });
});
