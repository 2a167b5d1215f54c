/**
 * Cross-checks against kafkajs 2.2.4, an independent hand-written implementation: frames kafkajs
 * encodes must decode field for field with our generated request decoders, and responses our
 * generated encoders write must decode with kafkajs's response decoders.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  API_KEY,
  type ApiMessages,
  encodeResponseFrame,
  type FetchRequest,
  type JoinGroupRequest,
  type MetadataRequest,
  type ProduceRequest,
  readRequest,
} from '../../src/protocol/messages.js';
import {
  type KafkajsRequest,
  type KafkajsResponse,
  kafkajs,
  kafkajsFrame,
} from './kafkajs-internals.js';

/** kafkajs encodes a full request frame; we decode its header and body. */
async function decodeKafkajsRequest<K extends keyof ApiMessages>(
  apiKey: K,
  req: KafkajsRequest,
): Promise<ApiMessages[K]['request']> {
  const frame = (await kafkajsFrame({ correlationId: 4242, clientId: 'kafkajs-x', request: req }))
    .buffer;
  assert.equal(frame.readInt32BE(0), frame.length - 4, 'kafkajs size prefix');
  const { header, body } = readRequest(frame.subarray(4));
  assert.equal(header.apiKey, apiKey);
  assert.equal(header.apiVersion, req.apiVersion);
  assert.equal(header.correlationId, 4242);
  assert.equal(header.clientId, 'kafkajs-x');
  assert.ok(body, 'the version is inside the spec range');
  return body as ApiMessages[K]['request'];
}

/** We encode a full response frame; kafkajs decodes the payload after the correlation id. */
async function decodeWithKafkajs<K extends keyof ApiMessages>(
  apiKey: K,
  version: number,
  response: KafkajsResponse,
  message: ApiMessages[K]['response'],
): Promise<Record<string, unknown>> {
  const frame = encodeResponseFrame(apiKey, version, 777, message);
  assert.equal(frame.readInt32BE(0), frame.length - 4);
  assert.equal(frame.readInt32BE(4), 777);
  return response.decode(Buffer.from(frame.subarray(8)));
}

/** A record batch as kafkajs writes it, taken from a kafkajs produce request. */
async function kafkajsRecordBatch(): Promise<Buffer> {
  const { request } = kafkajs('produce', 7);
  const req = request({
    acks: -1,
    timeout: 1000,
    topicData: [
      {
        topic: 't',
        partitions: [
          {
            partition: 0,
            messages: [
              { key: 'k1', value: 'v1' },
              { key: null, value: 'v2' },
            ],
          },
        ],
      },
    ],
  });
  const frame = (await kafkajsFrame({ correlationId: 1, clientId: 'c', request: req })).buffer;
  const body = readRequest(frame.subarray(4)).body as ProduceRequest;
  const records = body.topicData[0].partitionData[0].records;
  assert.ok(records);
  return records;
}

test('Produce v7 request from kafkajs decodes; our Produce v7 response decodes in kafkajs', async () => {
  const { request, response } = kafkajs('produce', 7);
  const req = request({
    acks: -1,
    timeout: 30000,
    transactionalId: 'tx-1',
    topicData: [
      {
        topic: 'orders',
        partitions: [
          { partition: 0, messages: [{ key: 'a', value: 'hello' }] },
          { partition: 3, messages: [{ value: 'x'.repeat(300), headers: { h: 'v' } }] },
        ],
      },
      { topic: 'payments', partitions: [{ partition: 1, messages: [{ value: 'p' }] }] },
    ],
  });
  const m = await decodeKafkajsRequest(API_KEY.Produce, req);
  assert.equal(m.transactionalId, 'tx-1');
  assert.equal(m.acks, -1);
  assert.equal(m.timeoutMs, 30000);
  assert.deepEqual(
    m.topicData.map((t) => [t.name, t.partitionData.map((p) => p.index)]),
    [
      ['orders', [0, 3]],
      ['payments', [1]],
    ],
  );
  for (const t of m.topicData) {
    for (const p of t.partitionData) {
      const records = p.records;
      assert.ok(records);
      // A magic v2 batch: its length field covers the rest of the buffer exactly.
      assert.equal(records.readInt8(16), 2, 'magic');
      assert.equal(records.readInt32BE(8) + 12, records.length);
    }
  }

  const decoded = await decodeWithKafkajs(API_KEY.Produce, 7, response, {
    responses: [
      {
        name: 'orders',
        partitionResponses: [
          { index: 0, errorCode: 0, baseOffset: 41n, logAppendTimeMs: -1n, logStartOffset: 0n },
          {
            index: 3,
            errorCode: 0,
            baseOffset: 9007199254740993n,
            logAppendTimeMs: 1700000000000n,
          },
        ],
      },
    ],
    throttleTimeMs: 25,
  });
  assert.deepEqual(decoded, {
    topics: [
      {
        topicName: 'orders',
        partitions: [
          {
            partition: 0,
            errorCode: 0,
            baseOffset: '41',
            logAppendTime: '-1',
            logStartOffset: '0',
          },
          {
            partition: 3,
            errorCode: 0,
            baseOffset: '9007199254740993',
            logAppendTime: '1700000000000',
            logStartOffset: '-1',
          },
        ],
      },
    ],
    throttleTime: 0,
    clientSideThrottleTime: 25,
  });
});

