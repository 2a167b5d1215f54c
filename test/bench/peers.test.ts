/**
 * The benchmark's peer message systems: each one whose server is installed starts on 127.0.0.1,
 * produces and consumes 1,000 records, and stops leaving no process, port or data dir behind.
 * A peer whose server is absent must say so helpfully instead (that is what the benchmark shows).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { NatsJetStreamPeer } from '../../bench/peers/nats.js';
import { portOpen, type RunningServer } from '../../bench/peers/process.js';
import { RabbitMqStreamPeer } from '../../bench/peers/rabbitmq.js';
import { RedisStreamsPeer } from '../../bench/peers/redis.js';
import type { Peer, PeerResult } from '../../bench/peers/types.js';
import { AckWindow, untilReceived, watchAcks } from '../../bench/peers/workload.js';

type TestedPeer = Peer & { readonly running: RunningServer | undefined };

const RECORDS = 1000;

function checkResult(r: PeerResult, recordSize: number): void {
  assert.equal(r.records, RECORDS);
  assert.ok(r.seconds > 0 && Number.isFinite(r.seconds));
  assert.ok(Math.abs(r.recordsPerSec - RECORDS / r.seconds) < 1e-6 * r.recordsPerSec);
  assert.ok(Math.abs(r.mbPerSec - (RECORDS * recordSize) / 1e6 / r.seconds) < 1e-6 * r.mbPerSec);
  assert.ok(r.durability.length > 0);
  assert.equal(typeof r.params.server, 'string');
  assert.equal(typeof r.params.client, 'string');
}

function processGone(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** Starts, loads and stops `peer`, checking everything it started is gone afterwards. */
async function roundTrip(
  peer: TestedPeer,
  fsync: boolean,
  recordSize: number,
): Promise<PeerResult> {
  const note = await peer.available();
  if (note !== null) {
    // The package is not installed here: the note is the behaviour users see.
    assert.match(note, /bench\/setup-peers\.sh/);
    assert.match(note, /Debian package/);
    return { records: 0, seconds: 0, recordsPerSec: 0, mbPerSec: 0, durability: '', params: {} };
  }
  let running: RunningServer | undefined;
  try {
    await peer.start({ fsync });
    running = peer.running;
    assert.ok(running !== undefined, 'start() reports its server');
    assert.ok(existsSync(running.dataDir));
    for (const port of running.ports) assert.ok(await portOpen(port), `listening on ${port}`);
    const workload = { records: RECORDS, recordSize };
    const produced = await peer.produce(workload);
    checkResult(produced, recordSize);
    checkResult(await peer.consume(workload), recordSize);
    // A second consume reads the same records again (the suite takes medians of rounds).
    checkResult(await peer.consume(workload), recordSize);
    return produced;
  } finally {
    await peer.stop();
    await peer.stop(); // safe twice
    assert.equal(peer.running, undefined);
    if (running !== undefined) {
      assert.ok(processGone(running.pid), 'server process stopped');
      assert.ok(!existsSync(running.dataDir), 'data dir removed');
      for (const port of running.ports) assert.ok(!(await portOpen(port)), `port ${port} closed`);
    }
  }
}

/** How long a peer may take to notice its server is gone: well under the 30 s stall watch. */
const LOST_SERVER_MS = 15000;

/**
 * Starts `peer`, writes a few records, runs `op` and kills the server's whole process group
 * (as a reset connection would leave the client) once `op` is under way: `op` must fail within
 * {@link LOST_SERVER_MS} naming the lost connection, rather than wait for a stall watch or the
 * suite's deadline.
 */
async function failsWhenServerDies(
  peer: TestedPeer,
  op: (peer: TestedPeer) => Promise<PeerResult>,
  message: RegExp,
): Promise<void> {
  if ((await peer.available()) !== null) return;
  try {
    await peer.start({ fsync: false });
    await peer.produce({ records: RECORDS, recordSize: 100 });
    const pid = peer.running?.pid;
    assert.ok(pid !== undefined);
    const began = Date.now();
    const running = op(peer);
    // Let the operation connect and start waiting, then take the server away.
    await new Promise((r) => setTimeout(r, 500));
    process.kill(-pid, 'SIGKILL');
    await assert.rejects(running, message);
    const took = Date.now() - began;
    assert.ok(took < LOST_SERVER_MS, `${peer.name} noticed the lost server after ${took} ms`);
  } finally {
    await peer.stop();
  }
}

