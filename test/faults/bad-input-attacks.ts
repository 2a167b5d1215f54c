/**
 * The attackers of the bad-input scenarios, each a function that runs against a broker port and
 * returns its counts: the mutation fuzzer, lying frame sizes, slowloris, connection storms and
 * clients that never read their responses.
 */
import { connect, type Socket } from 'node:net';
import { type ApiMessages, readResponse } from '../../src/protocol/messages.js';
import { RawClient } from '../broker/helpers/raw-client.js';
import type { SeedRequest } from './bad-input-corpus.js';
import { type MutationKind, mutate } from './bad-input-helpers.js';
import type { SeededRandom } from './helpers/random.js';

/** How the broker answered the fuzzer's inputs. */
export interface FuzzCounts {
  inputs: number;
  /** Answered, and the response decodes with no error code in it. */
  okResponses: number;
  /** Answered with an error code somewhere in the response (or a response that does not decode). */
  errorResponses: number;
  /** The broker closed the connection (malformed frame, unknown API, bad version). */
  closed: number;
  /** Neither within the wait (acks=0, a size prefix longer than the body, a long poll). */
  silent: number;
  byKind: Partial<Record<MutationKind, number>>;
  byApi: Record<string, number>;
}

/** Whether any `errorCode` field anywhere in a decoded response is non-zero. */
function hasError(value: unknown, depth = 0): boolean {
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasError(v, depth + 1));
  for (const [k, v] of Object.entries(value)) {
    if (k === 'errorCode' && typeof v === 'number' && v !== 0) return true;
    if (typeof v === 'object' && !(v instanceof Buffer) && hasError(v, depth + 1)) return true;
  }
  return false;
}

function connectRaw(port: number): Promise<RawClient> {
  return RawClient.connect(port);
}

/**
 * Sends seeded mutants of the corpus from `workers` connections at once, one input in flight per
 * connection, until `inputs` were sent or `deadline` passed. Each input waits up to `waitMs` for
 * its answer: a response with its correlation id, or the connection closing.
 */
export async function runFuzzer(opts: {
  port: number;
  corpus: readonly SeedRequest[];
  rng: SeededRandom;
  inputs: number;
  deadline: number;
  workers: number;
  waitMs: number;
  broker: { alive: () => boolean };
}): Promise<FuzzCounts> {
  const counts: FuzzCounts = {
    inputs: 0,
    okResponses: 0,
    errorResponses: 0,
    closed: 0,
    silent: 0,
    byKind: {},
    byApi: {},
  };
  let correlationId = 1_000_000;
  const worker = async (): Promise<void> => {
    let c: RawClient | undefined;
    try {
      while (counts.inputs < opts.inputs && Date.now() < opts.deadline && opts.broker.alive()) {
        const seed = opts.rng.pick(opts.corpus);
        const mutant = mutate(opts.rng, seed, opts.rng.pick(opts.corpus));
        const id = correlationId++;
        // A unique correlation id (where the frame still has one) tells this input's answer apart
        // from late answers to earlier ones on the same connection.
        if (mutant.framed && mutant.bytes.length >= 12) mutant.bytes.writeInt32BE(id, 8);
        counts.inputs++;
        counts.byKind[mutant.kind] = (counts.byKind[mutant.kind] ?? 0) + 1;
        counts.byApi[seed.name] = (counts.byApi[seed.name] ?? 0) + 1;
        if (!c || c.closed) c = await connectRaw(opts.port);
        c.write(mutant.bytes);
        const outcome = await awaitAnswer(c, id, opts.waitMs);
        if (outcome === 'closed') counts.closed++;
        else if (outcome === 'silent') counts.silent++;
        else if (outcome === null) counts.errorResponses++;
        else {
          let error = true;
          try {
            const res = readResponse(outcome, seed.apiKey as keyof ApiMessages, seed.version);
            error = hasError(res.body);
          } catch {
            // The mutation changed the API version or key: the answer is to another request.
          }
          if (error) counts.errorResponses++;
          else counts.okResponses++;
        }
        // An unanswered input may still be pending (a lying size prefix, a long poll): start
        // the next one on a fresh connection.
        if (outcome === 'silent' || !mutant.framed) {
          c.close();
          c = undefined;
        }
      }
    } finally {
      c?.close();
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, () => worker()));
  return counts;
}

/** Waits for the response to `id`: its frame, 'closed', 'silent', or null (another id). */
async function awaitAnswer(
  c: RawClient,
  id: number,
  waitMs: number,
): Promise<Buffer | 'closed' | 'silent' | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return 'silent';
    try {
      const frame = await c.nextFrame(left);
      if (frame.length >= 4 && frame.readInt32BE(0) === id) return frame;
      // A response to an input whose correlation id the mutation moved; keep waiting for ours.
    } catch {
      return c.closed ? 'closed' : 'silent';
    }
  }
}

