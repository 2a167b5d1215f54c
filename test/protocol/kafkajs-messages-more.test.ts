/**
 * More cross-checks against kafkajs 2.2.4, table-driven. For every kafkajs request: our decoder
 * reads it, and our encoder writes back exactly the bytes kafkajs wrote (so every field was read
 * at the right place and width). For responses: kafkajs's decoders read what our encoders write.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  API_KEY,
  API_SPECS,
  type ApiMessages,
  encodeResponseFrame,
  readRequest,
} from '../../src/protocol/messages.js';
import { Writer } from '../../src/protocol/primitives/index.js';
import { type KafkajsRequest, kafkajs, kafkajsFrame } from './kafkajs-internals.js';

function kafkajsRequest(api: string, version: number, args: unknown): KafkajsRequest {
  return kafkajs(api, version).request(args as Record<string, unknown>);
}

function kafkajsDecode(
  api: string,
  version: number,
  payload: Buffer,
): Promise<Record<string, unknown>> {
  return kafkajs(api, version).response.decode(payload);
}

const ACL = {
  resourceType: 2,
  resourceName: 'topic-a',
  resourcePatternType: 3,
  principal: 'User:alice',
  host: '*',
  operation: 3,
  permissionType: 3,
};

/** [kafkajs folder, version, API key, kafkajs arguments, checks on our decoded body]. */
const REQUESTS: [
  string,
  number,
  keyof ApiMessages,
  unknown,
  (body: Record<string, unknown>) => void,
][] = [
  [
    'produce',
    7,
    API_KEY.Produce,
    {
      acks: 1,
      timeout: 100,
      topicData: [
        { topic: 't', partitions: [{ partition: 2, messages: [{ key: 'k', value: 'v' }] }] },
      ],
    },
    (b) => assert.equal(b.acks, 1),
  ],
  [
    'fetch',
    11,
    API_KEY.Fetch,
    {
      replicaId: -1,
      maxWaitTime: 10,
      minBytes: 1,
      maxBytes: 1000,
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: '5', maxBytes: 100 }] }],
    },
    (b) => assert.equal(b.maxWaitMs, 10),
  ],
  ['metadata', 6, API_KEY.Metadata, { topics: ['a'], allowAutoTopicCreation: true }, () => {}],
  ['apiVersions', 2, API_KEY.ApiVersions, {}, () => {}],
  [
    'listOffsets',
    3,
    API_KEY.ListOffsets,
    {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 't', partitions: [{ partition: 1, timestamp: -2 }] }],
    },
    (b) => assert.equal(b.isolationLevel, 1),
  ],
  [
    'createTopics',
    3,
    API_KEY.CreateTopics,
    {
      topics: [{ topic: 'n', numPartitions: 2, replicationFactor: 1 }],
      timeout: 10,
      validateOnly: false,
    },
    (b) => assert.equal(b.timeoutMs, 10),
  ],
  [
    'joinGroup',
    5,
    API_KEY.JoinGroup,
    {
      groupId: 'g',
      sessionTimeout: 1,
      rebalanceTimeout: 2,
      memberId: 'm',
      groupInstanceId: 'i',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'p', metadata: Buffer.from([1]) }],
    },
    (b) => assert.equal(b.groupInstanceId, 'i'),
  ],
  [
    'findCoordinator',
    2,
    API_KEY.FindCoordinator,
    { coordinatorKey: 'group-1', coordinatorType: 1 },
    (b) => {
      assert.equal(b.key, 'group-1');
      assert.equal(b.keyType, 1);
    },
  ],
  [
    'heartbeat',
    3,
    API_KEY.Heartbeat,
    { groupId: 'g', groupGenerationId: 7, memberId: 'm', groupInstanceId: null },
    (b) => {
      assert.equal(b.generationId, 7);
      assert.equal(b.groupInstanceId, null);
    },
  ],
  [
    'syncGroup',
    3,
    API_KEY.SyncGroup,
    {
      groupId: 'g',
      generationId: 3,
      memberId: 'm',
      groupAssignment: [{ memberId: 'm', memberAssignment: Buffer.from([9, 9]) }],
    },
    (b) => {
      const a = b.assignments as { memberId: string; assignment: Buffer }[];
      assert.deepEqual([...a[0].assignment], [9, 9]);
    },
  ],
  [
    'offsetCommit',
    5,
    API_KEY.OffsetCommit,
    {
      groupId: 'g',
      groupGenerationId: 4,
      memberId: 'm',
      topics: [{ topic: 't', partitions: [{ partition: 0, offset: '123', metadata: 'md' }] }],
    },
    (b) => {
      const t = b.topics as {
        partitions: { committedOffset: bigint; committedMetadata: string }[];
      }[];
      assert.equal(t[0].partitions[0].committedOffset, 123n);
      assert.equal(t[0].partitions[0].committedMetadata, 'md');
    },
  ],
  [
    'offsetFetch',
    4,
    API_KEY.OffsetFetch,
    { groupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0 }, { partition: 5 }] }] },
    (b) => {
      const t = b.topics as { name: string; partitionIndexes: number[] }[];
      assert.deepEqual(t[0].partitionIndexes, [0, 5]);
    },
  ],
  [
    'describeGroups',
    2,
    API_KEY.DescribeGroups,
    { groupIds: ['a', 'b'] },
    (b) => assert.deepEqual(b.groups, ['a', 'b']),
  ],
  [
    'initProducerId',
    1,
    API_KEY.InitProducerId,
    { transactionalId: 'tx', transactionTimeout: 60000 },
    (b) => assert.equal(b.transactionTimeoutMs, 60000),
  ],
  [
    'saslHandshake',
    1,
    API_KEY.SaslHandshake,
    { mechanism: 'PLAIN' },
    (b) => assert.equal(b.mechanism, 'PLAIN'),
  ],
  [
    'deleteTopics',
    1,
    API_KEY.DeleteTopics,
    { topics: ['x', 'y'], timeout: 77 },
    (b) => assert.deepEqual(b.topicNames, ['x', 'y']),
  ],
  ['listGroups', 2, API_KEY.ListGroups, {}, () => {}],
  [
    'describeConfigs',
    2,
    API_KEY.DescribeConfigs,
    { resources: [{ type: 2, name: 't', configNames: ['retention.ms'] }], includeSynonyms: true },
    (b) => assert.equal(b.includeSynonyms, true),
  ],
  [
    'alterConfigs',
    1,
    API_KEY.AlterConfigs,
    {
      resources: [{ type: 2, name: 't', configEntries: [{ name: 'retention.ms', value: '1000' }] }],
      validateOnly: true,
    },
    (b) => assert.equal(b.validateOnly, true),
  ],
  [
    'createPartitions',
    1,
    API_KEY.CreatePartitions,
    {
      topicPartitions: [{ topic: 't', count: 4, assignments: [[0], [1]] }],
      timeout: 9,
      validateOnly: false,
    },
    (b) => assert.equal(b.timeoutMs, 9),
  ],
  [
    'deleteRecords',
    1,
    API_KEY.DeleteRecords,
    { topics: [{ topic: 't', partitions: [{ partition: 0, offset: '10' }] }], timeout: 8 },
    (b) => assert.equal(b.timeoutMs, 8),
  ],
  [
    'addPartitionsToTxn',
    1,
    API_KEY.AddPartitionsToTxn,
    {
      transactionalId: 'tx',
      producerId: '5',
      producerEpoch: 1,
      topics: [{ topic: 't', partitions: [0, 1] }],
    },
    (b) => assert.equal(b.v3AndBelowTransactionalId, 'tx'),
  ],
  [
    'addOffsetsToTxn',
    1,
    API_KEY.AddOffsetsToTxn,
    { transactionalId: 'tx', producerId: '5', producerEpoch: 1, groupId: 'g' },
    (b) => assert.equal(b.producerId, 5n),
  ],
  [
    'endTxn',
    1,
    API_KEY.EndTxn,
    { transactionalId: 'tx', producerId: '5', producerEpoch: 1, transactionResult: true },
    (b) => assert.equal(b.committed, true),
  ],
  [
    'saslAuthenticate',
    1,
    API_KEY.SaslAuthenticate,
    // kafkajs's SASL mechanisms hand over the bytes already length-prefixed.
    { authBytes: Buffer.from('0000000a00757365720070617373', 'hex') },
    (b) => assert.equal((b.authBytes as Buffer).toString(), '\0user\0pass'),
  ],
  [
    'leaveGroup',
    3,
    API_KEY.LeaveGroup,
    { groupId: 'g', members: [{ memberId: 'm1' }, { memberId: 'm2', groupInstanceId: 'i2' }] },
    (b) => assert.equal((b.members as unknown[]).length, 2),
  ],
  [
    'describeAcls',
    1,
    API_KEY.DescribeAcls,
    ACL,
    (b) => assert.equal(b.principalFilter, 'User:alice'),
  ],
  ['createAcls', 1, API_KEY.CreateAcls, { creations: [ACL] }, () => {}],
  ['deleteAcls', 1, API_KEY.DeleteAcls, { filters: [ACL] }, () => {}],
  // kafkajs writes these two in the flexible encoding (and the header's tagged-field byte).
  [
    'listPartitionReassignments',
    0,
    API_KEY.ListPartitionReassignments,
    { topics: [{ topic: 't', partitions: [0, 2] }], timeout: 7 },
    (b) => assert.equal(b.timeoutMs, 7),
  ],
  [
    'alterPartitionReassignments',
    0,
    API_KEY.AlterPartitionReassignments,
    {
      topics: [{ topic: 't', partitionAssignment: [{ partition: 0, replicas: [1, 2] }] }],
      timeout: 6,
    },
    (b) => assert.equal(b.timeoutMs, 6),
  ],
];

