import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import {
  CloseConnection,
  type Connection,
  type FrameHandler,
  type ResponseFrame,
} from '../../src/broker/net/connection.js';
import { FrameDecoder, FrameTooLargeError } from '../../src/broker/net/frame-decoder.js';
import { ResponseBuilder } from '../../src/broker/net/response-builder.js';
import { BrokerServer } from '../../src/broker/net/server.js';
import { waitFor } from './helpers/broker-process.js';
import { RawClient, requestFrame } from './helpers/raw-client.js';

const silent = pino({ level: 'silent' });

/** A response frame carrying the request's correlation id and a body given by reference. */
function echo(frame: Buffer, body: Buffer = Buffer.alloc(0)): Buffer[] {
  const out = new ResponseBuilder(frame.readInt32BE(4), false);
  out.w.int16(frame.readInt16BE(2));
  out.appendRef(body);
  out.w.int8(0x7e);
  return out.finish();
}

async function withServer(
  handler: FrameHandler,
  limits: Partial<{ maxRequestSize: number; maxPendingRequests: number; idleMs: number }>,
  fn: (port: number, server: BrokerServer) => Promise<void>,
): Promise<void> {
  const server = new BrokerServer(
    handler,
    { maxRequestSize: 1 << 20, maxPendingRequests: 1000, idleMs: 60000, ...limits },
    silent,
  );
  await server.listen('127.0.0.1', 0);
  try {
    await fn(server.port, server);
  } finally {
    await server.close(1000);
  }
}

test('FrameDecoder: views for whole frames, one copy for split frames, bound checked on the prefix', () => {
  const d = new FrameDecoder(100);
  const frames: Buffer[] = [];
  const a = Buffer.from([0, 0, 0, 2, 1, 2, 0, 0, 0, 3, 3, 4, 5]);
  d.push(a, (f) => {
    frames.push(f);
  });
  assert.equal(frames.length, 2);
  assert.equal(frames[0].buffer, a.buffer, 'a frame inside one chunk is a view');
  // A frame split in prefix and body across four chunks.
  for (const part of [[0, 0], [0, 4, 9], [8], [7, 6]])
    d.push(Buffer.from(part), (f) => {
      frames.push(f);
    });
  assert.deepEqual([...frames[2]], [9, 8, 7, 6]);
  assert.equal(d.buffered, 0);
  assert.throws(() => d.push(Buffer.from([0, 0, 0, 101]), () => {}), FrameTooLargeError);
});

test('ResponseBuilder: size prefix covers header, body and spliced buffers', () => {
  const big = Buffer.alloc(1000, 0xab);
  const out = new ResponseBuilder(9, true);
  out.w.int32(1);
  out.appendRef(big);
  for (let i = 0; i < 300; i++) out.w.int32(i); // grows the writer after a cut
  const parts = out.finish();
  const whole = Buffer.concat(parts);
  assert.equal(whole.readInt32BE(0), whole.length - 4);
  assert.equal(whole.readInt32BE(4), 9);
  assert.equal(whole[8], 0); // empty tagged fields of header v1
  assert.equal(whole.readInt32BE(9), 1);
  assert.ok(parts.includes(big), 'the spliced buffer is not copied');
  assert.equal(whole.readInt32BE(whole.length - 4), 299);
});

test('responses are written in request order when handlers finish out of order', async () => {
  const handler: FrameHandler = {
    onFrame(frame) {
      const corr = frame.readInt32BE(4);
      // Later requests finish first; every third completes synchronously.
      if (corr % 3 === 0) return echo(frame);
      return new Promise<ResponseFrame>((resolve) =>
        setTimeout(() => resolve(echo(frame)), 60 - (corr % 60)),
      );
    },
  };
  await withServer(handler, {}, async (port) => {
    const c = await RawClient.connect(port);
    const frames: Buffer[] = [];
    for (let i = 0; i < 120; i++) frames.push(requestFrame(1, 0, i));
    c.write(Buffer.concat(frames));
    for (let i = 0; i < 120; i++) {
      const f = await c.nextFrame();
      assert.equal(f.readInt32BE(0), i);
    }
    c.close();
  });
});

