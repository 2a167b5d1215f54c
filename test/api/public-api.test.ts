import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as brook from '../../src/index.js';

test('the package entry exports the client, the stream processor, errors and record batches', () => {
  for (const name of ['Producer', 'Consumer', 'Admin', 'defineJob', 'KafkaError', 'ErrorCode']) {
    assert.ok(name in brook, `brook exports ${name}`);
  }
  assert.equal(typeof brook.records.encodeRecordBatch, 'function');
  assert.equal(brook.ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 3);
  assert.match(brook.BROOK_VERSION, /^\d+\.\d+\.\d+/);
});
