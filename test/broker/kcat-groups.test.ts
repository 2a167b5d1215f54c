import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type BrokerProcess, GROUP_TEST_ARGS, startBroker } from './helpers/broker-process.js';
import { kcat, kcatInstalled } from './helpers/kcat.js';
import { until } from './helpers/until.js';
import { KafkaTestClient } from './helpers/kafka-client.js';

// kcat (librdkafka) is required: .ci/run installs it (apt-get install kcat).
assert.ok(await kcatInstalled(), 'kcat is not installed: apt-get install -y kcat');

const ARGS = [...GROUP_TEST_ARGS];

/** A `kcat -G` group member printing `partition:value` lines. */
class GroupMember {
  readonly proc: ChildProcess;
  readonly values: string[] = [];
  readonly partitions = new Set<number>();
  stderr = '';
  #pending = '';
  readonly exited: Promise<number | null>;

  constructor(port: number, group: string, topic: string) {
    this.proc = spawn(
      'kcat',
      [
        '-b',
        `127.0.0.1:${port}`,
        '-G',
        group,
        '-f',
        '%p:%s\\n',
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'session.timeout.ms=3000',
        '-X',
        'heartbeat.interval.ms=300',
        '-X',
        'fetch.wait.max.ms=100',
        '-q',
        '-u',
        topic,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stdout?.on('data', (d: Buffer) => {
      this.#pending += d.toString();
      const lines = this.#pending.split('\n');
      this.#pending = lines.pop() ?? '';
      for (const line of lines) {
        const i = line.indexOf(':');
        this.partitions.add(Number(line.slice(0, i)));
        this.values.push(line.slice(i + 1));
      }
    });
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
  }

  /** SIGTERM: kcat closes its consumer, which leaves the group. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(t);
  }
}

describe('kcat -G (librdkafka group consumer)', () => {
  let broker: BrokerProcess;
  const members: GroupMember[] = [];
  before(async () => {
    broker = await startBroker({ args: ARGS });
  });
  after(async () => {
    for (const m of members) await m.stop();
    await broker?.cleanup();
  });

  test('two members share the partitions; a member that leaves hands its partitions over', async () => {
    const produce = async (from: number, n: number) => {
      const lines = Array.from({ length: n }, (_, i) => `k${from + i}:v${from + i}`).join('\n');
      await kcat(broker.port, ['-P', '-t', 'shared', '-K:', '-p', '-1'], `${lines}\n`);
    };
    // Four partitions, made up front so the assignment has something to split.
    const c = await KafkaTestClient.connect(broker.port);
    await c.request(19, 5, {
      topics: [
        { name: 'shared', numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    c.close();
    const a = new GroupMember(broker.port, 'kcat-group', 'shared');
    const b = new GroupMember(broker.port, 'kcat-group', 'shared');
    members.push(a, b);
    // Both in one stable generation before anything is produced, so that both get records.
    const admin = await KafkaTestClient.connect(broker.port);
    try {
      const deadline = Date.now() + 30000;
      for (;;) {
        const d = (
          await admin.request(15, 5, { groups: ['kcat-group'], includeAuthorizedOperations: false })
        ).groups[0];
        if (
          d.groupState === 'Stable' &&
          d.members.length === 2 &&
          d.members.every((m) => m.memberAssignment.length > 0)
        )
          break;
        if (Date.now() > deadline)
          throw new Error(`group not stable with two members: ${d.groupState} ${d.members.length}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      admin.close();
    }
    await produce(0, 200);
    const union = () => new Set([...a.values, ...b.values]);
    await until(() => union().size === 200, `both members to consume (${a.stderr}${b.stderr})`);
    await until(() => a.partitions.size > 0 && b.partitions.size > 0, 'both to own partitions');
    assert.equal(
      [...a.partitions].filter((p) => b.partitions.has(p)).length,
      0,
      'no partition consumed by both',
    );
    await b.stop();
    const aBefore = a.values.length;
    await produce(200, 200);
    await until(
      () => new Set(a.values.slice(aBefore)).size === 200,
      'the remaining member to take every partition',
    );
    assert.equal(union().size, 400);
  });
});

describe('librdkafka idempotent producer under broker restarts', () => {
  test('enable.idempotence=true across kill -9 restarts writes every line exactly once', async () => {
    let broker = await startBroker({ args: ARGS });
    const dataDir = broker.dataDir;
    const port = broker.port;
    const restart = async (signal: NodeJS.Signals) => {
      await broker.stop(signal);
      broker = await startBroker({ dataDir, args: [...ARGS, '--port', String(port)] });
    };
    try {
      const producer = spawn(
        'kcat',
        [
          '-b',
          `127.0.0.1:${port}`,
          '-P',
          '-E',
          '-t',
          'idem-kcat',
          '-X',
          'enable.idempotence=true',
          '-X',
          'linger.ms=5',
          '-X',
          'message.timeout.ms=60000',
          '-X',
          'reconnect.backoff.max.ms=200',
        ],
        { stdio: ['pipe', 'ignore', 'pipe'] },
      );
      let stderr = '';
      producer.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => producer.once('exit', resolve));
      const TOTAL = 3000;
      let written = 0;
      const write = async (n: number) => {
        for (let i = 0; i < n; i++) producer.stdin?.write(`line-${written++}\n`);
        await new Promise((r) => setTimeout(r, 20));
      };
      for (const signal of ['SIGKILL', 'SIGTERM', 'SIGKILL'] as const) {
        for (let i = 0; i < 10; i++) await write(100);
        await restart(signal);
      }
      while (written < TOTAL) await write(100);
      producer.stdin?.end();
      const code = await exited;
      assert.equal(code, 0, stderr);
      const out = await kcat(port, ['-C', '-t', 'idem-kcat', '-o', 'beginning', '-e', '-q']);
      const lines = out.split('\n').filter((l) => l.length > 0);
      const unique = new Set(lines);
      assert.equal(unique.size, TOTAL, 'every line arrived');
      assert.equal(lines.length, TOTAL, 'no line arrived twice');
    } finally {
      await broker.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