test('a request with no response (acks=0) does not hold back the next', async () => {
  const handler: FrameHandler = {
    onFrame: (frame) => (frame.readInt32BE(4) % 2 === 0 ? null : echo(frame)),
  };
  await withServer(handler, {}, async (port) => {
    const c = await RawClient.connect(port);
    c.write(Buffer.concat([0, 1, 2, 3].map((i) => requestFrame(0, 0, i))));
    assert.equal((await c.nextFrame()).readInt32BE(0), 1);
    assert.equal((await c.nextFrame()).readInt32BE(0), 3);
    c.close();
  });
});

test('back-pressure: a connection with too many pending requests stops being read', async () => {
  const release: (() => void)[] = [];
  let seen = 0;
  const handler: FrameHandler = {
    onFrame(frame) {
      seen++;
      return new Promise<ResponseFrame>((resolve) => release.push(() => resolve(echo(frame))));
    },
  };
  await withServer(handler, { maxPendingRequests: 4 }, async (port) => {
    const c = await RawClient.connect(port);
    for (let i = 0; i < 4; i++) c.write(requestFrame(1, 0, i));
    await waitFor(() => seen === 4, '4 requests handled');
    for (let i = 4; i < 20; i++) c.write(requestFrame(1, 0, i));
    // Give the bytes time to arrive; none may be read while 4 are pending.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen, 4);
    // Drain: reading resumes and every request is answered, in order.
    for (let i = 0; i < 20; i++) {
      await waitFor(() => release.length > 0, `request ${i} handled`);
      release.shift()?.();
    }
    for (let i = 0; i < 20; i++) assert.equal((await c.nextFrame()).readInt32BE(0), i);
    assert.equal(seen, 20);
    c.close();
  });
});

test('socket back-pressure: large responses to a client that does not read pause reading', async () => {
  const big = Buffer.alloc(4 << 20, 1);
  let seen = 0;
  const handler: FrameHandler = {
    onFrame(frame) {
      seen++;
      return echo(frame, big);
    },
  };
  await withServer(handler, {}, async (port) => {
    const c = await RawClient.connect(port);
    c.socket.pause(); // the client reads nothing
    for (let i = 0; i < 50; i++) c.write(requestFrame(1, 0, i));
    await waitFor(() => seen >= 1, 'first request');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(seen < 50, `reading stopped while the send buffer is full (handled ${seen})`);
    c.socket.resume();
    for (let i = 0; i < 50; i++) {
      const f = await c.nextFrame(20000);
      assert.equal(f.readInt32BE(0), i);
      assert.equal(f.length, 4 + 2 + big.length + 1);
    }
    c.close();
  });
});

test('handler errors close only that connection; graceful close waits for in-flight requests', async () => {
  let finish: (() => void) | undefined;
  const handler: FrameHandler = {
    onFrame(frame, _conn: Connection) {
      const corr = frame.readInt32BE(4);
      if (corr === 666) throw new CloseConnection('bad request');
      if (corr === 777) return Promise.reject(new Error('async failure'));
      if (corr === 1)
        return new Promise<ResponseFrame>((resolve) => (finish = () => resolve(echo(frame))));
      return echo(frame);
    },
  };
  await withServer(handler, {}, async (port, server) => {
    const a = await RawClient.connect(port);
    const b = await RawClient.connect(port);
    const d = await RawClient.connect(port);
    a.write(requestFrame(1, 0, 666));
    b.write(requestFrame(1, 0, 777));
    await a.waitClosed();
    await b.waitClosed();
    d.write(requestFrame(1, 0, 1));
    await waitFor(() => finish !== undefined, 'slow request started');
    const closing = server.close(5000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(d.closed, false, 'not closed while a request is in flight');
    finish?.();
    assert.equal((await d.nextFrame()).readInt32BE(0), 1);
    await d.waitClosed();
    await closing;
  });
});

test('thousands of concurrent connections', async () => {
  const handler: FrameHandler = { onFrame: (frame) => echo(frame) };
  await withServer(handler, {}, async (port, server) => {
    const n = 2000;
    const clients: RawClient[] = [];
    for (let i = 0; i < n; i += 200) {
      clients.push(
        ...(await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(port)))),
      );
    }
    await waitFor(() => server.connectionCount === n, `${n} connections`, 20000);
    clients.forEach((c, i) => {
      c.write(requestFrame(1, 0, i));
    });
    const results = await Promise.all(clients.map((c) => c.nextFrame(20000)));
    results.forEach((f, i) => {
      assert.equal(f.readInt32BE(0), i);
    });
    for (const c of clients) c.close();
    await waitFor(() => server.connectionCount === 0, 'all closed', 20000);
  });
});
