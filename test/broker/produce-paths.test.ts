import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeRecordBatch, iterateRecordBatches } from '../../src/protocol/record-batch/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';
import { KafkaTestClient } from './helpers/kafka-client.js';

/**
 * Produce answers at once when the data is in the OS, and only after an fdatasync on a topic with
 * flush.policy=always: one request may mix both kinds of partition, and both must get their
 * offsets, in order, and be readable.
 */

function batch(values: string[]): Buffer {
  return encodeRecordBatch({ records: values.map((v) => ({ value: Buffer.from(v) })) });
}

async function readAll(c: KafkaTestClient, topic: string): Promise<string[]> {
  const r = await c.request(1, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      { topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  const records = r.responses[0].partitions[0].records;
  const out: string[] = [];
  if (!records) return out;
  for (const b of iterateRecordBatches(records)) for (const rec of b) out.push(String(rec.value));
  return out;
}

describe('produce: answered at once, or after the sync (flush.policy=always)', () => {
  let broker: BrokerProcess;
  let c: KafkaTestClient;
  before(async () => {
    broker = await startBroker();
    c = await KafkaTestClient.connect(broker.port);
    const res = await c.request(19, 7, {
      topics: [
        { name: 'os', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        {
          name: 'synced',
          numPartitions: 1,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'flush.policy', value: 'always' }],
        },
      ],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(
      res.topics.map((t) => t.errorCode),
      [0, 0],
    );
  });
  after(async () => {
    c?.close();
    await broker?.cleanup();
  });

  test('one request with both kinds of partition, three times: offsets in order, data readable', async () => {
    for (let round = 0; round < 3; round++) {
      const res = await c.request(0, 11, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5000,
        topicData: [
          {
            name: 'synced',
            partitionData: [{ index: 0, records: batch([`s${round}a`, `s${round}b`]) }],
          },
          { name: 'os', partitionData: [{ index: 0, records: batch([`o${round}`]) }] },
          { name: 'missing', partitionData: [{ index: 0, records: batch(['x']) }] },
        ],
      });
      const [synced, os, missing] = res.responses.map((t) => t.partitionResponses[0]);
      assert.deepEqual([synced.errorCode, synced.baseOffset], [0, BigInt(round * 2)]);
      assert.deepEqual([os.errorCode, os.baseOffset], [0, BigInt(round)]);
      assert.equal(missing.errorCode, 3, 'UNKNOWN_TOPIC_OR_PARTITION');
      assert.equal(synced.logStartOffset, 0n);
    }
    assert.deepEqual(await readAll(c, 'synced'), ['s0a', 's0b', 's1a', 's1b', 's2a', 's2b']);
    assert.deepEqual(await readAll(c, 'os'), ['o0', 'o1', 'o2']);
  });

  test('acks=0 to a synced partition sends nothing and the next request is answered', async () => {
    c.send(0, 9, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 5000,
      topicData: [{ name: 'synced', partitionData: [{ index: 0, records: batch(['quiet']) }] }],
    });
    const md = await c.request(3, 12, {
      topics: [{ name: 'synced' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(md.topics[0].errorCode, 0);
    const values = await readAll(c, 'synced');
    assert.equal(values.at(-1), 'quiet');
  });
});
