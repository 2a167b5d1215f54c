import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeRecordBatch, iterateRecordBatches } from '../../src/protocol/record-batch/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';
import { KafkaTestClient } from './helpers/kafka-client.js';

/** An idempotent producer's batch of `n` records starting at `seq`. */
function idemBatch(
  pid: number,
  epoch: number,
  seq: number,
  n: number,
  tag = 'v',
  transactional = false,
): Buffer {
  return encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`${tag}${seq + i}`) })),
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    transactional,
  });
}

function produceBody(topic: string, records: Buffer, transactionalId: string | null = null) {
  return {
    transactionalId,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  };
}

async function produce(
  c: KafkaTestClient,
  topic: string,
  records: Buffer,
  transactionalId: string | null = null,
) {
  const r = await c.request(0, 9, produceBody(topic, Buffer.from(records), transactionalId));
  const p = r.responses[0].partitionResponses[0];
  return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset), message: p.errorMessage };
}

/** Every record value in the partition, in offset order. */
async function values(c: KafkaTestClient, topic: string): Promise<string[]> {
  const r = await c.request(1, 11, {
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
  const out: string[] = [];
  const records = r.responses[0].partitions[0].records;
  if (!records) return out;
  for (const b of iterateRecordBatches(records)) for (const rec of b) out.push(String(rec.value));
  return out;
}

async function initPid(c: KafkaTestClient, producerId = -1n, producerEpoch = -1) {
  return c.request(22, 4, {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId,
    producerEpoch,
  });
}

async function createTopic(c: KafkaTestClient, name: string) {
  await c.request(3, 4, { topics: [{ name }], allowAutoTopicCreation: true });
}

describe('idempotent producers (raw protocol)', () => {
  let broker: BrokerProcess;
  let c: KafkaTestClient;
  before(async () => {
    broker = await startBroker({ args: ['--set', 'num.partitions=1'] });
    c = await KafkaTestClient.connect(broker.port);
  });
  after(async () => {
    c?.close();
    await broker?.cleanup();
  });

  test('InitProducerId without a transactional id: a new id at epoch 0 every time, whatever id and epoch it carries (as Kafka)', async () => {
    const a = await initPid(c);
    const b = await initPid(c);
    assert.equal(a.errorCode, 0);
    assert.notEqual(a.producerId, b.producerId);
    assert.equal(a.producerEpoch, 0);
    const again = await initPid(c, a.producerId, 0);
    assert.equal(again.errorCode, 0);
    assert.ok(again.producerId > b.producerId);
    assert.equal(again.producerEpoch, 0);
    // @platformatic/kafka's first request carries id 0 / epoch 0: neither an error nor a bump of id 0.
    const zero = await initPid(c, 0n, 0);
    assert.equal(zero.errorCode, 0);
    assert.ok(zero.producerId > again.producerId);
    const txn = await c.request(22, 4, {
      transactionalId: 'tx',
      transactionTimeoutMs: 60000,
      producerId: -1n,
      producerEpoch: -1,
    });
    assert.equal(txn.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  test('a re-sent batch is stored once and answered with its original offset', async () => {
    await createTopic(c, 'idem');
    const { producerId } = await initPid(c);
    const pid = Number(producerId);
    const first = idemBatch(pid, 0, 0, 3);
    assert.deepEqual(await produce(c, 'idem', first), {
      errorCode: 0,
      baseOffset: 0,
      message: null,
    });
    assert.equal((await produce(c, 'idem', idemBatch(pid, 0, 3, 2))).baseOffset, 3);
    // A plain producer in between.
    assert.equal(
      (await produce(c, 'idem', encodeRecordBatch({ records: [{ value: Buffer.from('plain') }] })))
        .baseOffset,
      5,
    );
    // Retries of both earlier batches.
    const dup = await produce(c, 'idem', first);
    assert.equal(dup.errorCode, 0);
    assert.equal(dup.baseOffset, 0);
    assert.equal((await produce(c, 'idem', idemBatch(pid, 0, 3, 2))).baseOffset, 3);
    assert.deepEqual(await values(c, 'idem'), ['v0', 'v1', 'v2', 'v3', 'v4', 'plain']);
    // The next sequence goes on.
    assert.equal((await produce(c, 'idem', idemBatch(pid, 0, 5, 1))).baseOffset, 6);
  });

  test('out-of-order sequences, old epochs, unknown producers and transactional batches are refused', async () => {
    await createTopic(c, 'idem2');
    const { producerId } = await initPid(c);
    const pid = Number(producerId);
    assert.equal((await produce(c, 'idem2', idemBatch(pid, 0, 0, 2))).errorCode, 0);
    const gap = await produce(c, 'idem2', idemBatch(pid, 0, 5, 1));
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.match(gap.message ?? '', /sequence/i);
    // A new epoch must start at sequence 0...
    assert.equal(
      (await produce(c, 'idem2', idemBatch(pid, 1, 2, 1))).errorCode,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    assert.equal((await produce(c, 'idem2', idemBatch(pid, 1, 0, 1))).errorCode, 0);
    // ...and fences the old one.
    assert.equal(
      (await produce(c, 'idem2', idemBatch(pid, 0, 2, 1))).errorCode,
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    // A producer id this broker never issued, and a known id without state here but a late sequence.
    assert.equal(
      (await produce(c, 'idem2', idemBatch(9_000_000, 0, 0, 1))).errorCode,
      ErrorCode.UNKNOWN_PRODUCER_ID,
    );
    const other = Number((await initPid(c)).producerId);
    assert.equal(
      (await produce(c, 'idem2', idemBatch(other, 0, 7, 1))).errorCode,
      ErrorCode.UNKNOWN_PRODUCER_ID,
    );
    // Transactions are a later issue.
    const txn = await produce(c, 'idem2', idemBatch(other, 0, 0, 1, 'v', true), 'tx');
    assert.equal(txn.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.deepEqual(await values(c, 'idem2'), ['v0', 'v1', 'v0']);
  });
  test('DeleteRecords past every batch of a producer forgets it, as retention does', async () => {
    await createTopic(c, 'idem3');
    const pid = Number((await initPid(c)).producerId);
    assert.equal((await produce(c, 'idem3', idemBatch(pid, 0, 0, 3))).errorCode, 0);
    const del = await c.request(21, 2, {
      topics: [{ name: 'idem3', partitions: [{ partitionIndex: 0, offset: 3n }] }],
      timeoutMs: 5000,
    });
    assert.equal(del.topics[0].partitions[0].errorCode, 0);
    // Its state is gone with its records: the next sequence is no longer known.
    const next = await produce(c, 'idem3', idemBatch(pid, 0, 3, 1));
    assert.equal(next.errorCode, ErrorCode.UNKNOWN_PRODUCER_ID);
    // A re-initialised producer (a new producer id, sequence 0) writes again.
    const fresh = await initPid(c);
    assert.equal(
      (await produce(c, 'idem3', idemBatch(Number(fresh.producerId), 0, 0, 1))).baseOffset,
      3,
    );
  });
});

describe('producer state across restarts', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`duplicates are still detected after a restart (${signal}), and producer ids are never reused`, async () => {
      let broker = await startBroker({ args: ['--set', 'num.partitions=1'] });
      const dataDir = broker.dataDir;
      try {
        let c = await KafkaTestClient.connect(broker.port);
        await createTopic(c, 'r');
        const pid = Number((await initPid(c)).producerId);
        for (let s = 0; s < 20; s += 2)
          assert.equal((await produce(c, 'r', idemBatch(pid, 0, s, 2))).errorCode, 0);
        c.close();
        await broker.stop(signal);
        const snapshots = readdirSync(join(dataDir, 'r-0')).filter((f) => f.endsWith('.snapshot'));
        // A clean shutdown leaves a snapshot at the log end, so startup reads no batches.
        if (signal === 'SIGTERM') assert.deepEqual(snapshots, ['00000000000000000020.snapshot']);
        broker = await startBroker({ dataDir, args: ['--set', 'num.partitions=1'] });
        c = await KafkaTestClient.connect(broker.port);
        // The last five batches are remembered: a retry of any of them is a duplicate.
        const dup = await produce(c, 'r', idemBatch(pid, 0, 12, 2));
        assert.deepEqual([dup.errorCode, dup.baseOffset], [0, 12]);
        assert.equal(
          (await produce(c, 'r', idemBatch(pid, 0, 22, 1))).errorCode,
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        );
        assert.equal((await produce(c, 'r', idemBatch(pid, 0, 20, 1))).baseOffset, 20);
        assert.equal((await values(c, 'r')).length, 21);
        const next = Number((await initPid(c)).producerId);
        assert.ok(next > pid, `new id ${next} after ${pid}`);
        c.close();
      } finally {
        await broker.cleanup();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});
