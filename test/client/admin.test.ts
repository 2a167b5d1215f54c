/**
 * The admin client against Brook (the librdkafka mock has no CreateTopics, DescribeGroups,
 * configs or DeleteRecords, so these run on Brook only): topics, partitions, configs, groups with
 * lag and offset resets, record deletion, cluster description; plus `brook groups` on top.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Admin, Consumer, KafkaError, Producer } from '../../src/client/index.js';
import { startBrook, type Target, waitUntil } from './helpers/targets.js';

const root = new URL('../../', import.meta.url).pathname;

describe('admin client against Brook', () => {
  let target: Target;
  let admin: Admin;
  before(async () => {
    target = await startBrook();
    admin = new Admin({ bootstrapServers: target.bootstrap });
  });
  after(async () => {
    await admin?.close();
    await target?.stop();
  });

  test('topics: create with configs, list, describe, add partitions, delete', async () => {
    await admin.createTopics([
      {
        topic: 'adm-a',
        numPartitions: 2,
        replicationFactor: 1,
        configs: { 'cleanup.policy': 'compact' },
      },
    ]);
    await assert.rejects(
      admin.createTopics([{ topic: 'adm-a', numPartitions: 1 }]),
      (err: unknown) => {
        assert.ok(err instanceof KafkaError);
        assert.equal(err.name, 'TOPIC_ALREADY_EXISTS');
        return true;
      },
    );
    assert.ok((await admin.listTopics()).includes('adm-a'));
    const [info] = await admin.describeTopics(['adm-a']);
    assert.equal(info.partitions.length, 2);
    assert.ok(info.partitions.every((p) => p.leader >= 0 && p.replicas.length === 1));
    await admin.createPartitions([{ topic: 'adm-a', count: 5 }]);
    assert.equal((await admin.describeTopics(['adm-a']))[0].partitions.length, 5);
    await admin.deleteTopics(['adm-a']);
    assert.ok(!(await admin.listTopics()).includes('adm-a'));
    await assert.rejects(
      admin.describeTopics(['adm-a']),
      /UNKNOWN_TOPIC_OR_PARTITION|does not host/,
    );
  });

  test('configs: describe, incremental alter, alter', async () => {
    await admin.createTopics([
      { topic: 'adm-cfg', numPartitions: 1, configs: { 'retention.ms': '3600000' } },
    ]);
    const get = async (key: string) =>
      (await admin.describeConfigs('adm-cfg')).find((c) => c.name === key);
    assert.equal((await get('retention.ms'))?.value, '3600000');
    await admin.incrementalAlterConfigs('adm-cfg', [{ name: 'retention.ms', value: '7200000' }]);
    assert.equal((await get('retention.ms'))?.value, '7200000');
    await admin.incrementalAlterConfigs('adm-cfg', [{ name: 'retention.ms', op: 'delete' }]);
    assert.notEqual((await get('retention.ms'))?.value, '7200000');
    await admin.alterConfigs('adm-cfg', { 'segment.bytes': '1048576' });
    assert.equal((await get('segment.bytes'))?.value, '1048576');
  });

  test('delete records, list offsets and describe the cluster', async () => {
    await admin.createTopics([{ topic: 'adm-del', numPartitions: 1 }]);
    const p = new Producer({ bootstrapServers: target.bootstrap });
    await p.send(
      'adm-del',
      Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, timestamp: 1_000_000 + i * 1000 })),
    );
    await p.close();
    const tp = { topic: 'adm-del', partition: 0 };
    assert.equal((await admin.listOffsets([tp], -1)).get('adm-del\u00000'), 10);
    assert.equal((await admin.listOffsets([tp], 1_000_000 + 4500)).get('adm-del\u00000'), 5);
    const low = await admin.deleteRecords([{ ...tp, offset: 4 }]);
    assert.equal(low.get('adm-del\u00000'), 4);
    assert.equal((await admin.listOffsets([tp], -2)).get('adm-del\u00000'), 4);
    // The consumer's seek by time lands on the same offset.
    const c = new Consumer({ bootstrapServers: target.bootstrap });
    try {
      c.assign([tp]);
      await c.seekToTimestamp(1_000_000 + 6500);
      assert.equal(c.position(tp), 7);
      await c.seekToTimestamp(9_000_000_000_000);
      assert.equal(c.position(tp), 10, 'past the last record: the end');
    } finally {
      await c.close();
    }
    const cluster = await admin.describeCluster();
    assert.equal(cluster.brokers.length, 1);
    assert.ok(cluster.clusterId);
  });

  test('groups: list, describe with members, lag, reset offsets, delete; and `brook groups`', async () => {
    await admin.createTopics([{ topic: 'adm-g', numPartitions: 2 }]);
    const p = new Producer({ bootstrapServers: target.bootstrap });
    await p.send(
      'adm-g',
      Array.from({ length: 20 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })),
    );
    await p.close();
    const c = new Consumer({
      bootstrapServers: target.bootstrap,
      groupId: 'adm-group',
      clientId: 'adm-client',
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
    });
    try {
      c.subscribe(['adm-g']);
      let seen = 0;
      await waitUntil(async () => {
        const b = await c.poll(200);
        if (b) {
          seen += b.count;
          c.markProcessed(b);
        }
        return seen >= 20;
      }, 'the consumer to read 20 records');
      await c.commitSync([
        { topic: 'adm-g', partition: 0, offset: 10 },
        { topic: 'adm-g', partition: 1, offset: 4 },
      ]);
      assert.ok((await admin.listGroups()).some((g) => g.groupId === 'adm-group'));
      const g = await admin.describeGroup('adm-group');
      assert.equal(g.state, 'Stable');
      assert.equal(g.members.length, 1);
      assert.equal(g.members[0].clientId, 'adm-client');
      assert.deepEqual(g.members[0].assignment.map((x) => x.partition).sort(), [0, 1]);
      const lag = await admin.groupLag('adm-group');
      assert.deepEqual(
        lag.partitions.map((x) => [
          x.partition,
          x.committedOffset,
          x.logEndOffset,
          x.lag,
          x.clientId,
        ]),
        [
          [0, 10, 10, 0, 'adm-client'],
          [1, 4, 10, 6, 'adm-client'],
        ],
      );
      // The describe command prints the same table.
      const out = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          `${root}test/broker/helpers/brook-cli.ts`,
          'groups',
          'describe',
          '--bootstrap-server',
          target.bootstrap,
          '--group',
          'adm-group',
        ],
        { cwd: root, encoding: 'utf8' },
      );
      assert.equal(out.status, 0, out.stderr);
      assert.match(
        out.stdout,
        /GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID/,
      );
      assert.match(out.stdout, /adm-group\s+adm-g\s+1\s+4\s+10\s+6\s+\S+/);
      // Offsets of a group with members cannot be reset.
      await assert.rejects(
        admin.resetOffsets('adm-group', { topics: ['adm-g'] }, { to: 'earliest' }),
      );
    } finally {
      await c.close();
    }
    await waitUntil(
      async () => (await admin.describeGroup('adm-group')).members.length === 0,
      'the group to empty',
    );
    const plan = await admin.resetOffsets(
      'adm-group',
      { topics: ['adm-g'] },
      { to: 'earliest' },
      { dryRun: true },
    );
    assert.deepEqual(
      plan.map((x) => x.offset),
      [0, 0],
    );
    assert.deepEqual(
      (await admin.fetchOffsets('adm-group')).map((x) => x.offset),
      [10, 4],
    );
    await admin.resetOffsets('adm-group', { topics: ['adm-g'] }, { to: 'offset', offset: 7 });
    assert.deepEqual(
      (await admin.fetchOffsets('adm-group')).map((x) => x.offset),
      [7, 7],
    );
    await admin.resetOffsets('adm-group', { topics: ['adm-g'] }, { to: 'shift', by: -2 });
    assert.deepEqual(
      (await admin.fetchOffsets('adm-group')).map((x) => x.offset),
      [5, 5],
    );
    await admin.resetOffsets('adm-group', { topics: ['adm-g'] }, { to: 'latest' });
    assert.deepEqual(
      (await admin.fetchOffsets('adm-group')).map((x) => x.offset),
      [10, 10],
    );
    const cli = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        `${root}test/broker/helpers/brook-cli.ts`,
        'groups',
        'reset-offsets',
        '--bootstrap-server',
        target.bootstrap,
        '--group',
        'adm-group',
        '--topic',
        'adm-g',
        '--to-earliest',
        '--execute',
        '--json',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(
      JSON.parse(cli.stdout).offsets.map((x: { offset: number }) => x.offset),
      [0, 0],
    );
    await admin.deleteGroups(['adm-group']);
    assert.ok(!(await admin.listGroups()).some((g) => g.groupId === 'adm-group'));
  });
});
