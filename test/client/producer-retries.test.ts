/**
 * Retries against a broker that goes away and comes back: the producer keeps the records, backs
 * off, refreshes metadata and delivers them once the broker is back, in order, exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Admin, Producer } from '../../src/client/index.js';
import { type BrokerProcess, startBroker } from '../broker/helpers/broker-process.js';
import { consumeAll, numbered, valuesOf } from './helpers/records.js';

test('records sent while the broker restarts are delivered after it is back, once and in order', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'brook-client-retry-'));
  let broker: BrokerProcess | undefined = await startBroker({ dataDir });
  const port = broker.port;
  const bootstrap = `127.0.0.1:${port}`;
  const producer = new Producer({
    bootstrapServers: bootstrap,
    retryBackoffMs: 50,
    retryBackoffMaxMs: 300,
    requestTimeoutMs: 5000,
  });
  try {
    const admin = new Admin({ bootstrapServers: bootstrap });
    await admin.createTopics([{ topic: 'retry', numPartitions: 1 }]);
    await admin.close();
    const first = await producer.send(
      'retry',
      numbered(50, 'r').map((value) => ({ value })),
    );
    assert.equal(first[49].offset, 49);
    await broker.stop();
    broker = undefined;
    // Sent while nothing listens: held and retried.
    const pending = producer.send(
      'retry',
      numbered(50, 'r', 50).map((value) => ({ value })),
    );
    let settled = false;
    void pending.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(settled, false, 'the send waits for the broker');
    broker = await startBroker({ dataDir, args: ['--port', String(port)] });
    const second = await pending;
    assert.deepEqual(
      second.map((r) => r.offset),
      Array.from({ length: 50 }, (_, i) => 50 + i),
    );
    const records = await consumeAll(bootstrap, 'retry', 1, 100);
    assert.deepEqual(valuesOf(records), numbered(100, 'r'));
  } finally {
    await producer.close();
    await broker?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
