/**
 * Pieces of the bad-input scenarios: the seeded mutations of request frames, a sampler of the
 * broker's resident memory (from /proc), and the well-behaved "canary" client that must keep
 * producing and consuming correctly while the broker is under attack.
 */
import { readFileSync } from 'node:fs';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  ATTRIBUTES_OFFSET,
  decodeRecordBatch,
  encodeRecordBatch,
  updateBatchCrc,
} from '../../src/protocol/record-batch/index.js';
import { KafkaTestClient } from '../broker/helpers/kafka-client.js';
import type { SeededRandom } from './helpers/random.js';
import type { SeedRequest } from './bad-input-corpus.js';

/** Values a length or count field is set to: huge, negative, off by one, zero. */
const HOSTILE_INT32 = [0x7fffffff, -1, -2, 0x80000000 | 0, 0x10000000, 0x00ffffff, 0, 65536];
const HOSTILE_INT16 = [0x7fff, -1, -2, -0x8000, 0];
/** Unsigned varints that decode to huge values or never end within 5 bytes. */
const HOSTILE_VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
  [0xfe, 0xff, 0xff, 0xff, 0x07],
  [0x00],
];

/** The kinds of mutation, as counted in the figures. */
export type MutationKind =
  | 'bitflip'
  | 'insert'
  | 'delete'
  | 'length'
  | 'truncate'
  | 'splice'
  | 'batch'
  | 'prefix';

/** A mutated frame: the bytes to send (with a size prefix) and what was done. */
export interface Mutant {
  kind: MutationKind;
  bytes: Buffer;
  /** Whether the size prefix still matches the body (false: `prefix` mutations). */
  framed: boolean;
}

function withPrefix(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length + 4);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * Offsets in `body` (after the 8 bytes of API key, version and correlation id) whose int16 or
 * int32 value could be a length or count: positive and no larger than the bytes that follow.
 * Overwriting those hits the string, bytes and array lengths the decoders trust.
 */
function lengthLike(body: Buffer): { at: number; width: 2 | 4 }[] {
  const out: { at: number; width: 2 | 4 }[] = [];
  for (let i = 8; i + 2 <= body.length; i++) {
    const rest = body.length - i;
    const v16 = body.readInt16BE(i);
    if (v16 > 0 && v16 <= rest) out.push({ at: i, width: 2 });
    if (i + 4 <= body.length) {
      const v32 = body.readInt32BE(i);
      if (v32 > 0 && v32 <= rest) out.push({ at: i, width: 4 });
    }
  }
  return out;
}

/**
 * One seeded mutation of `seed` (splicing takes its tail from `other`). The size prefix is
 * rewritten to match the mutated body, except for `prefix` mutations, which lie about it.
 */
export function mutate(rng: SeededRandom, seed: SeedRequest, other: SeedRequest): Mutant {
  const body = Buffer.from(seed.frame.subarray(4));
  const kinds: MutationKind[] = [
    'bitflip',
    'bitflip',
    'insert',
    'delete',
    'length',
    'length',
    'truncate',
    'splice',
    'prefix',
  ];
  if (seed.batch) kinds.push('batch', 'batch', 'batch');
  const kind = rng.pick(kinds);
  switch (kind) {
    case 'bitflip': {
      const flips = rng.int(1, 8);
      for (let i = 0; i < flips; i++) {
        // The API key and version stay mostly intact, so that bodies reach the decoders.
        const at =
          rng.next() < 0.9
            ? rng.int(Math.min(8, body.length - 1), body.length - 1)
            : rng.int(0, body.length - 1);
        body[at] ^= 1 << rng.int(0, 7);
      }
      return { kind, bytes: withPrefix(body), framed: true };
    }
    case 'insert': {
      const at = rng.int(8, body.length);
      const n = rng.int(1, 16);
      const extra = Buffer.from(Array.from({ length: n }, () => rng.int(0, 255)));
      return {
        kind,
        bytes: withPrefix(Buffer.concat([body.subarray(0, at), extra, body.subarray(at)])),
        framed: true,
      };
    }
    case 'delete': {
      const at = rng.int(8, Math.max(8, body.length - 1));
      const n = rng.int(1, 16);
      return {
        kind,
        bytes: withPrefix(Buffer.concat([body.subarray(0, at), body.subarray(at + n)])),
        framed: true,
      };
    }
    case 'length': {
      const spots = lengthLike(body);
      if (spots.length === 0 || rng.next() < 0.25) {
        // A varint length (compact strings, arrays and tagged fields of flexible versions).
        const at = rng.int(8, body.length - 1);
        const v = Buffer.from(rng.pick(HOSTILE_VARINTS));
        return {
          kind,
          bytes: withPrefix(Buffer.concat([body.subarray(0, at), v, body.subarray(at + 1)])),
          framed: true,
        };
      }
      const spot = rng.pick(spots);
      if (spot.width === 2) body.writeInt16BE(rng.pick(HOSTILE_INT16), spot.at);
      else body.writeInt32BE(rng.pick(HOSTILE_INT32), spot.at);
      return { kind, bytes: withPrefix(body), framed: true };
    }
    case 'truncate':
      return {
        kind,
        bytes: withPrefix(body.subarray(0, rng.int(0, body.length - 1))),
        framed: true,
      };
    case 'splice': {
      const tail = other.frame.subarray(4);
      const a = rng.int(0, body.length);
      const b = rng.int(0, tail.length);
      return {
        kind,
        bytes: withPrefix(Buffer.concat([body.subarray(0, a), tail.subarray(b)])),
        framed: true,
      };
    }
    case 'batch': {
      // Mutate inside the record batch and fix its CRC, so that the broker's record validation
      // (counts, varint lengths, compressed payloads) is reached rather than the CRC check.
      const batch = seed.batch as Buffer;
      const at = body.indexOf(batch);
      if (at < 0) return { kind, bytes: withPrefix(body), framed: true };
      const region = body.subarray(at, at + batch.length);
      const edits = rng.int(1, 4);
      for (let i = 0; i < edits; i++) {
        const pos = rng.int(ATTRIBUTES_OFFSET, region.length - 1);
        if (rng.next() < 0.5) region[pos] ^= 1 << rng.int(0, 7);
        else if (pos + 4 <= region.length) region.writeInt32BE(rng.pick(HOSTILE_INT32), pos);
      }
      updateBatchCrc(region, 0);
      return { kind, bytes: withPrefix(body), framed: true };
    }
    case 'prefix': {
      // The size prefix lies: shorter (the rest is read as the next frame) or longer (the
      // broker waits for bytes that never come, until the connection is dropped).
      const out = withPrefix(body);
      const delta = rng.int(1, Math.min(64, body.length));
      out.writeInt32BE(rng.next() < 0.5 ? body.length - delta : body.length + delta, 0);
      return { kind, bytes: out, framed: false };
    }
  }
}