test('Fetch v11 request from kafkajs decodes; our Fetch v11 response decodes in kafkajs', async () => {
  const { request, response } = kafkajs('fetch', 11);
  const req = request({
    replicaId: -1,
    maxWaitTime: 500,
    minBytes: 1,
    maxBytes: 10485760,
    isolationLevel: 1,
    sessionId: 7,
    sessionEpoch: 3,
    rackId: 'rack-a',
    topics: [
      {
        topic: 'orders',
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: 5,
            fetchOffset: '12345678901',
            logStartOffset: '2',
            maxBytes: 1048576,
          },
          { partition: 2, fetchOffset: '0', maxBytes: 4096 },
        ],
      },
    ],
    forgottenTopics: [{ topic: 'old', partitions: [4, 5] }],
  });
  const m: FetchRequest = await decodeKafkajsRequest(API_KEY.Fetch, req);
  assert.equal(m.replicaId, -1);
  assert.equal(m.maxWaitMs, 500);
  assert.equal(m.minBytes, 1);
  assert.equal(m.maxBytes, 10485760);
  assert.equal(m.isolationLevel, 1);
  assert.equal(m.sessionId, 7);
  assert.equal(m.sessionEpoch, 3);
  assert.equal(m.rackId, 'rack-a');
  assert.equal(m.topics?.[0].topic, 'orders');
  assert.deepEqual(
    m.topics?.[0].partitions.map((p) => ({ ...p, _unknownTaggedFields: undefined })),
    [
      {
        partition: 0,
        currentLeaderEpoch: 5,
        fetchOffset: 12345678901n,
        lastFetchedEpoch: -1,
        logStartOffset: 2n,
        partitionMaxBytes: 1048576,
        replicaDirectoryId: '00000000-0000-0000-0000-000000000000',
        highWatermark: 9223372036854775807n,
        _unknownTaggedFields: undefined,
      },
      {
        partition: 2,
        currentLeaderEpoch: -1,
        fetchOffset: 0n,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: 4096,
        replicaDirectoryId: '00000000-0000-0000-0000-000000000000',
        highWatermark: 9223372036854775807n,
        _unknownTaggedFields: undefined,
      },
    ],
  );
  assert.deepEqual(
    m.forgottenTopicsData?.map((t) => [t.topic, t.partitions]),
    [['old', [4, 5]]],
  );

  const batch = await kafkajsRecordBatch();
  const decoded = await decodeWithKafkajs(API_KEY.Fetch, 11, response, {
    throttleTimeMs: 3,
    errorCode: 0,
    sessionId: 7,
    responses: [
      {
        topic: 'orders',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            highWatermark: 2n,
            lastStableOffset: 2n,
            logStartOffset: 0n,
            abortedTransactions: [{ producerId: 99n, firstOffset: 1n }],
            preferredReadReplica: -1,
            records: batch,
          },
          {
            partitionIndex: 1,
            errorCode: 6,
            highWatermark: -1n,
            abortedTransactions: null,
            records: null,
          },
        ],
      },
    ],
  });
  assert.equal(decoded.clientSideThrottleTime, 3);
  assert.equal(decoded.errorCode, 0);
  assert.equal(decoded.sessionId, 7);
  const responses = decoded.responses as {
    topicName: string;
    partitions: Record<string, unknown>[];
  }[];
  assert.equal(responses[0].topicName, 'orders');
  const [p0, p1] = responses[0].partitions;
  assert.equal(p0.partition, 0);
  assert.equal(p0.highWatermark, '2');
  assert.equal(p0.lastStableOffset, '2');
  assert.equal(p0.lastStartOffset, '0');
  assert.deepEqual(p0.abortedTransactions, [{ producerId: '99', firstOffset: '1' }]);
  assert.equal(p0.preferredReadReplica, -1);
  const messages = p0.messages as { key: Buffer | null; value: Buffer; offset: string }[];
  assert.deepEqual(
    messages.map((x) => [x.key?.toString() ?? null, x.value.toString(), x.offset]),
    [
      ['k1', 'v1', '0'],
      [null, 'v2', '1'],
    ],
  );
  assert.equal(p1.partition, 1);
  assert.equal(p1.errorCode, 6);
  assert.equal(p1.highWatermark, '-1');
  assert.equal(p1.lastStableOffset, '-1');
  assert.deepEqual(p1.messages, []);
});

