/**
 * The generated codecs against librdkafka 2.0.2, a third independent implementation (C):
 * kcat (its client) reads metadata from a stub server answering with our encoders, including
 * the flexible ApiVersions v3 exchange; and we talk to librdkafka's mock broker
 * (../shared/tools/kafka-mock) with our request encoders and response decoders, including the
 * flexible InitProducerId v2-v4, and carry a record batch through Produce and Fetch.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  API_KEY,
  type ApiMessages,
  type Complete,
  encodeRequestFrame,
  encodeResponseFrame,
  type ProduceRequest,
  readRequest,
  readResponse,
} from '../../src/protocol/messages.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

/** Splits a byte stream into size-prefixed frames. */
function onFrames(sock: Socket, onFrame: (frame: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const size = buf.readInt32BE(0);
      onFrame(buf.subarray(4, 4 + size));
      buf = buf.subarray(4 + size);
    }
  });
}

test('kcat -L reads metadata from a stub server built on the generated codecs', async () => {
  const requests: { apiKey: number; version: number; headerVersion: number; body: object }[] = [];
  const server = createServer((sock) => {
    onFrames(sock, (frame) => {
      const { header, body } = readRequest(frame);
      assert.ok(body);
      requests.push({
        apiKey: header.apiKey,
        version: header.apiVersion,
        headerVersion: header.headerVersion,
        body,
      });
      const port = (server.address() as { port: number }).port;
      if (header.apiKey === API_KEY.ApiVersions) {
        sock.write(
          encodeResponseFrame(API_KEY.ApiVersions, header.apiVersion, header.correlationId, {
            errorCode: 0,
            apiKeys: [
              { apiKey: API_KEY.ApiVersions, minVersion: 0, maxVersion: 4 },
              { apiKey: API_KEY.Metadata, minVersion: 0, maxVersion: 12 },
            ],
            throttleTimeMs: 0,
            finalizedFeaturesEpoch: 3n,
            supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 20 }],
            _unknownTaggedFields: [{ tag: 77, data: Buffer.from('ignored by clients') }],
          }),
        );
      } else if (header.apiKey === API_KEY.Metadata) {
        sock.write(
          encodeResponseFrame(API_KEY.Metadata, header.apiVersion, header.correlationId, {
            brokers: [{ nodeId: 0, host: '127.0.0.1', port, rack: null }],
            clusterId: 'brook-codec',
            controllerId: 0,
            topics: [
              {
                errorCode: 0,
                name: 'codec-topic',
                isInternal: false,
                partitions: [0, 1, 2].map((i) => ({
                  errorCode: 0,
                  partitionIndex: i,
                  leaderId: 0,
                  leaderEpoch: 0,
                  replicaNodes: [0],
                  isrNodes: [0],
                  offlineReplicas: [],
                })),
              },
            ],
          }),
        );
      } else {
        sock.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('kcat', ['-b', `127.0.0.1:${port}`, '-L', '-J', '-m', '10']);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('error', reject);
      p.on('close', (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`kcat ${code}: ${stderr}`)),
      );
    });
    const md = JSON.parse(out) as {
      controllerid: number;
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };
    assert.equal(md.controllerid, 0);
    assert.deepEqual(md.brokers, [{ id: 0, name: `127.0.0.1:${port}` }]);
    assert.deepEqual(
      md.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.leader])]),
      [
        [
          'codec-topic',
          [
            [0, 0],
            [1, 0],
            [2, 0],
          ],
        ],
      ],
    );
    // librdkafka opens with the flexible ApiVersions v3 (request header v2).
    const av = requests.find((r) => r.apiKey === API_KEY.ApiVersions);
    assert.ok(av);
    assert.equal(av.version, 3);
    assert.equal(av.headerVersion, 2);
    assert.equal((av.body as ApiMessages[18]['request']).clientSoftwareName, 'librdkafka');
    assert.ok(requests.some((r) => r.apiKey === API_KEY.Metadata));
  } finally {
    server.close();
  }
});

/** librdkafka's mock cluster, built from ../shared/tools/kafka-mock into a temp dir. */
let mock:
  | { proc: ChildProcess; dir: string; host: string; port: number; lines: string[] }
  | undefined;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'brook-codec-mock-'));
  const build = spawnSync(
    'bash',
    [join(root, '..', 'shared', 'tools', 'kafka-mock', 'build.sh'), dir],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(build.status, 0, `building kafka-mock: ${build.stderr}`);
  const fifo = join(dir, 'ctl');
  const proc = spawn(join(dir, 'mockcluster'), ['1', fifo], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let pending = '';
  proc.stdout?.on('data', (d) => {
    pending += String(d);
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  });
  const bootstrap = await waitFor(() => lines.find((l) => l.startsWith('BOOTSTRAP=')));
  const [host, port] = bootstrap.slice('BOOTSTRAP='.length).split(',')[0].split(':');
  mock = { proc, dir, host, port: Number(port), lines };
  writeFileSync(fifo, 'create codec 2 1\n');
  await waitFor(() => lines.find((l) => l.startsWith('create codec')));
});