test('kafkajs requests decode, and re-encode to the very bytes kafkajs wrote', async () => {
  for (const [api, version, apiKey, args, check] of REQUESTS) {
    const req = kafkajsRequest(api, version, args);
    const frame = (
      await kafkajsFrame({ correlationId: 1, clientId: 'c', request: req })
    ).buffer.subarray(4);
    const { header, body } = readRequest(frame);
    assert.equal(header.apiKey, apiKey, api);
    assert.ok(body, `${api} v${version}`);
    check(body as Record<string, unknown>);
    const w = new Writer(64);
    API_SPECS[apiKey].encodeRequest(w, body as never, version);
    assert.deepEqual(w.finish(), frame.subarray(header.bodyOffset), `${api} v${version} bytes`);
  }
});

async function viaKafkajs<K extends keyof ApiMessages>(
  api: string,
  apiKey: K,
  version: number,
  response: ApiMessages[K]['response'],
): Promise<Record<string, unknown>> {
  const frame = encodeResponseFrame(apiKey, version, 5, response);
  return kafkajsDecode(api, version, Buffer.from(frame.subarray(8)));
}

test('kafkajs decodes our group, coordinator, producer id, SASL and admin responses', async () => {
  assert.deepEqual(
    await viaKafkajs('findCoordinator', API_KEY.FindCoordinator, 2, {
      throttleTimeMs: 1,
      errorCode: 0,
      errorMessage: null,
      nodeId: 0,
      host: '127.0.0.1',
      port: 9092,
    }),
    {
      throttleTime: 0,
      clientSideThrottleTime: 1,
      errorCode: 0,
      errorMessage: null,
      coordinator: { nodeId: 0, host: '127.0.0.1', port: 9092 },
    },
  );
  assert.deepEqual(
    await viaKafkajs('heartbeat', API_KEY.Heartbeat, 3, { throttleTimeMs: 2, errorCode: 27 }),
    { throttleTime: 0, clientSideThrottleTime: 2, errorCode: 27 },
  );
  assert.deepEqual(
    await viaKafkajs('syncGroup', API_KEY.SyncGroup, 3, {
      throttleTimeMs: 0,
      errorCode: 0,
      assignment: Buffer.from([1, 2, 3]),
    }),
    {
      throttleTime: 0,
      clientSideThrottleTime: 0,
      errorCode: 0,
      memberAssignment: Buffer.from([1, 2, 3]),
    },
  );
  assert.deepEqual(
    await viaKafkajs('offsetCommit', API_KEY.OffsetCommit, 5, {
      throttleTimeMs: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 22 },
          ],
        },
      ],
    }),
    {
      throttleTime: 0,
      clientSideThrottleTime: 0,
      responses: [
        {
          topic: 't',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: 22 },
          ],
        },
      ],
    },
  );
  assert.deepEqual(
    await viaKafkajs('offsetFetch', API_KEY.OffsetFetch, 4, {
      throttleTimeMs: 0,
      topics: [
        {
          name: 't',
          partitions: [{ partitionIndex: 0, committedOffset: 42n, metadata: 'md', errorCode: 0 }],
        },
      ],
      errorCode: 0,
    }),
    {
      throttleTime: 0,
      clientSideThrottleTime: 0,
      responses: [
        { topic: 't', partitions: [{ partition: 0, offset: '42', metadata: 'md', errorCode: 0 }] },
      ],
      errorCode: 0,
    },
  );
  const described = await viaKafkajs('describeGroups', API_KEY.DescribeGroups, 2, {
    throttleTimeMs: 0,
    groups: [
      {
        errorCode: 0,
        groupId: 'g',
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'range',
        members: [
          {
            memberId: 'm',
            clientId: 'c',
            clientHost: '/127.0.0.1',
            memberMetadata: Buffer.from([1]),
            memberAssignment: Buffer.from([2]),
          },
        ],
      },
    ],
  });
  assert.deepEqual(described.groups, [
    {
      errorCode: 0,
      groupId: 'g',
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'range',
      members: [
        {
          memberId: 'm',
          clientId: 'c',
          clientHost: '/127.0.0.1',
          memberMetadata: Buffer.from([1]),
          memberAssignment: Buffer.from([2]),
        },
      ],
    },
  ]);
  assert.deepEqual(
    await viaKafkajs('initProducerId', API_KEY.InitProducerId, 1, {
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 1000n,
      producerEpoch: 3,
    }),
    {
      throttleTime: 0,
      clientSideThrottleTime: 0,
      errorCode: 0,
      producerId: '1000',
      producerEpoch: 3,
    },
  );
  assert.deepEqual(
    await viaKafkajs('saslHandshake', API_KEY.SaslHandshake, 1, {
      errorCode: 0,
      mechanisms: ['PLAIN', 'SCRAM-SHA-256'],
    }),
    { errorCode: 0, enabledMechanisms: ['PLAIN', 'SCRAM-SHA-256'] },
  );
  assert.deepEqual(
    await viaKafkajs('deleteTopics', API_KEY.DeleteTopics, 1, {
      throttleTimeMs: 0,
      responses: [
        { name: 'y', errorCode: 3 },
        { name: 'x', errorCode: 0 },
      ],
    }),
    {
      throttleTime: 0,
      clientSideThrottleTime: 0,
      topicErrors: [
        { topic: 'x', errorCode: 0 },
        { topic: 'y', errorCode: 3 },
      ],
    },
  );
  assert.deepEqual(
    await viaKafkajs('listGroups', API_KEY.ListGroups, 2, {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [{ groupId: 'g', protocolType: 'consumer' }],
    }),
    {
      throttleTime: 0,
      clientSideThrottleTime: 0,
      errorCode: 0,
      groups: [{ groupId: 'g', protocolType: 'consumer' }],
    },
  );
});
