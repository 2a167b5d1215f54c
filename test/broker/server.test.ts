import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiVersionsV3Body, decodeApiVersions } from './helpers/api-versions.js';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';
import { KafkaTestClient } from './helpers/kafka-client.js';
import { RawClient, requestFrame } from './helpers/raw-client.js';

// One broker for the protocol tests: they each open their own connections.
describe('broker process: framing and ApiVersions', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ args: ['--set', 'socket.request.max.bytes=65536'] });
  });
  after(async () => {
    await broker.cleanup();
  });

  test('ready line names the address; meta.properties and the lock file exist', () => {
    const ready = broker.lines.find((l) => l.event === 'ready');
    assert.ok(ready);
    assert.equal(typeof ready.port, 'number');
    assert.match(String(ready.advertised), /^127\.0\.0\.1:\d+$/);
    assert.match(
      readFileSync(join(broker.dataDir, 'meta.properties'), 'utf8'),
      /cluster\.id=\S{22}\n/,
    );
    assert.equal(
      readFileSync(join(broker.dataDir, '.lock'), 'utf8').trim(),
      String(broker.proc.pid),
    );
  });

  test('ApiVersions v0..v4 list ApiVersions itself', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      for (let v = 0; v <= 4; v++) {
        const body = v >= 3 ? apiVersionsV3Body() : undefined;
        c.write(requestFrame(18, v, 100 + v, body, { flexible: v >= 3 }));
        const res = decodeApiVersions(await c.nextFrame(), v);
        assert.equal(res.correlationId, 100 + v);
        assert.equal(res.errorCode, 0);
        assert.deepEqual(
          res.apiKeys.find((k) => k.apiKey === 18),
          { apiKey: 18, minVersion: 0, maxVersion: 4 },
        );
      }
    } finally {
      c.close();
    }
  });

  test('ApiVersions with an invalid client software name answers INVALID_REQUEST', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      c.write(requestFrame(18, 3, 7, apiVersionsV3Body('bad name!', '1'), { flexible: true }));
      const res = decodeApiVersions(await c.nextFrame(), 3);
      assert.equal(res.errorCode, 42);
    } finally {
      c.close();
    }
  });

  test('an ApiVersions version we do not serve gets the v0 form with UNSUPPORTED_VERSION (KIP-511)', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      for (const v of [5, 99]) {
        // A newer client sends a flexible header and a body we cannot know.
        c.write(
          requestFrame(18, v, v, Buffer.from([0x07, 0x61, 0x62, 0x63, 0x00]), { flexible: true }),
        );
        const res = decodeApiVersions(await c.nextFrame(), 0);
        assert.equal(res.correlationId, v);
        assert.equal(res.errorCode, 35);
        assert.deepEqual(
          res.apiKeys.find((k) => k.apiKey === 18),
          { apiKey: 18, minVersion: 0, maxVersion: 4 },
        );
      }
      // The connection stays usable: the client retries with a version we serve.
      c.write(requestFrame(18, 2, 3));
      assert.equal(decodeApiVersions(await c.nextFrame(), 2).errorCode, 0);
    } finally {
      c.close();
    }
  });

  test('pipelined requests are answered in order', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const versions: number[] = [];
      const frames: Buffer[] = [];
      for (let i = 0; i < 200; i++) {
        const v = i % 5;
        versions.push(v);
        frames.push(
          requestFrame(18, v, i, v >= 3 ? apiVersionsV3Body() : undefined, { flexible: v >= 3 }),
        );
      }
      // One write: many requests per TCP segment, and frames split across segments.
      c.write(Buffer.concat(frames));
      for (let i = 0; i < 200; i++) {
        const res = decodeApiVersions(await c.nextFrame(), versions[i]);
        assert.equal(res.correlationId, i);
      }
    } finally {
      c.close();
    }
  });

  test('a frame delivered one byte at a time is reassembled', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const frame = requestFrame(18, 3, 42, apiVersionsV3Body(), { flexible: true });
      for (const b of frame) {
        c.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(decodeApiVersions(await c.nextFrame(), 3).correlationId, 42);
    } finally {
      c.close();
    }
  });

  test('an oversized size prefix closes that connection only', async () => {
    const bad = await RawClient.connect(broker.port);
    const good = await RawClient.connect(broker.port);
    try {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(65537);
      bad.write(prefix);
      await bad.waitClosed();
      good.write(requestFrame(18, 1, 5));
      assert.equal(decodeApiVersions(await good.nextFrame(), 1).correlationId, 5);
      // A 2 GiB prefix is refused the same way, without an allocation.
      const huge = await RawClient.connect(broker.port);
      huge.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
      await huge.waitClosed();
    } finally {
      bad.close();
      good.close();
    }
  });

  test('garbage, truncated bodies and unknown API keys close only that connection', async () => {
    const good = await RawClient.connect(broker.port);
    try {
      const cases: [string, Buffer][] = [
        ['negative size', Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2, 3])],
        ['frame shorter than a header', Buffer.from([0, 0, 0, 3, 0, 18, 0])],
        ['unknown API key', requestFrame(9999, 0, 1)],
        // A valid request right behind a bad one in the same segment is not served.
        [
          'bad frame then a good one',
          Buffer.concat([requestFrame(9999, 0, 1), requestFrame(18, 0, 2)]),
        ],
        // v3 needs two compact strings: a bare tag section is too short.
        [
          'truncated ApiVersions v3 body',
          requestFrame(18, 3, 1, Buffer.from([0x05]), { flexible: true }),
        ],
        [
          'client id longer than the frame',
          Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0x7f, 0xff]),
        ],
      ];
      for (const [what, bytes] of cases) {
        const bad = await RawClient.connect(broker.port);
        bad.write(bytes);
        await bad.waitClosed().catch((e: Error) => assert.fail(`${what}: ${e.message}`));
        assert.equal(bad.queued, 0, what);
      }
      good.write(requestFrame(18, 0, 77));
      assert.equal(decodeApiVersions(await good.nextFrame(), 0).correlationId, 77);
      assert.ok(
        broker.lines.some(
          (l) => l.msg === 'closing connection' && /unknown API key 9999/.test(String(l.err)),
        ),
        'a log line says why the connection was closed',
      );
    } finally {
      good.close();
    }
  });
});

