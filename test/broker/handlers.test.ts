import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { API_SPECS } from '../../src/protocol/generated/index.js';
import {
  CompressionType,
  decodeRecordBatch,
  encodeRecordBatch,
} from '../../src/protocol/record-batch/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker-process.js';
import { KafkaTestClient } from './helpers/kafka-client.js';

function batch(
  values: string[],
  compression = CompressionType.None,
  timestamp = Date.now(),
): Buffer {
  return encodeRecordBatch({
    records: values.map((v, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(v),
      timestamp: timestamp + i,
    })),
    compression,
  });
}

function produceBody(topic: string, partition: number, records: Buffer | null, acks = -1) {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

function fetchBody(
  topic: string,
  partition: number,
  offset: number,
  opts: { maxWaitMs?: number; minBytes?: number; topicId?: string } = {},
) {
  return {
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId: opts.topicId,
        partitions: [{ partition, fetchOffset: BigInt(offset), partitionMaxBytes: 1 << 20 }],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

describe('handlers against a broker process', () => {
  let broker: BrokerProcess;
  let c: KafkaTestClient;
  before(async () => {
    broker = await startBroker({ args: ['--set', 'message.max.bytes=10000'] });
    c = await KafkaTestClient.connect(broker.port);
  });
  after(async () => {
    c.close();
    await broker.cleanup();
  });

  test('ApiVersions lists every served API inside the 4.4 ranges', async () => {
    const res = await c.request(18, 3, {
      clientSoftwareName: 'brook-test',
      clientSoftwareVersion: '1',
    });
    assert.equal(res.errorCode, 0);
    const keys = new Map(res.apiKeys.map((k) => [k.apiKey, k]));
    for (const key of [0, 1, 2, 3, 18, 19]) assert.ok(keys.has(key), `API ${key} advertised`);
    for (const k of res.apiKeys) {
      const spec = API_SPECS[k.apiKey as keyof typeof API_SPECS];
      assert.ok(
        k.minVersion >= spec.validVersions.min && k.maxVersion <= spec.validVersions.max,
        spec.name,
      );
    }
  });

  test('CreateTopics: created, exists, invalid name, partitions, replication factor, config, validate-only', async () => {
    const topic = (
      name: string,
      numPartitions = 2,
      replicationFactor = -1,
      configs: { name: string; value: string }[] = [],
    ) => ({
      name,
      numPartitions,
      replicationFactor,
      assignments: [],
      configs,
    });
    for (const v of [2, 5, 7]) {
      const res = await c.request(19, v, {
        topics: [
          topic(`created-v${v}`),
          topic('bad/name'),
          topic(`zero-v${v}`, 0),
          topic(`rf3-v${v}`, 1, 3),
          topic(`cfg-v${v}`, 1, -1, [{ name: 'retention.msec', value: '1' }]),
          topic(`cfg2-v${v}`, 1, -1, [{ name: 'retention.ms', value: 'soon' }]),
        ],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.deepEqual(
        res.topics.map((t) => t.errorCode),
        [0, 17, 37, 38, 40, 40],
        `v${v}: ${res.topics.map((t) => t.errorMessage).join(' | ')}`,
      );
      if (v >= 5) {
        assert.equal(res.topics[0].numPartitions, 2);
        assert.ok(res.topics[0].configs?.some((e) => e.name === 'retention.ms'));
      }
      if (v >= 7) assert.notEqual(res.topics[0].topicId, '00000000-0000-0000-0000-000000000000');
    }
    const again = await c.request(19, 7, {
      topics: [topic('created-v7')],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(again.topics[0].errorCode, 36);
    const dry = await c.request(19, 7, {
      topics: [topic('dry-run', 4)],
      timeoutMs: 5000,
      validateOnly: true,
    });
    assert.equal(dry.topics[0].errorCode, 0);
    const md = await c.request(3, 12, {
      topics: [{ name: 'dry-run' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(md.topics[0].errorCode, 3, 'validate-only created nothing');
  });

  test('Metadata at every version: auto-creation, ids, advertised broker, controller', async () => {
    for (let v = API_SPECS[3].validVersions.min; v <= 13; v++) {
      const name = `md-${v}`;
      const res = await c.request(3, v, {
        topics: [{ name }],
        allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      assert.equal(res.brokers.length, 1);
      assert.deepEqual(
        [res.brokers[0].nodeId, res.brokers[0].host, res.brokers[0].port],
        [0, '127.0.0.1', broker.port],
      );
      if (v >= 1) assert.equal(res.controllerId, 0);
      assert.equal(res.topics[0].errorCode, 0, `v${v}`);
      assert.equal(res.topics[0].partitions.length, 1);
      assert.equal(res.topics[0].partitions[0].leaderId, 0);
      if (v >= 10) assert.notEqual(res.topics[0].topicId, '00000000-0000-0000-0000-000000000000');
    }
    const byId = await c.request(3, 12, {
      topics: [{ name: 'md-12' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const id = byId.topics[0].topicId;
    const again = await c.request(3, 12, {
      topics: [{ topicId: id, name: null }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(again.topics[0].name, 'md-12');
    const all = await c.request(3, 1, { topics: null });
    assert.ok(all.topics.some((t) => t.name === 'md-5'));
    const invalid = await c.request(3, 4, {
      topics: [{ name: 'no good' }],
      allowAutoTopicCreation: true,
    });
    assert.equal(invalid.topics[0].errorCode, 17);
  });

  test('Produce then Fetch, classic and flexible versions, every codec kept as sent', async () => {
    await c.request(19, 4, {
      topics: [
        { name: 'pf', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const codecs = [
      CompressionType.None,
      CompressionType.Gzip,
      CompressionType.Snappy,
      CompressionType.Lz4,
      CompressionType.Zstd,
    ];
    let expected = 0;
    for (const [i, codec] of codecs.entries()) {
      const v = [3, 7, 9, 11, 12][i];
      const res = await c.request(0, v, produceBody('pf', 0, batch(['a', 'b', 'c'], codec)));
      const p = res.responses[0].partitionResponses[0];
      assert.equal(p.errorCode, 0, `produce v${v}: ${p.errorMessage}`);
      assert.equal(p.baseOffset, BigInt(expected));
      expected += 3;
    }
    const md = await c.request(3, 12, {
      topics: [{ name: 'pf' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const topicId = md.topics[0].topicId;
    for (const v of [4, 11, 12, 13, 18]) {
      // v13+ name topics by id only.
      const res = await c.request(
        1,
        v,
        fetchBody('pf', 0, 0, { topicId: v >= 13 ? topicId : undefined }),
      );
      const p = res.responses[0].partitions[0];
      assert.equal(p.errorCode, 0, `fetch v${v} topic id ${topicId}`);
      assert.equal(p.highWatermark, BigInt(expected));
      const records = p.records as Buffer;
      let at = 0;
      const seen: number[] = [];
      while (at < records.length) {
        const b = decodeRecordBatch(records, at);
        seen.push(b.compression);
        const values = b.toArray().map((r) => r.value?.toString());
        assert.deepEqual(values, ['a', 'b', 'c']);
        at += b.sizeInBytes;
      }
      assert.deepEqual(seen, codecs, `fetch v${v}`);
    }
    // Fetch from the middle starts at the batch holding the offset; out of range is an error.
    const mid = await c.request(1, 11, fetchBody('pf', 0, 4));
    assert.equal(decodeRecordBatch(mid.responses[0].partitions[0].records as Buffer).baseOffset, 3);
    const oor = await c.request(1, 11, fetchBody('pf', 0, 99));
    assert.equal(oor.responses[0].partitions[0].errorCode, 1);
  });

  test('Produce refusals: unknown topic, corrupt CRC, too large, magic, acks', async () => {
    const unknown = await c.request(0, 7, produceBody('nope', 0, batch(['x'])));
    assert.equal(unknown.responses[0].partitionResponses[0].errorCode, 3);
    await c.request(3, 4, { topics: [{ name: 'refuse' }], allowAutoTopicCreation: true });
    const corrupt = batch(['x', 'y']);
    corrupt[corrupt.length - 1] ^= 0xff;
    assert.equal(
      (await c.request(0, 7, produceBody('refuse', 0, corrupt))).responses[0].partitionResponses[0]
        .errorCode,
      2,
    );
    const big = batch(['x'.repeat(20000)]);
    assert.equal(
      (await c.request(0, 9, produceBody('refuse', 0, big))).responses[0].partitionResponses[0]
        .errorCode,
      10,
    );
    const v1 = batch(['x']);
    v1[16] = 1;
    assert.equal(
      (await c.request(0, 7, produceBody('refuse', 0, v1))).responses[0].partitionResponses[0]
        .errorCode,
      43,
    );
    assert.equal(
      (await c.request(0, 7, produceBody('refuse', 0, batch(['x']), 2))).responses[0]
        .partitionResponses[0].errorCode,
      21,
    );
    const two = Buffer.concat([batch(['x']), batch(['y'])]);
    assert.equal(
      (await c.request(0, 7, produceBody('refuse', 0, two))).responses[0].partitionResponses[0]
        .errorCode,
      87,
    );
    // Nothing was appended by any of them.
    const f = await c.request(1, 11, fetchBody('refuse', 0, 0));
    assert.equal(f.responses[0].partitions[0].highWatermark, 0n);
  });

  test('acks=0 gets no response and is appended; later requests are still answered in order', async () => {
    await c.request(3, 4, { topics: [{ name: 'acks0' }], allowAutoTopicCreation: true });
    c.send(0, 7, produceBody('acks0', 0, batch(['fire', 'forget']), 0));
    const res = await c.request(2, 5, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'acks0',
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
        },
      ],
    });
    assert.equal(res.topics[0].partitions[0].offset, 2n);
    // A failing acks=0 produce closes the connection: the only signal such a client gets.
    const other = await KafkaTestClient.connect(broker.port);
    other.send(0, 7, produceBody('no-such-topic', 0, batch(['lost']), 0));
    await other.raw.waitClosed();
  });

  test('Fetch long poll waits for min_bytes and wakes on produce', async () => {
    await c.request(3, 4, { topics: [{ name: 'poll' }], allowAutoTopicCreation: true });
    const started = Date.now();
    const empty = await c.request(1, 11, fetchBody('poll', 0, 0, { maxWaitMs: 300, minBytes: 1 }));
    assert.ok(Date.now() - started >= 250, 'waited for max_wait');
    assert.equal((empty.responses[0].partitions[0].records as Buffer).length, 0);
    const other = await KafkaTestClient.connect(broker.port);
    try {
      const waiting = c.request(1, 12, fetchBody('poll', 0, 0, { maxWaitMs: 20000, minBytes: 1 }));
      await new Promise((r) => setTimeout(r, 100));
      await other.request(0, 9, produceBody('poll', 0, batch(['wake'])));
      const res = await waiting;
      assert.equal(
        decodeRecordBatch(res.responses[0].partitions[0].records as Buffer)
          .toArray()[0]
          .value?.toString(),
        'wake',
      );
      assert.ok(Date.now() - started < 15000, 'woken by the append, not the timeout');
    } finally {
      other.close();
    }
  });

  test('ListOffsets: earliest, latest, by timestamp (exact record), max timestamp', async () => {
    await c.request(3, 4, { topics: [{ name: 'lo' }], allowAutoTopicCreation: true });
    const t0 = Date.now() - 100000;
    await c.request(0, 9, produceBody('lo', 0, batch(['a', 'b', 'c'], CompressionType.None, t0)));
    await c.request(0, 9, produceBody('lo', 0, batch(['d', 'e'], CompressionType.Lz4, t0 + 1000)));
    const ask = async (v: number, timestamp: bigint) => {
      const res = await c.request(2, v, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [
          { name: 'lo', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] },
        ],
      });
      return res.topics[0].partitions[0];
    };
    for (const v of [1, 4, 7, 11]) {
      assert.equal((await ask(v, -2n)).offset, 0n);
      assert.equal((await ask(v, -1n)).offset, 5n);
      assert.equal(
        (await ask(v, BigInt(t0 + 1))).offset,
        1n,
        'exact record inside the first batch',
      );
      assert.equal(
        (await ask(v, BigInt(t0 + 1001))).offset,
        4n,
        'exact record inside a compressed batch',
      );
      assert.equal((await ask(v, BigInt(t0 + 999999))).offset, -1n);
    }
    const max = await ask(7, -3n);
    assert.equal(max.timestamp, BigInt(t0 + 1001));
    assert.equal(max.offset, 4n);
  });

  test('Fetch sessions (KIP-227): full, incremental with only changes, epochs, close', async () => {
    await c.request(19, 4, {
      topics: [
        { name: 'sess', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const fetch = (
      sessionId: number,
      sessionEpoch: number,
      partitions: number[],
      forgotten: number[] = [],
    ) =>
      c.request(1, 11, {
        ...fetchBody('sess', 0, 0),
        sessionId,
        sessionEpoch,
        topics: partitions.length
          ? [
              {
                topic: 'sess',
                partitions: partitions.map((p) => ({
                  partition: p,
                  fetchOffset: 0n,
                  partitionMaxBytes: 1 << 20,
                })),
              },
            ]
          : [],
        forgottenTopicsData: forgotten.length ? [{ topic: 'sess', partitions: forgotten }] : [],
      });
    const full = await fetch(0, 0, [0, 1]);
    assert.notEqual(full.sessionId, 0);
    assert.deepEqual(
      full.responses[0].partitions.map((p) => p.partitionIndex),
      [0, 1],
    );
    const id = full.sessionId;
    const quiet = await fetch(id, 1, []);
    assert.equal(quiet.errorCode, 0);
    assert.equal(quiet.sessionId, id);
    assert.deepEqual(quiet.responses, [], 'nothing changed, nothing sent');
    await c.request(0, 9, produceBody('sess', 1, batch(['news'])));
    const news = await fetch(id, 2, []);
    assert.deepEqual(
      news.responses.map((t) => t.partitions.map((p) => [p.partitionIndex, p.highWatermark])),
      [[[1, 1n]]],
    );
    assert.equal(
      decodeRecordBatch(news.responses[0].partitions[0].records as Buffer)
        .toArray()[0]
        .value?.toString(),
      'news',
    );
    // Forgetting partition 1 and producing to it again: no news for this session.
    const forgot = await fetch(id, 3, [], [1]);
    assert.deepEqual(forgot.responses, []);
    await c.request(0, 9, produceBody('sess', 1, batch(['more'])));
    assert.deepEqual((await fetch(id, 4, [])).responses, []);
    assert.equal((await fetch(id, 9, [])).errorCode, 71, 'wrong epoch');
    assert.equal((await fetch(12345, 1, [])).errorCode, 70, 'unknown session');
    const closed = await fetch(id, -1, [0]);
    assert.equal(closed.sessionId, 0);
    assert.equal(closed.responses[0].partitions.length, 1);
    assert.equal((await fetch(id, 5, [])).errorCode, 70, 'closed sessions are gone');
    const sessionless = await fetch(0, -1, [0, 1]);
    assert.equal(sessionless.sessionId, 0);
  });

  test('large record data is spliced into Fetch responses intact (classic and flexible, several partitions)', async () => {
    await c.request(19, 4, {
      topics: [
        { name: 'big', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const values = [0, 1].map((p) =>
      Array.from({ length: 4 }, (_, i) => `${p}:${i}:${'z'.repeat(2000)}`),
    );
    for (const p of [0, 1]) {
      const big = batch(values[p]);
      assert.ok(big.length > 4096);
      assert.equal(
        (await c.request(0, 9, produceBody('big', p, big))).responses[0].partitionResponses[0]
          .errorCode,
        0,
      );
    }
    const md = await c.request(3, 12, {
      topics: [{ name: 'big' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const topicId = md.topics[0].topicId;
    for (const v of [11, 12, 18]) {
      const body = fetchBody('big', 0, 0, { topicId: v >= 13 ? topicId : undefined });
      body.topics[0].partitions.push({ partition: 1, fetchOffset: 0n, partitionMaxBytes: 1 << 20 });
      const res = await c.request(1, v, body);
      const got = res.responses[0].partitions.map((p) =>
        decodeRecordBatch(p.records as Buffer)
          .toArray()
          .map((r) => r.value?.toString()),
      );
      assert.deepEqual(got, values, `fetch v${v}`);
    }
  });
});