/** Opens a socket to the broker. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves true when the broker closes `s` within `ms`, false otherwise. */
export function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readableEnded) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(t);
      resolve(true);
    };
    s.once('close', done);
    s.once('end', done);
    s.on('error', () => {});
    s.resume();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Slowloris: `connections` sockets each send a frame that announces `declared` bytes and then
 * trickles `bytesEach` bytes, one byte (one TCP segment) per `intervalMs`. Returns the sockets'
 * count and how many the broker closed meanwhile.
 */
export async function slowloris(opts: {
  port: number;
  connections: number;
  declared: number;
  bytesEach: number;
  intervalMs: number;
}): Promise<{ connections: number; closedByBroker: number; bytesSent: number }> {
  const sockets: Socket[] = [];
  let closedByBroker = 0;
  let bytesSent = 0;
  for (let i = 0; i < opts.connections; i++) {
    const s = await openSocket(opts.port);
    s.setNoDelay(true);
    s.on('error', () => {});
    s.once('close', () => {
      closedByBroker++;
    });
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(opts.declared, 0);
    s.write(prefix);
    sockets.push(s);
  }
  const one = Buffer.from([0x42]);
  for (let b = 0; b < opts.bytesEach; b++) {
    for (const s of sockets) {
      if (!s.destroyed) {
        s.write(one);
        bytesSent++;
      }
    }
    // intervalMs 0: as fast as the event loop turns, each byte still its own segment.
    if (opts.intervalMs > 0) await sleep(opts.intervalMs);
    else await new Promise((r) => setImmediate(r));
  }
  const closed = closedByBroker;
  for (const s of sockets) {
    s.removeAllListeners('close');
    s.destroy();
  }
  return { connections: sockets.length, closedByBroker: closed, bytesSent };
}

/**
 * Connection storm: `concurrency` loops connect and disconnect as fast as they can for
 * `durationMs`; every third connection sends a request and leaves without reading, every third
 * resets (destroy right after connect), the rest close politely.
 */
export async function connectionStorm(opts: {
  port: number;
  durationMs: number;
  concurrency: number;
  request: Buffer;
}): Promise<{ connects: number; failedConnects: number; perSecond: number }> {
  let connects = 0;
  let failedConnects = 0;
  const began = Date.now();
  const end = began + opts.durationMs;
  const loop = async (): Promise<void> => {
    while (Date.now() < end) {
      let s: Socket;
      try {
        s = await openSocket(opts.port);
      } catch {
        failedConnects++;
        await sleep(5);
        continue;
      }
      connects++;
      s.on('error', () => {});
      const mode = connects % 3;
      if (mode === 0) {
        s.write(opts.request);
        s.end();
      } else if (mode === 1) {
        s.resetAndDestroy();
      } else {
        s.end();
      }
      s.destroySoon();
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, () => loop()));
  const seconds = (Date.now() - began) / 1000;
  return { connects, failedConnects, perSecond: Math.round(connects / seconds) };
}

/**
 * Clients that never read: `connections` sockets each write `requests` pipelined copies of
 * `request` (in chunks, as fast as the socket takes them) and never read a byte. Resolves after
 * `holdMs`, with what was written, then destroys the sockets.
 */
export async function neverReaders(opts: {
  port: number;
  connections: number;
  requests: number;
  request: Buffer;
  holdMs: number;
  sample: () => void;
}): Promise<{ requestsWritten: number; connections: number }> {
  const sockets: Socket[] = [];
  let requestsWritten = 0;
  for (let i = 0; i < opts.connections; i++) {
    const s = await openSocket(opts.port);
    s.on('error', () => {});
    // Never read: paused, so the kernel receive buffer fills and the broker's writes back up.
    s.pause();
    sockets.push(s);
  }
  const perChunk = Math.max(1, Math.floor(65536 / opts.request.length));
  const chunk = Buffer.concat(Array.from({ length: perChunk }, () => opts.request));
  await Promise.all(
    sockets.map(async (s) => {
      let sent = 0;
      while (sent < opts.requests && !s.destroyed) {
        const n = Math.min(perChunk, opts.requests - sent);
        const ok = s.write(n === perChunk ? chunk : chunk.subarray(0, n * opts.request.length));
        sent += n;
        requestsWritten += n;
        if (!ok) {
          // The broker stopped reading (back-pressure): wait a little, give up if it stays so.
          const drained = await Promise.race([
            new Promise<boolean>((r) => s.once('drain', () => r(true))),
            sleep(500).then(() => false),
          ]);
          if (!drained) break;
        }
      }
    }),
  );
  const until = Date.now() + opts.holdMs;
  while (Date.now() < until) {
    opts.sample();
    await sleep(100);
  }
  for (const s of sockets) s.destroy();
  return { requestsWritten, connections: sockets.length };
}