describe('broker process: lifecycle', () => {
  test('SIGTERM stops the broker with exit code 0 and removes the lock file', async () => {
    const broker = await startBroker();
    try {
      const c = await RawClient.connect(broker.port);
      c.write(requestFrame(18, 1, 1));
      await c.nextFrame();
      const code = await broker.stop('SIGTERM');
      assert.equal(code, 0);
      await c.waitClosed();
      assert.equal(existsSync(join(broker.dataDir, '.lock')), false);
      assert.ok(broker.lines.some((l) => l.event === 'stopped'));
    } finally {
      await broker.cleanup();
    }
  });

  test('SIGTERM answers a long poll in flight before exiting', async () => {
    const broker = await startBroker();
    try {
      const c = await KafkaTestClient.connect(broker.port);
      await c.request(3, 4, { topics: [{ name: 'lp' }], allowAutoTopicCreation: true });
      const started = Date.now();
      const waiting = c.request(
        1,
        11,
        {
          replicaId: -1,
          maxWaitMs: 30000,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: 'lp',
              partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        },
        20000,
      );
      await new Promise((r) => setTimeout(r, 200));
      const exit = broker.stop('SIGTERM');
      const res = await waiting;
      assert.equal(res.responses[0].partitions[0].errorCode, 0);
      assert.ok(Date.now() - started < 15000, 'answered at shutdown, not at max_wait');
      assert.equal(await exit, 0);
      await c.raw.waitClosed();
    } finally {
      await broker.cleanup();
    }
  });

  test('idle connections are closed after connections.max.idle.ms', async () => {
    const broker = await startBroker({ env: { BROOK_CONNECTIONS_MAX_IDLE_MS: '300' } });
    try {
      const c = await RawClient.connect(broker.port);
      c.write(requestFrame(18, 0, 1));
      await c.nextFrame();
      await c.waitClosed(5000);
      assert.ok(broker.lines.some((l) => /idle/.test(String(l.msg))));
    } finally {
      await broker.cleanup();
    }
  });

  test('/metrics serves Prometheus text with request and connection counts', async () => {
    const metricsPort = await freePort();
    const broker = await startBroker({ args: ['--metrics-port', String(metricsPort)] });
    try {
      assert.equal(broker.metricsPort, metricsPort);
      const c = await RawClient.connect(broker.port);
      c.write(requestFrame(18, 2, 1));
      await c.nextFrame();
      const bad = await RawClient.connect(broker.port);
      bad.write(requestFrame(4242, 0, 1));
      await bad.waitClosed();
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /brook_requests_total\{api="ApiVersions",error_code="0"\} 1/);
      assert.match(text, /brook_connections 1/);
      assert.match(
        text,
        /brook_connections_closed_for_protocol_error_total\{reason="unknown_api"\} 1/,
      );
      assert.match(text, /brook_request_duration_seconds_bucket\{le="0.1",api="ApiVersions"\} 1/);
      assert.match(text, /brook_network_received_bytes_total \d+/);
      c.close();
      assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status, 404);
    } finally {
      await broker.cleanup();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