test('Metadata v6 both ways', async () => {
  const { request, response } = kafkajs('metadata', 6);
  const m: MetadataRequest = await decodeKafkajsRequest(
    API_KEY.Metadata,
    request({ topics: ['a', 'b'], allowAutoTopicCreation: false }),
  );
  assert.deepEqual(
    m.topics?.map((t) => t.name),
    ['a', 'b'],
  );
  assert.equal(m.allowAutoTopicCreation, false);
  // kafkajs sends an empty topic list as null, which asks for every topic.
  const all: MetadataRequest = await decodeKafkajsRequest(
    API_KEY.Metadata,
    request({ topics: [] }),
  );
  assert.equal(all.topics, null);
  assert.equal(all.allowAutoTopicCreation, true);

  const decoded = await decodeWithKafkajs(API_KEY.Metadata, 6, response, {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null }],
    clusterId: 'brook-cluster',
    controllerId: 0,
    topics: [
      {
        errorCode: 0,
        name: 'a',
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 0,
            replicaNodes: [0],
            isrNodes: [0],
            offlineReplicas: [],
          },
          {
            errorCode: 0,
            partitionIndex: 1,
            leaderId: 0,
            replicaNodes: [0, 1],
            isrNodes: [0],
            offlineReplicas: [1],
          },
        ],
      },
    ],
  });
  assert.deepEqual(decoded, {
    throttleTime: 0,
    clientSideThrottleTime: 0,
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null }],
    clusterId: 'brook-cluster',
    controllerId: 0,
    topicMetadata: [
      {
        topicErrorCode: 0,
        topic: 'a',
        isInternal: false,
        partitionMetadata: [
          {
            partitionErrorCode: 0,
            partitionId: 0,
            leader: 0,
            replicas: [0],
            isr: [0],
            offlineReplicas: [],
          },
          {
            partitionErrorCode: 0,
            partitionId: 1,
            leader: 0,
            replicas: [0, 1],
            isr: [0],
            offlineReplicas: [1],
          },
        ],
      },
    ],
  });
});