describe('benchmark peers', () => {
  /** Each peer's round trip, and what its result must say about durability and client. */
  const roundTrips: {
    title: string;
    peer: () => TestedPeer;
    fsync: boolean;
    recordSize: number;
    check: (r: PeerResult) => void;
  }[] = [
    {
      title: 'Redis Streams: produce and consume 1,000 records with AOF everysec, then stop',
      peer: () => new RedisStreamsPeer(),
      fsync: false,
      recordSize: 100,
      check: (r) => {
        assert.match(r.durability, /appendfsync everysec/);
        assert.equal(r.fsyncPerWrite, false);
      },
    },
    {
      title: 'Redis Streams: the fsync case runs with appendfsync always (1 KiB records)',
      peer: () => new RedisStreamsPeer(),
      fsync: true,
      recordSize: 1024,
      check: (r) => {
        assert.match(r.durability, /appendfsync always/);
        assert.equal(r.fsyncPerWrite, true);
      },
    },
    {
      title: 'Redis Streams written by redis-benchmark: every XADD lands, then stop',
      peer: () => new RedisStreamsPeer({ producer: 'redis-benchmark' }),
      fsync: false,
      recordSize: 1024,
      check: (r) => assert.match(String(r.params.client), /redis-benchmark/),
    },
    {
      title: 'NATS JetStream: produce and consume 1,000 records on file storage, then stop',
      peer: () => new NatsJetStreamPeer(),
      fsync: false,
      recordSize: 100,
      check: (r) => {
        assert.match(r.durability, /file storage/);
        assert.equal(r.fsyncPerWrite, false);
      },
    },
    {
      title: 'NATS JetStream: the fsync case says fsync per write is not in force on 2.9',
      peer: () => new NatsJetStreamPeer(),
      fsync: true,
      recordSize: 1024,
      check: (r) => {
        assert.match(r.durability, /NOT available/);
        assert.equal(r.fsyncPerWrite, false);
      },
    },
    {
      title:
        'RabbitMQ stream queue: a private node produces and consumes 1,000 1-KiB records, then stops',
      peer: () => new RabbitMqStreamPeer(),
      fsync: false,
      recordSize: 1024,
      check: (r) => {
        assert.match(r.durability, /stream queue/);
        assert.match(String(r.params.client), /stream protocol/);
        assert.equal(typeof r.params.serverStartSeconds, 'number');
      },
    },
    {
      title: 'RabbitMQ stream queue over AMQP 0-9-1: the same round trip with amqplib',
      peer: () => new RabbitMqStreamPeer({ protocol: 'amqp' }),
      fsync: true,
      recordSize: 100,
      check: (r) => {
        assert.match(String(r.params.client), /amqplib/);
        assert.match(r.durability, /NOT available/);
        assert.equal(r.fsyncPerWrite, false);
      },
    },
  ];
  for (const c of roundTrips) {
    it(c.title, async () => {
      const r = await roundTrip(c.peer(), c.fsync, c.recordSize);
      if (r.records > 0) c.check(r);
    });
  }

  it('a peer whose server is not installed says how to install it', async () => {
    const absent: Peer[] = [
      new RedisStreamsPeer({ binary: '/nonexistent/redis-server' }),
      new NatsJetStreamPeer({ binary: '/nonexistent/nats-server' }),
      new RabbitMqStreamPeer({ binary: '/nonexistent/rabbitmq-server' }),
    ];
    for (const peer of absent) {
      const note = await peer.available();
      assert.ok(note !== null, `${peer.name} reports the missing server`);
      assert.match(note, /not found/);
      assert.match(note, /bench\/setup-peers\.sh/);
      await assert.rejects(peer.start({ fsync: false }), /setup-peers/);
      await peer.stop();
    }
  });

  it('Redis Streams: asking for more records than the stream holds fails instead of hanging', async () => {
    const peer = new RedisStreamsPeer();
    if ((await peer.available()) !== null) return;
    try {
      await peer.start({ fsync: false });
      await peer.produce({ records: RECORDS, recordSize: 100 });
      await assert.rejects(
        peer.consume({ records: 3 * RECORDS, recordSize: 100 }),
        /stream ended after 1000 of 3000 records/,
      );
    } finally {
      await peer.stop();
    }
  });

  /** Each peer's client losing its server in the middle of an operation. */
  const lostServers: {
    title: string;
    peer: () => TestedPeer;
    op: (peer: TestedPeer) => Promise<PeerResult>;
    message: RegExp;
  }[] = [
    {
      title: 'Redis Streams: a server lost mid-produce fails the produce promptly',
      peer: () => new RedisStreamsPeer(),
      op: (p) => p.produce({ records: 50_000_000, recordSize: 100 }),
      message: /redis-streams: ioredis: connection to the server lost|Connection is closed/,
    },
    {
      title: 'NATS JetStream: a server lost mid-consume fails the consume promptly',
      peer: () => new NatsJetStreamPeer(),
      op: (p) => p.consume({ records: 1_000_000, recordSize: 100 }),
      message: /nats-jetstream: NATS connection: connection to the server lost/,
    },
    {
      title: 'RabbitMQ stream queue: a server lost mid-consume fails the consume promptly',
      peer: () => new RabbitMqStreamPeer(),
      op: (p) => p.consume({ records: 1_000_000, recordSize: 100 }),
      message: /rabbitmq-stream: stream client: connection to the server lost/,
    },
    {
      title: 'RabbitMQ over AMQP 0-9-1: a server lost mid-consume fails the consume promptly',
      peer: () => new RabbitMqStreamPeer({ protocol: 'amqp' }),
      op: (p) => p.consume({ records: 1_000_000, recordSize: 100 }),
      message: /rabbitmq-stream-amqp: AMQP connection: connection to the server lost/,
    },
  ];
  for (const c of lostServers) {
    it(c.title, () => failsWhenServerDies(c.peer(), c.op, c.message));
  }

  it('a consumer or an ack window that stops making progress fails after the idle time', async () => {
    // The watches' timers are unref'd (they must not keep a benchmark alive); in a peer a client
    // socket keeps the event loop running, here this timer does.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      let received = 3;
      const never = new Promise<void>(() => {});
      await assert.rejects(
        untilReceived(never, () => received, 10, 300),
        /no message for 0.3 s after 3 of 10/,
      );
      received = 10;
      await untilReceived(Promise.resolve(), () => received, 10, 300);

      const window = new AckWindow(2);
      const endWatch = watchAcks(window, 300);
      await window.acquire(2); // both writes outstanding, no ack will come
      await assert.rejects(window.acquire(1), /no acknowledgement for 0.3 s/);
      endWatch();
    } finally {
      clearInterval(keepAlive);
    }
  });
});
