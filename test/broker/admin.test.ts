import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';
import { KafkaTestClient } from './helpers/kafka-client.js';

// kafkajs is CommonJS: this enum is only reachable through the default export.
const { ConfigResourceTypes } = kafkajs;

describe('admin APIs against a broker process', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  before(async () => {
    broker = await startBroker({ args: ['--set', 'log.retention.hours=2'] });
    kafka = new Kafka({
      clientId: 'brook-admin',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    });
  });
  after(async () => {
    await broker.cleanup();
  });

  test('kafkajs: describe/alter topic configs, create partitions, delete records, delete topics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: 'adm',
            numPartitions: 1,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
      });
      const described = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'adm' }],
        includeSynonyms: false,
      });
      const entries = new Map(described.resources[0].configEntries.map((e) => [e.configName, e]));
      assert.equal(entries.get('cleanup.policy')?.configValue, 'compact');
      assert.equal(
        entries.get('retention.ms')?.configValue,
        String(2 * 3600000),
        'broker setting shows through',
      );
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'adm',
            configEntries: [{ name: 'retention.ms', value: '1000' }],
          },
        ],
      });
      const after = await admin.describeConfigs({
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'adm',
            configNames: ['retention.ms', 'cleanup.policy'],
          },
        ],
        includeSynonyms: false,
      });
      const values = Object.fromEntries(
        after.resources[0].configEntries.map((e) => [e.configName, e.configValue]),
      );
      // AlterConfigs replaces the whole override set.
      assert.deepEqual(values, { 'cleanup.policy': 'delete', 'retention.ms': '1000' });
      await assert.rejects(
        admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: 'adm',
              configEntries: [{ name: 'retention.msx', value: '1' }],
            },
          ],
        }),
      );

      await admin.createPartitions({ topicPartitions: [{ topic: 'adm', count: 3 }] });
      const md = await admin.fetchTopicMetadata({ topics: ['adm'] });
      assert.equal(md.topics[0].partitions.length, 3);
      await assert.rejects(
        admin.createPartitions({ topicPartitions: [{ topic: 'adm', count: 2 }] }),
      );

      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: 'adm',
        messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, partition: 0 })),
      });
      await producer.disconnect();
      await admin.deleteTopicRecords({ topic: 'adm', partitions: [{ partition: 0, offset: '4' }] });
      const offsets = await admin.fetchTopicOffsets('adm');
      assert.deepEqual(
        offsets.find((o) => o.partition === 0),
        { partition: 0, offset: '10', high: '10', low: '4' },
      );

      await admin.deleteTopics({ topics: ['adm'] });
      assert.ok(!(await admin.listTopics()).includes('adm'));
    } finally {
      await admin.disconnect();
    }
  });

  test('IncrementalAlterConfigs, DescribeConfigs of the broker, DescribeCluster, DescribeLogDirs', async () => {
    const c = await KafkaTestClient.connect(broker.port);
    try {
      await c.request(3, 4, { topics: [{ name: 'inc' }], allowAutoTopicCreation: true });
      const inc = await c.request(44, 1, {
        validateOnly: false,
        resources: [
          {
            resourceType: 2,
            resourceName: 'inc',
            configs: [
              { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
              { name: 'segment.bytes', configOperation: 0, value: '1048576' },
            ],
          },
          {
            resourceType: 4,
            resourceName: '0',
            configs: [{ name: 'num.partitions', configOperation: 0, value: '2' }],
          },
        ],
      });
      assert.deepEqual(
        inc.responses.map((r) => r.errorCode),
        [0, 40],
      );
      const d = await c.request(32, 4, {
        resources: [
          {
            resourceType: 2,
            resourceName: 'inc',
            configurationKeys: ['cleanup.policy', 'segment.bytes'],
          },
          {
            resourceType: 4,
            resourceName: '0',
            configurationKeys: ['log.retention.hours', 'num.partitions'],
          },
          { resourceType: 2, resourceName: 'missing', configurationKeys: null },
        ],
        includeSynonyms: true,
        includeDocumentation: true,
      });
      const topicCfg = Object.fromEntries(
        d.results[0].configs.map((e) => [e.name, [e.value, e.configSource]]),
      );
      assert.deepEqual(topicCfg, {
        'cleanup.policy': ['delete,compact', 1],
        'segment.bytes': ['1048576', 1],
      });
      const brokerCfg = Object.fromEntries(
        d.results[1].configs.map((e) => [e.name, [e.value, e.configSource, e.readOnly]]),
      );
      assert.deepEqual(brokerCfg, {
        'log.retention.hours': ['2', 4, true],
        'num.partitions': ['1', 5, true],
      });
      assert.equal(d.results[2].errorCode, 3);
      // retention.ms comes from log.retention.hours here: a static broker setting, shown as a synonym.
      const ret = await c.request(32, 4, {
        resources: [{ resourceType: 2, resourceName: 'inc', configurationKeys: ['retention.ms'] }],
        includeSynonyms: true,
        includeDocumentation: false,
      });
      const entry = ret.results[0].configs[0];
      assert.deepEqual([entry.value, entry.configSource], [String(2 * 3600000), 4]);
      assert.deepEqual(
        entry.synonyms.map((x) => [x.name, x.value, x.source]),
        [['log.retention.hours', '2', 4]],
      );

      const cluster = await c.request(60, 1, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
      });
      assert.equal(cluster.errorCode, 0);
      assert.deepEqual(
        cluster.brokers.map((b) => [b.brokerId, b.host, b.port]),
        [[0, '127.0.0.1', broker.port]],
      );
      assert.equal(cluster.controllerId, 0);

      const dirs = await c.request(35, 4, { topics: null });
      assert.equal(dirs.results[0].logDir, broker.dataDir);
      assert.ok(dirs.results[0].topics.some((t) => t.name === 'inc'));
      assert.ok((dirs.results[0].totalBytes ?? 0n) > 0n);
    } finally {
      c.close();
    }
  });
});
