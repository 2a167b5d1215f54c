/**
 * Regression tests, in-process and fast, for what the bad-input scenarios found in the broker's
 * network layer: a frame trickled one byte per segment kept one buffer per byte; frames that
 * arrived in one chunk were all dispatched even after the connection had paused; and a client
 * pipelining Fetch requests it never read could make the broker hold one response per request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Connection, FrameHandler, ResponseFrame } from '../../src/broker/net/connection.js';
import { FrameDecoder } from '../../src/broker/net/frame-decoder.js';
import { ResponseBuilder } from '../../src/broker/net/response-builder.js';
import { BrokerServer } from '../../src/broker/net/server.js';
import { waitFor } from '../broker/helpers/broker-process.js';
import { RawClient, requestFrame } from '../broker/helpers/raw-client.js';

const silent = pino({ level: 'silent' });

function frameOf(size: number, fill: number): Buffer {
  const f = Buffer.alloc(4 + size, fill);
  f.writeInt32BE(size, 0);
  return f;
}

test('a frame trickled one byte per chunk is gathered in few buffers, not one per byte', () => {
  const d = new FrameDecoder(1 << 20);
  const size = 100_000;
  const frame = frameOf(size, 0);
  for (let i = 4; i < frame.length; i++) frame[i] = i & 0xff;
  const got: Buffer[] = [];
  for (let i = 0; i < frame.length - 1; i++) {
    // Each byte in its own allocation, as a socket hands out each segment.
    d.push(Buffer.from([frame[i]]), (f) => {
      got.push(f);
    });
    if (i === frame.length / 2) {
      assert.ok(d.pieces < 64, `${d.pieces} buffers held for ${i - 3} bytes`);
      assert.equal(d.buffered, i - 3);
    }
  }
  assert.equal(got.length, 0);
  d.push(frame.subarray(frame.length - 1), (f) => {
    got.push(f);
  });
  assert.equal(got.length, 1);
  assert.ok(got[0].equals(frame.subarray(4)), 'the gathered frame is byte-exact');
  assert.equal(d.pieces, 0);
});

test('mixed small and large pieces reassemble exactly', () => {
  const d = new FrameDecoder(1 << 22);
  const body = Buffer.alloc(300_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  const stream = Buffer.concat([frameOf(0, 0).subarray(0, 4), body]);
  stream.writeInt32BE(body.length, 0);
  const sizes = [1, 3, 5000, 1, 2, 70000, 100, 4095, 4096, 9];
  const got: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < stream.length; k++) {
    const n = Math.min(sizes[k % sizes.length], stream.length - at);
    d.push(Buffer.from(stream.subarray(at, at + n)), (f) => {
      got.push(Buffer.from(f));
    });
    at += n;
  }
  assert.equal(got.length, 1);
  assert.ok(got[0].equals(body));
});

test('a decoder asked to stop holds the rest of the chunk and resumes in order', () => {
  const d = new FrameDecoder(1 << 20);
  const chunk = Buffer.concat([1, 2, 3, 4, 5].map((n) => frameOf(3, n)));
  const seen: number[] = [];
  d.push(chunk, (f) => {
    seen.push(f[0]);
    return seen.length !== 2;
  });
  assert.deepEqual(seen, [1, 2]);
  assert.equal(d.holding, true);
  // Bytes arriving meanwhile queue behind the held ones.
  d.push(frameOf(3, 6).subarray(0, 5), (f) => {
    seen.push(f[0]);
  });
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  d.push(frameOf(3, 6).subarray(5), (f) => {
    seen.push(f[0]);
  });
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.equal(d.holding, false);
  d.resume(() => assert.fail('nothing is held'));
});

/** Answers each frame after `delayMs` with `responseBytes` bytes, reserving them first. */
function slowBigHandler(
  responseBytes: number,
  reserve: boolean,
  delayMs: number,
): FrameHandler & { handled: number } {
  const h = {
    handled: 0,
    onFrame(frame: Buffer, conn: Connection): Promise<ResponseFrame> {
      h.handled++;
      if (reserve) conn.reserveResponseBytes(responseBytes);
      return new Promise((resolve) =>
        setTimeout(() => {
          const out = new ResponseBuilder(frame.readInt32BE(4), false);
          out.appendRef(Buffer.alloc(responseBytes));
          resolve(out.finish());
        }, delayMs),
      );
    },
  };
  return h;
}

async function withServer(
  handler: FrameHandler,
  limits: { maxPendingRequests: number; maxPendingResponseBytes?: number },
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const server = new BrokerServer(
    handler,
    { maxRequestSize: 1 << 20, idleMs: 60000, ...limits },
    silent,
  );
  await server.listen('127.0.0.1', 0);
  try {
    await fn(server.port);
  } finally {
    await server.close(1000);
  }
}

test('frames of one chunk past the pending-request bound wait in the decoder, then all are answered in order', async () => {
  const handler = slowBigHandler(16, false, 20);
  await withServer(handler, { maxPendingRequests: 8 }, async (port) => {
    const c = await RawClient.connect(port);
    c.socket.pause();
    // 200 requests in one write: one or a few chunks on the broker's side.
    c.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => requestFrame(1000, 0, i))));
    await new Promise((r) => setTimeout(r, 10));
    assert.ok(handler.handled <= 8, `${handler.handled} requests taken at once, bound 8`);
    c.socket.resume();
    for (let i = 0; i < 200; i++) {
      const f = await c.nextFrame(10_000);
      assert.equal(f.readInt32BE(0), i, 'answers in request order');
    }
    assert.equal(handler.handled, 200);
    c.close();
  });
});

test('a client pipelining large-response requests it never reads is held to the response-byte bound', async () => {
  const size = 256 * 1024;
  const count = 100;
  const handler = slowBigHandler(size, true, 5);
  await withServer(
    handler,
    { maxPendingRequests: 500, maxPendingResponseBytes: 8 * size },
    async (port) => {
      const c = await RawClient.connect(port);
      // Never read: the responses back up in the broker's socket buffer.
      c.socket.pause();
      c.write(Buffer.concat(Array.from({ length: count }, (_, i) => requestFrame(1000, 0, i))));
      await waitFor(() => handler.handled >= 8, 'the first requests', 5000);
      await new Promise((r) => setTimeout(r, 500));
      // 8 in flight reach the bound; their answers fill the socket, which stays unread, so at
      // most a few more get in (one per drain of the kernel buffer), never all of them.
      assert.ok(handler.handled < 24, `${handler.handled} requests of large responses taken`);
      c.socket.resume();
      for (let i = 0; i < count; i++) {
        assert.equal((await c.nextFrame(20_000)).readInt32BE(0), i);
      }
      c.close();
    },
  );
});