after(() => {
  if (mock) {
    mock.proc.kill('SIGTERM');
    rmSync(mock.dir, { recursive: true, force: true });
  }
});

/** Polls until `f` returns a value, for at most five seconds. */
async function waitFor<T>(f: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for the mock cluster');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One connection to the mock: send a request with our encoder, decode the reply with ours. */
class Client {
  readonly #sock: Socket;
  readonly #waiting = new Map<number, (frame: Buffer) => void>();
  #next = 1;
  constructor(sock: Socket) {
    this.#sock = sock;
    onFrames(sock, (frame) => this.#waiting.get(frame.readInt32BE(0))?.(frame));
  }
  static async open(host: string, port: number): Promise<Client> {
    const sock = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return new Client(sock);
  }
  async send<K extends keyof ApiMessages>(
    apiKey: K,
    version: number,
    request: ApiMessages[K]['request'],
  ): Promise<Complete<ApiMessages[K]['response']>> {
    const id = this.#next++;
    const frame = await new Promise<Buffer>((resolve) => {
      this.#waiting.set(id, resolve);
      this.#sock.write(encodeRequestFrame(apiKey, version, id, 'brook-codec-test', request));
    });
    this.#waiting.delete(id);
    return readResponse(frame, apiKey, version).body;
  }
  close(): void {
    this.#sock.destroy();
  }
}

/** A record batch written by kafkajs, taken from a kafkajs Produce request. */
async function kafkajsBatch(): Promise<Buffer> {
  const frameOf = require('kafkajs/src/protocol/request');
  const produce = require('kafkajs/src/protocol/requests/produce/v7/request');
  const req = produce({
    acks: -1,
    timeout: 1000,
    topicData: [
      {
        topic: 'codec',
        partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v1' }, { value: 'v2' }] }],
      },
    ],
  });
  const frame = (await frameOf({ correlationId: 1, clientId: 'x', request: req })).buffer as Buffer;
  const body = readRequest(frame.subarray(4)).body as ProduceRequest;
  const records = body.topicData[0].partitionData[0].records;
  assert.ok(records);
  return Buffer.from(records);
}

test('librdkafka mock broker: ApiVersions, flexible InitProducerId, Metadata, Produce, Fetch, ListOffsets', async () => {
  assert.ok(mock);
  const c = await Client.open(mock.host, mock.port);
  try {
    const av = await c.send(API_KEY.ApiVersions, 2, {});
    assert.equal(av.errorCode, 0);
    const versions = new Map(av.apiKeys.map((k) => [k.apiKey, k.maxVersion]));
    assert.ok((versions.get(API_KEY.InitProducerId) ?? 0) >= 4);

    for (const v of [2, 3, 4]) {
      const pid = await c.send(API_KEY.InitProducerId, v, {
        transactionalId: null,
        transactionTimeoutMs: 60000,
      });
      assert.equal(pid.errorCode, 0, `InitProducerId v${v}`);
      assert.ok(pid.producerId >= 0n);
      assert.ok(pid.producerEpoch >= 0);
    }

    const md = await c.send(API_KEY.Metadata, 2, { topics: [{ name: 'codec' }] });
    assert.equal(md.topics[0].name, 'codec');
    assert.equal(md.topics[0].partitions.length, 2);
    assert.equal(md.brokers.length, 1);

    const batch = await kafkajsBatch();
    const produced = await c.send(API_KEY.Produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: 'codec', partitionData: [{ index: 0, records: batch }] }],
    });
    assert.equal(produced.responses[0].partitionResponses[0].errorCode, 0);
    assert.equal(produced.responses[0].partitionResponses[0].baseOffset, 0n);

    const fetched = await c.send(API_KEY.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [
        {
          topic: 'codec',
          partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const part = fetched.responses[0].partitions[0];
    assert.equal(part.errorCode, 0);
    assert.equal(part.highWatermark, 2n);
    assert.ok(part.records);
    // The CRC-covered part of the batch (attributes onwards) comes back byte for byte.
    assert.deepEqual(part.records.subarray(21, batch.length), batch.subarray(21));

    // v3, not v4+: librdkafka 2.0.2's mock writes 4 bytes more than the spec's LeaderEpoch in
    // ListOffsets v4/v5 responses, which our strict frame reader rightly rejects.
    const offsets = await c.send(API_KEY.ListOffsets, 3, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: 'codec', partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
    });
    assert.equal(offsets.topics[0].partitions[0].errorCode, 0);
    assert.equal(offsets.topics[0].partitions[0].offset, 2n);
  } finally {
    c.close();
  }
});