/** One reading of the broker's memory. */
export interface RssSample {
  /** Milliseconds since the sampler started. */
  t: number;
  /** Resident set size, KiB. */
  rssKb: number;
}

/** Reads VmRSS of `pid` from /proc (KiB), or null if the process is gone. */
export function readRssKb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Samples a process's resident memory every `intervalMs` until stopped. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  readonly #started = Date.now();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 250,
  ) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  /** Takes one sample now and returns it (null when the process is gone). */
  sample(): number | null {
    const rssKb = readRssKb(this.pid);
    if (rssKb !== null) this.samples.push({ t: Date.now() - this.#started, rssKb });
    return rssKb;
  }

  /** The largest sample so far, MiB. */
  get peakMb(): number {
    let peak = 0;
    for (const s of this.samples) peak = Math.max(peak, s.rssKb);
    return Math.round(peak / 102.4) / 10;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** MiB, one decimal, from KiB. */
export function mb(kb: number): number {
  return Math.round(kb / 102.4) / 10;
}

/**
 * The well-behaved client: on its own connection, produces numbered records (acks=all) to
 * `topic` partition 0 and fetches each batch back, checking offsets and values, in a loop until
 * stopped. Any wrong answer, or a round slower than `roundTimeoutMs`, is a failure.
 */
export class Canary {
  rounds = 0;
  records = 0;
  failures: string[] = [];
  /** Slowest round, ms. */
  slowestMs = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #next = 0n;

  constructor(
    readonly port: number,
    readonly topic: string,
    readonly roundTimeoutMs = 10_000,
  ) {}

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    let c: KafkaTestClient | undefined;
    try {
      c = await KafkaTestClient.connect(this.port);
      while (!this.#stopped) {
        const began = Date.now();
        await this.#round(c);
        this.slowestMs = Math.max(this.slowestMs, Date.now() - began);
      }
    } catch (err) {
      this.failures.push(`round ${this.rounds}: ${(err as Error).message}`);
    } finally {
      c?.close();
    }
  }

  async #round(c: KafkaTestClient): Promise<void> {
    const n = 5;
    const values = Array.from({ length: n }, (_, i) => `canary-${this.#next + BigInt(i)}`);
    const batch = encodeRecordBatch({
      records: values.map((v) => ({ key: null, value: Buffer.from(v) })),
    });
    const produced = await c.request(
      0,
      9,
      {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: this.topic, partitionData: [{ index: 0, records: batch }] }],
      },
      this.roundTimeoutMs,
    );
    const p = produced.responses[0].partitionResponses[0];
    if (p.errorCode !== ErrorCode.NONE) throw new Error(`produce error ${p.errorCode}`);
    if (p.baseOffset !== this.#next)
      throw new Error(`base offset ${p.baseOffset}, expected ${this.#next}`);
    const fetched = await c.request(
      1,
      12,
      {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: this.topic,
            partitions: [{ partition: 0, fetchOffset: this.#next, partitionMaxBytes: 1 << 20 }],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      },
      this.roundTimeoutMs,
    );
    const part = fetched.responses[0].partitions[0];
    if (part.errorCode !== ErrorCode.NONE) throw new Error(`fetch error ${part.errorCode}`);
    const got = decodeRecordBatch(part.records as Buffer);
    if (got.baseOffset !== Number(this.#next) && BigInt(got.baseOffset) !== this.#next) {
      throw new Error(`fetched batch at ${got.baseOffset}, expected ${this.#next}`);
    }
    const seen = got.toArray().map((r) => r.value?.toString());
    if (JSON.stringify(seen) !== JSON.stringify(values)) {
      throw new Error(`fetched ${JSON.stringify(seen)}, expected ${JSON.stringify(values)}`);
    }
    this.#next += BigInt(n);
    this.records += n;
    this.rounds++;
  }

  /** Stops the loop and waits for the round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}
