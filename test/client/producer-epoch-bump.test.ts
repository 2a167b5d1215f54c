/**
 * The idempotent producer's epoch bump, provoked: a broker (scripted, since neither Brook nor the
 * mock cluster can be made to lose a producer's sequences on demand) answers a Produce with
 * OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID. The failed batch's send rejects with that
 * error, InitProducerId is asked again with the current id and epoch (KIP-360), and the next batch
 * goes with the new epoch and sequence 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaError, Producer } from '../../src/client/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  BASE_SEQUENCE_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
} from '../../src/protocol/record-batch/header.js';
import { waitUntil } from './helpers/targets.js';

interface SentBatch {
  producerId: bigint;
  epoch: number;
  baseSequence: number;
}

/** A one-broker cluster whose answers the test scripts; it records what the producer sent. */
function scriptedBroker(produceErrors: number[]) {
  const initRequests: Array<{ producerId: bigint; producerEpoch: number }> = [];
  const batches: SentBatch[] = [];
  let epoch = 0;
  let offset = 0;
  const conn = {
    address: 'scripted:9092',
    isOpen: true,
    supports: () => true,
    versionFor: (apiKey: number) => (apiKey === 22 ? 4 : 9),
    async request(apiKey: number, body: Record<string, unknown>): Promise<unknown> {
      if (apiKey === 22) {
        const req = body as { producerId: bigint; producerEpoch: number };
        initRequests.push({ producerId: req.producerId, producerEpoch: req.producerEpoch });
        // A bump with the current id keeps the id and raises the epoch.
        const bump = req.producerId >= 0n;
        if (bump) epoch++;
        return { throttleTimeMs: 0, errorCode: 0, producerId: 1000n, producerEpoch: epoch };
      }
      if (apiKey !== 0) throw new Error(`unexpected API ${apiKey}`);
      const req = body as {
        topicData: Array<{
          name: string;
          partitionData: Array<{ index: number; records: Buffer }>;
        }>;
      };
      const code = produceErrors.shift() ?? 0;
      return {
        throttleTimeMs: 0,
        responses: req.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map((p) => {
            const b = p.records;
            batches.push({
              producerId: b.readBigInt64BE(PRODUCER_ID_OFFSET),
              epoch: b.readInt16BE(PRODUCER_EPOCH_OFFSET),
              baseSequence: b.readInt32BE(BASE_SEQUENCE_OFFSET),
            });
            const base = code === 0 ? offset : -1;
            if (code === 0) offset += b.readInt32BE(RECORDS_COUNT_OFFSET);
            return {
              index: p.index,
              errorCode: code,
              baseOffset: BigInt(base),
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
              recordErrors: [],
              errorMessage: null,
            };
          }),
        })),
      };
    },
  };
  return { conn, initRequests, batches };
}

function producerOn(broker: ReturnType<typeof scriptedBroker>): Producer {
  const producer = new Producer({
    bootstrapServers: 'scripted:9092',
    idempotent: true,
    lingerMs: 0,
  });
  const cluster = producer.cluster;
  cluster.topics.set('t', {
    name: 't',
    topicId: '00000000-0000-0000-0000-000000000000',
    isInternal: false,
    errorCode: 0,
    partitions: [
      { partition: 0, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], errorCode: 0 },
    ],
  });
  type Conn = Awaited<ReturnType<typeof cluster.any>>;
  const conn = broker.conn as unknown as Conn;
  cluster.any = async () => conn;
  cluster.broker = async () => conn;
  cluster.refreshMetadata = async () => {
    throw new Error('no metadata from a scripted broker');
  };
  cluster.close = async () => {};
  return producer;
}

for (const code of [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode.UNKNOWN_PRODUCER_ID]) {
  test(`after ${new KafkaError(code).name} the producer bumps its epoch and restarts sequences`, async () => {
    const broker = scriptedBroker([0, code]);
    const producer = producerOn(broker);
    try {
      const first = await producer.send('t', [{ value: 'a' }, { value: 'b' }]);
      assert.deepEqual(
        first.map((m) => m.offset),
        [0, 1],
      );
      await assert.rejects(producer.send('t', [{ value: 'c' }]), (err: unknown) => {
        assert.ok(err instanceof KafkaError);
        assert.equal(err.code, code);
        return true;
      });
      // The bump runs in the background after the failure; wait for it (bounded).
      await waitUntil(() => broker.initRequests.length >= 2, 'the second InitProducerId', 5000);
      assert.deepEqual(broker.initRequests, [
        { producerId: -1n, producerEpoch: -1 },
        { producerId: 1000n, producerEpoch: 0 },
      ]);
      const after = await producer.send('t', [{ value: 'd' }]);
      assert.equal(after[0].offset, 2);
      assert.deepEqual(broker.batches, [
        { producerId: 1000n, epoch: 0, baseSequence: 0 },
        { producerId: 1000n, epoch: 0, baseSequence: 2 },
        { producerId: 1000n, epoch: 1, baseSequence: 0 },
      ]);
      assert.equal(producer.producerEpoch, 1);
    } finally {
      await producer.close();
    }
  });
}
