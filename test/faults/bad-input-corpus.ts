/**
 * The seed corpus of the bad-input fuzzer: one valid request of every API key the broker
 * serves, at every version it advertises, encoded with the generated codecs (the same encoders
 * clients' requests are checked against in test/protocol). Bodies are meaningful (real topic,
 * group and record batches), so that mutations reach the handlers rather than stopping at the
 * first field; anything the fuzzer could turn destructive is aimed at names the other clients of
 * the test never use.
 */
import { type ApiMessages, encodeRequestFrame } from '../../src/protocol/messages.js';
import { CompressionType, encodeRecordBatch } from '../../src/protocol/record-batch/index.js';

/** One valid request frame (with its size prefix), and what it is. */
export interface SeedRequest {
  apiKey: number;
  version: number;
  name: string;
  /** The whole frame: int32 size, header, body. */
  frame: Buffer;
  /** For Produce: the record batch inside, so that the fuzzer can mutate it and fix its CRC. */
  batch?: Buffer;
}

/** What the corpus needs to know about the broker it is built for. */
export interface CorpusTarget {
  /** The topic fuzzed requests may touch (Produce, Fetch, ListOffsets, configs). */
  topic: string;
  /** Its topic id (Produce v13 and Fetch v13+ name topics by id). */
  topicId: string;
  /** Served API keys and version ranges (from ApiVersions). */
  apis: readonly { apiKey: number; minVersion: number; maxVersion: number; name: string }[];
}

const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
] as const;

/** A record batch of `n` small records with keys, values and a header. */
export function seedBatch(n: number, compression: CompressionType, tag = 'seed'): Buffer {
  const now = Date.now();
  return encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({
      key: Buffer.from(`${tag}-k${i}`),
      value: Buffer.from(`${tag}-value-${i}-${'x'.repeat(i * 7)}`),
      timestamp: now + i,
      headers: [{ key: 'h', value: Buffer.from(String(i)) }],
    })),
    compression,
  });
}

/**
 * The request body for `apiKey`, as an object whose fields cover every version (the encoder
 * writes the fields a version has and ignores the rest). `variant` picks among a few shapes.
 */
function body(apiKey: number, t: CorpusTarget, variant: number, batch: Buffer): object {
  const topic = t.topic;
  const topicId = t.topicId;
  switch (apiKey) {
    case 0:
      return {
        transactionalId: null,
        acks: variant % 3 === 2 ? 0 : variant % 2 === 0 ? -1 : 1,
        timeoutMs: 5000,
        topicData: [{ name: topic, topicId, partitionData: [{ index: 0, records: batch }] }],
      };
    case 1:
      return {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: variant % 2,
        sessionId: 0,
        sessionEpoch: variant % 2 === 0 ? -1 : 0,
        topics: [
          {
            topic,
            topicId,
            partitions: [
              { partition: 0, fetchOffset: BigInt(variant), partitionMaxBytes: 64 << 10 },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      };
    case 2:
      return {
        replicaId: -1,
        isolationLevel: 0,
        topics: [
          {
            name: topic,
            partitions: [{ partitionIndex: 0, timestamp: variant % 2 === 0 ? -1n : -2n }],
          },
        ],
        timeoutMs: 1000,
      };
    case 3:
      return {
        topics: variant % 2 === 0 ? [{ name: topic, topicId: undefined }] : null,
        allowAutoTopicCreation: false,
      };
    case 8:
      return {
        groupId: 'fuzz-group',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: topic,
            topicId,
            partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: 'fuzz' }],
          },
        ],
      };
    case 9:
      return {
        groupId: 'fuzz-group',
        topics: [{ name: topic, partitionIndexes: [0] }],
        groups: [
          {
            groupId: 'fuzz-group',
            memberId: null,
            memberEpoch: -1,
            topics: [{ name: topic, topicId, partitionIndexes: [0] }],
          },
        ],
        requireStable: false,
      };
    case 10:
      return { key: 'fuzz-group', keyType: 0, coordinatorKeys: ['fuzz-group'] };
    case 11:
      return {
        groupId: `fuzz-join-${variant}`,
        sessionTimeoutMs: 6000,
        rebalanceTimeoutMs: 6000,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from([0, 1, 0, 0, 0, 0]) }],
        reason: null,
      };
    case 12:
      return { groupId: 'fuzz-group', generationId: 1, memberId: 'm-1', groupInstanceId: null };
    case 13:
      return {
        groupId: 'fuzz-group',
        memberId: 'm-1',
        members: [{ memberId: 'm-1', groupInstanceId: null, reason: null }],
      };
    case 14:
      return {
        groupId: 'fuzz-group',
        generationId: 1,
        memberId: 'm-1',
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [{ memberId: 'm-1', assignment: Buffer.from([0, 1, 0, 0, 0, 0]) }],
      };
    case 15:
      return { groups: ['fuzz-group'], includeAuthorizedOperations: false };
    case 16:
      return { statesFilter: [], typesFilter: [] };
    case 18:
      return { clientSoftwareName: 'brook-fuzz', clientSoftwareVersion: '1.0' };
    case 19:
      return {
        topics: [
          {
            name: `fuzz-new-${variant}`,
            numPartitions: 2,
            replicationFactor: 1,
            assignments: [],
            configs: [{ name: 'retention.ms', value: '60000' }],
          },
        ],
        timeoutMs: 1000,
        validateOnly: true,
      };
    case 20:
      return {
        topics: [{ name: 'fuzz-absent', topicId: '00000000-0000-0000-0000-000000000000' }],
        topicNames: ['fuzz-absent'],
        timeoutMs: 1000,
      };
    case 21:
      return {
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 0n }] }],
        timeoutMs: 1000,
      };
    case 22:
      return {
        transactionalId: null,
        transactionTimeoutMs: 60000,
        producerId: -1n,
        producerEpoch: -1,
      };
    case 32:
      return {
        resources: [
          { resourceType: 2, resourceName: topic, configurationKeys: null },
          { resourceType: 4, resourceName: '0', configurationKeys: ['log.retention.ms'] },
        ],
        includeSynonyms: true,
        includeDocumentation: true,
      };
    case 33:
      return {
        resources: [
          {
            resourceType: 2,
            resourceName: topic,
            configs: [{ name: 'retention.ms', value: '1000' }],
          },
        ],
        validateOnly: true,
      };
    case 35:
      return { topics: variant % 2 === 0 ? null : [{ topic, partitions: [0] }] };
    case 37:
      return {
        topics: [{ name: topic, count: 4, assignments: null }],
        timeoutMs: 1000,
        validateOnly: true,
      };
    case 42:
      return { groupsNames: ['fuzz-absent-group'] };
    case 44:
      return {
        resources: [
          {
            resourceType: 2,
            resourceName: topic,
            configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
          },
        ],
        validateOnly: true,
      };
    case 47:
      return {
        groupId: 'fuzz-group',
        topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }],
      };
    case 60:
      return { includeClusterAuthorizedOperations: false, endpointType: 1 };
    default:
      // A key served here but unknown to this corpus: its defaults still make a valid request.
      return {};
  }
}

