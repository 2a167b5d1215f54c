import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { RequestDispatcher } from '../../src/broker/dispatcher.js';
import { HandlerRegistry } from '../../src/broker/handlers/registry.js';
import {
  type ApiHandler,
  type BrokerContext,
  defineHandler,
} from '../../src/broker/handlers/types.js';
import { BrokerMetrics } from '../../src/broker/metrics.js';
import { BrokerServer } from '../../src/broker/net/server.js';
import type { Reader } from '../../src/protocol/primitives/index.js';
import { RawClient, requestFrame } from './helpers/raw-client.js';

const silent = pino({ level: 'silent' });

/** A toy API (key 1000): the body is an int16 "mode"; the response is an int16 error code. */
function toy(withErrorResponse: boolean): ApiHandler {
  return defineHandler<number, number>({
    apiKey: 1000,
    name: 'Toy',
    minVersion: 0,
    maxVersion: 2,
    firstFlexibleVersion: 2,
    decodeRequest: (r: Reader) => r.int16(),
    handle(mode) {
      if (mode === 1) throw new Error('sync failure');
      if (mode === 2) return Promise.reject(new Error('async failure'));
      return 0;
    },
    encodeResponse(code, _v, out) {
      out.w.int16(code);
    },
    errorResponse: withErrorResponse ? (_req, _v, code) => code : undefined,
  });
}

async function withDispatcher(
  handler: ApiHandler,
  fn: (port: number, metrics: BrokerMetrics) => Promise<void>,
) {
  const registry = new HandlerRegistry([handler]);
  const metrics = new BrokerMetrics();
  const context = { handlers: registry, log: silent } as unknown as BrokerContext;
  const server = new BrokerServer(
    new RequestDispatcher(registry, context, metrics),
    { maxRequestSize: 1 << 20, maxPendingRequests: 100, idleMs: 60000 },
    silent,
    metrics,
  );
  await server.listen('127.0.0.1', 0);
  try {
    await fn(server.port, metrics);
  } finally {
    await server.close(1000);
  }
}

const mode = (m: number) => Buffer.from([0, m]);

test('a handler that throws answers UNKNOWN_SERVER_ERROR and the connection lives on', async () => {
  await withDispatcher(toy(true), async (port, metrics) => {
    const c = await RawClient.connect(port);
    for (const m of [1, 2, 0]) c.write(requestFrame(1000, 1, m, mode(m)));
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const f = await c.nextFrame();
      codes.push([f.readInt32BE(0), f.readInt16BE(4)]);
    }
    assert.deepEqual(codes, [
      [1, -1],
      [2, -1],
      [0, 0],
    ]);
    // Flexible version: response header v1 carries an empty tagged-field section.
    c.write(requestFrame(1000, 2, 9, mode(1), { flexible: true }));
    const f = await c.nextFrame();
    assert.deepEqual([f.readInt32BE(0), f[4], f.readInt16BE(5)], [9, 0, -1]);
    assert.equal(c.closed, false);
    c.close();
    const text = await metrics.registry.metrics();
    assert.match(text, /brook_requests_total\{api="Toy",error_code="-1"\} 3/);
  });
});

test('a handler without an error response closes the connection when it throws', async () => {
  await withDispatcher(toy(false), async (port) => {
    const c = await RawClient.connect(port);
    c.write(requestFrame(1000, 0, 1, mode(2)));
    await c.waitClosed();
  });
});

test('versions outside the served range and undecodable bodies close the connection', async () => {
  await withDispatcher(toy(true), async (port, metrics) => {
    for (const bytes of [
      requestFrame(1000, 3, 1, mode(0)),
      requestFrame(1000, 0, 1, Buffer.from([1])),
    ]) {
      const c = await RawClient.connect(port);
      c.write(bytes);
      await c.waitClosed();
    }
    const text = await metrics.registry.metrics();
    assert.match(text, /reason="unsupported_version"\} 1/);
    assert.match(text, /reason="decode"\} 1/);
  });
});