test('ApiVersions v2 both ways', async () => {
  const { request, response } = kafkajs('apiVersions', 2);
  const m = await decodeKafkajsRequest(API_KEY.ApiVersions, request({}));
  assert.equal(m.clientSoftwareName, '');
  const decoded = await decodeWithKafkajs(API_KEY.ApiVersions, 2, response, {
    errorCode: 0,
    apiKeys: [
      { apiKey: 0, minVersion: 3, maxVersion: 13 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ],
    throttleTimeMs: 11,
  });
  assert.deepEqual(decoded, {
    errorCode: 0,
    apiVersions: [
      { apiKey: 0, minVersion: 3, maxVersion: 13 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ],
    throttleTime: 0,
    clientSideThrottleTime: 11,
  });
});

test('JoinGroup v5 both ways', async () => {
  const { request, response } = kafkajs('joinGroup', 5);
  const meta = Buffer.from([0, 1, 2, 3]);
  const m: JoinGroupRequest = await decodeKafkajsRequest(
    API_KEY.JoinGroup,
    request({
      groupId: 'g',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: meta }, { name: 'other' }],
    }),
  );
  assert.equal(m.groupId, 'g');
  assert.equal(m.sessionTimeoutMs, 30000);
  assert.equal(m.rebalanceTimeoutMs, 60000);
  assert.equal(m.memberId, '');
  assert.equal(m.groupInstanceId, null);
  assert.equal(m.protocolType, 'consumer');
  assert.deepEqual(
    m.protocols.map((p) => [p.name, [...p.metadata]]),
    [
      ['RoundRobinAssigner', [0, 1, 2, 3]],
      ['other', []],
    ],
  );
  const decoded = await decodeWithKafkajs(API_KEY.JoinGroup, 5, response, {
    throttleTimeMs: 0,
    errorCode: 0,
    generationId: 4,
    protocolName: 'RoundRobinAssigner',
    leader: 'm-1',
    memberId: 'm-2',
    members: [
      { memberId: 'm-1', groupInstanceId: null, metadata: meta },
      { memberId: 'm-2', groupInstanceId: 'static', metadata: Buffer.alloc(0) },
    ],
  });
  assert.deepEqual(decoded, {
    throttleTime: 0,
    clientSideThrottleTime: 0,
    errorCode: 0,
    generationId: 4,
    groupProtocol: 'RoundRobinAssigner',
    leaderId: 'm-1',
    memberId: 'm-2',
    members: [
      { memberId: 'm-1', groupInstanceId: null, memberMetadata: meta },
      { memberId: 'm-2', groupInstanceId: 'static', memberMetadata: Buffer.alloc(0) },
    ],
  });
});

test('ListOffsets v2 and v3 both ways', async () => {
  for (const v of [2, 3]) {
    const { request, response } = kafkajs('listOffsets', v);
    const m = await decodeKafkajsRequest(
      API_KEY.ListOffsets,
      request({
        replicaId: -1,
        isolationLevel: 1,
        topics: [{ topic: 't', partitions: [{ partition: 0, timestamp: -2 }, { partition: 1 }] }],
      }),
    );
    assert.equal(m.replicaId, -1);
    assert.equal(m.isolationLevel, 1);
    assert.deepEqual(
      m.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.timestamp])]),
      [
        [
          't',
          [
            [0, -2n],
            [1, -1n],
          ],
        ],
      ],
    );
    const decoded = await decodeWithKafkajs(API_KEY.ListOffsets, v, response, {
      throttleTimeMs: 0,
      topics: [
        {
          name: 't',
          partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 17n }],
        },
      ],
    });
    assert.deepEqual(decoded.responses, [
      { topic: 't', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '17' }] },
    ]);
  }
});

test('CreateTopics v2 and v3 both ways', async () => {
  for (const v of [2, 3]) {
    const { request, response } = kafkajs('createTopics', v);
    const m = await decodeKafkajsRequest(
      API_KEY.CreateTopics,
      request({
        timeout: 1234,
        validateOnly: true,
        topics: [
          {
            topic: 'new',
            numPartitions: 3,
            replicationFactor: 1,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
          { topic: 'assigned', replicaAssignment: [{ partition: 0, replicas: [0, 1] }] },
        ],
      }),
    );
    assert.equal(m.timeoutMs, 1234);
    assert.equal(m.validateOnly, true);
    assert.deepEqual(
      m.topics.map((t) => [
        t.name,
        t.numPartitions,
        t.replicationFactor,
        t.assignments.map((a) => [a.partitionIndex, a.brokerIds]),
        t.configs.map((c) => [c.name, c.value]),
      ]),
      [
        ['new', 3, 1, [], [['cleanup.policy', 'compact']]],
        ['assigned', -1, -1, [[0, [0, 1]]], []],
      ],
    );
    const decoded = await decodeWithKafkajs(API_KEY.CreateTopics, v, response, {
      throttleTimeMs: 0,
      topics: [
        { name: 'new', errorCode: 0, errorMessage: null },
        { name: 'bad', errorCode: 36, errorMessage: 'exists' },
      ],
    });
    assert.deepEqual(decoded.topicErrors, [
      { topic: 'bad', errorCode: 36, errorMessage: 'exists' },
      { topic: 'new', errorCode: 0, errorMessage: null },
    ]);
  }
});
