/**
 * What the long bad-input run found in the handlers (a regression test of its fix): a Produce of a compressed batch whose payload does not decompress, with a valid CRC (a buggy or
 * hostile producer computes the CRC over what it sends), is acknowledged and stored; every reader
 * then failed on it, and ListOffsets by timestamp answered UNKNOWN_SERVER_ERROR (the handler threw
 * a DecodeError while decompressing). Kafka decompresses compressed batches on produce and
 * answers CORRUPT_MESSAGE, and so does Brook now.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CompressionType, updateBatchCrc } from '../../src/protocol/record-batch/index.js';
import { type BrokerProcess, startBroker } from '../broker/helpers/broker-process.js';
import { KafkaTestClient } from '../broker/helpers/kafka-client.js';
import { seedBatch } from './bad-input-corpus.js';

let broker: BrokerProcess;
let c: KafkaTestClient;

before(async () => {
  broker = await startBroker({ timeoutMs: 60_000 });
  c = await KafkaTestClient.connect(broker.port);
  await c.request(3, 4, { topics: [{ name: 'gz' }], allowAutoTopicCreation: true });
});

after(async () => {
  c?.close();
  await broker?.cleanup();
});

/** A gzip batch whose gzip trailer is damaged, with the batch CRC recomputed over it. */
function undecompressableBatch(): Buffer {
  const batch = Buffer.from(seedBatch(3, CompressionType.Gzip, 'gz'));
  // The last 8 bytes are gzip's CRC-32 and length of the inflated data.
  batch[batch.length - 6] ^= 0xff;
  updateBatchCrc(batch, 0);
  return batch;
}

test('a compressed batch that does not decompress is refused with CORRUPT_MESSAGE', async () => {
  const res = await c.request(0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: 'gz', partitionData: [{ index: 0, records: undecompressableBatch() }] }],
  });
  assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);
});

test('ListOffsets by timestamp answers without a server error whatever is stored', async () => {
  const res = await c.request(2, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: 'gz', partitions: [{ partitionIndex: 0, timestamp: 0n }] }],
  });
  assert.notEqual(res.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
});