/**
 * Every served (API key, version), encoded: two body variants each, and for Produce one per
 * compression codec. Throws if a served API key has no meaningful body here, so that a newly
 * served API is not silently fuzzed with an empty request only.
 */
export function buildCorpus(t: CorpusTarget): SeedRequest[] {
  const known = new Set([
    0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 32, 33, 35, 37, 42, 44, 47,
    60,
  ]);
  const out: SeedRequest[] = [];
  let correlationId = 1;
  for (const api of t.apis) {
    if (!known.has(api.apiKey)) {
      throw new Error(`the fuzz corpus has no request body for served API key ${api.apiKey}`);
    }
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      const variants = api.apiKey === 0 ? CODECS.length : 2;
      for (let variant = 0; variant < variants; variant++) {
        const batch = api.apiKey === 0 ? seedBatch(3, CODECS[variant], `v${v}`) : undefined;
        const frame = encodeForVersion(
          api.apiKey,
          v,
          correlationId++,
          variant === 0 ? 'brook-fuzz' : null,
          body(api.apiKey, t, variant, batch ?? Buffer.alloc(0)),
        );
        out.push({
          apiKey: api.apiKey,
          version: v,
          name: api.name,
          frame: Buffer.from(frame),
          batch,
        });
      }
    }
  }
  return out;
}

/** Deletes `key` from `value` and every object inside it. */
function dropField(value: unknown, key: string): void {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  if (Array.isArray(value)) {
    for (const v of value) dropField(v, key);
    return;
  }
  const obj = value as Record<string, unknown>;
  delete obj[key];
  for (const v of Object.values(obj)) dropField(v, key);
}

/** Sets `key` to `replacement` wherever it holds null in `value`. */
function replaceNull(value: unknown, key: string, replacement: unknown): void {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  if (Array.isArray(value)) {
    for (const v of value) replaceNull(v, key, replacement);
    return;
  }
  const obj = value as Record<string, unknown>;
  if (obj[key] === null) obj[key] = replacement;
  for (const v of Object.values(obj)) replaceNull(v, key, replacement);
}

/**
 * Encodes `request` at `version`. The bodies above carry the fields of every version; the
 * encoder refuses a field a version lacks (unless ignorable) when it holds a non-default value,
 * so such a field is dropped (back to its default) and the encoding retried.
 */
function encodeForVersion(
  apiKey: number,
  version: number,
  correlationId: number,
  clientId: string | null,
  request: object,
): Buffer {
  for (let attempt = 0; ; attempt++) {
    try {
      return encodeRequestFrame(
        apiKey as keyof ApiMessages,
        version,
        correlationId,
        clientId,
        request as never,
      );
    } catch (err) {
      const message = (err as Error).message;
      const absent = /\.(\w+) is not in version/.exec(message)?.[1];
      const notNull = /\.(\w+) is not nullable/.exec(message)?.[1];
      if ((absent === undefined && notNull === undefined) || attempt > 20) throw err;
      if (absent !== undefined) dropField(request, absent);
      // A null list where a version has none: the empty list means the same (e.g. all topics).
      if (notNull !== undefined) replaceNull(request, notNull, []);
    }
  }
}
