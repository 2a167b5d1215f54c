import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  API_KEY,
  API_KEYS,
  API_SPECS,
  apiKeyName,
  apiSpec,
  decodeApiVersionsResponse,
  decodeFetchRequest,
  decodeMetadataRequest,
  decodeProduceRequest,
  EncodeError,
  encodeApiVersionsResponse,
  encodeFetchRequest,
  encodeMetadataRequest,
  encodeRequestFrame,
  encodeResponseFrame,
  readRequest,
  readRequestHeader,
  readResponse,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../src/protocol/messages.js';
import { DecodeError, Reader, Writer } from '../../src/protocol/primitives/index.js';

const UUID = '0123abcd-4567-89ef-0123-456789abcdef';
/** The FetchRequest fields present in every version. */
const FETCH = { maxWaitMs: 0, minBytes: 0, topics: [] };

function encoded(fn: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  fn(w);
  return Buffer.from(w.finish());
}

test('an ignorable field the version lacks is dropped silently', () => {
  const bytes = encoded((w) =>
    encodeMetadataRequest(w, { topics: [{ name: 'a', topicId: UUID }] }, 9),
  );
  const m = decodeMetadataRequest(new Reader(bytes), 9);
  assert.equal(m.topics?.[0].name, 'a');
  assert.equal(m.topics?.[0].topicId, '00000000-0000-0000-0000-000000000000');
});

test('a non-ignorable field the version lacks is an EncodeError unless it holds its default', () => {
  const w = new Writer();
  assert.throws(
    () => encodeMetadataRequest(w, { topics: [], allowAutoTopicCreation: false }, 3),
    EncodeError,
  );
  encodeMetadataRequest(new Writer(), { topics: [], allowAutoTopicCreation: true }, 3);
  // ReplicaId exists up to v14; ReplicaState (tagged, not ignorable) from v15.
  assert.throws(
    () => encodeFetchRequest(new Writer(), { ...FETCH, replicaId: 3 }, 15),
    EncodeError,
  );
  encodeFetchRequest(new Writer(), { ...FETCH, replicaId: -1 }, 15);
  assert.throws(
    () => encodeFetchRequest(new Writer(), { ...FETCH, replicaState: { replicaId: 1 } }, 14),
    EncodeError,
  );
  encodeFetchRequest(
    new Writer(),
    { ...FETCH, replicaState: { replicaId: -1, replicaEpoch: -1n } },
    14,
  );
  // Tagged and ignorable: dropped.
  encodeFetchRequest(new Writer(), { ...FETCH, clusterId: 'c' }, 11);
});

test('null is an EncodeError where the version does not allow it', () => {
  assert.throws(() => encodeMetadataRequest(new Writer(), { topics: null }, 0), EncodeError);
  const bytes = encoded((w) => encodeMetadataRequest(w, { topics: null }, 1));
  assert.equal(decodeMetadataRequest(new Reader(bytes), 1).topics, null);
});

test('versions outside the spec are rejected on both sides', () => {
  assert.throws(() => encodeProduceRequestAt(2), EncodeError);
  assert.throws(() => encodeProduceRequestAt(14), EncodeError);
  assert.throws(() => decodeProduceRequest(new Reader(Buffer.alloc(64)), 2), DecodeError);
});

function encodeProduceRequestAt(version: number): void {
  API_SPECS[0].encodeRequest(new Writer(), { acks: 1, timeoutMs: 1, topicData: [] }, version);
}

test('tagged fields are written in tag order, interleaved with unknown ones, and survive sizes past 127', () => {
  const supportedFeatures = Array.from({ length: 20 }, (_, i) => ({
    name: `feature-${i}`,
    minVersion: 0,
    maxVersion: i,
  }));
  const message = {
    errorCode: 0,
    apiKeys: [],
    throttleTimeMs: 5,
    supportedFeatures,
    finalizedFeaturesEpoch: 7n,
    zkMigrationReady: true,
    _unknownTaggedFields: [
      { tag: 4, data: Buffer.from([1, 2]) },
      { tag: 900, data: Buffer.alloc(200, 9) },
    ],
  };
  const bytes = encoded((w) => encodeApiVersionsResponse(w, message, 3));
  // errorCode (2) + empty compact array (1) + throttle (4), then the tagged section: read it with
  // the primitive reader, which insists on ascending tags.
  const section = new Reader(bytes, 7).taggedFields() ?? [];
  assert.deepEqual(
    section.map((f) => f.tag),
    [0, 1, 3, 4, 900],
  );
  const decoded = decodeApiVersionsResponse(new Reader(bytes), 3);
  assert.equal(decoded.supportedFeatures.length, 20);
  assert.equal(decoded.supportedFeatures[19].name, 'feature-19');
  assert.equal(decoded.finalizedFeaturesEpoch, 7n);
  assert.equal(decoded.zkMigrationReady, true);
  assert.equal(decoded.finalizedFeatures.length, 0);
  assert.deepEqual(decoded._unknownTaggedFields, message._unknownTaggedFields);
  // Defaults are not written: a message of defaults has an empty tagged section.
  const plain = encoded((w) => encodeApiVersionsResponse(w, { errorCode: 0, apiKeys: [] }, 3));
  assert.equal(plain.length, 8);
  assert.equal(plain[7], 0);
});

test('a known tag in a version that does not know it is kept as unknown', () => {
  // FetchRequest tag 1 (ReplicaState) is defined from v15; at v12 it is an unknown tag.
  const base = encoded((w) => encodeFetchRequest(w, { ...FETCH, rackId: 'r' }, 12));
  assert.equal(base[base.length - 1], 0);
  const withTag = Buffer.concat([
    base.subarray(0, base.length - 1),
    Buffer.from([1, 1, 2, 0xab, 0xcd]),
  ]);
  const m = decodeFetchRequest(new Reader(withTag), 12);
  assert.deepEqual(m._unknownTaggedFields, [{ tag: 1, data: Buffer.from([0xab, 0xcd]) }]);
  assert.deepEqual(
    encoded((w) => encodeFetchRequest(w, m, 12)),
    withTag,
  );
});

test('malformed bodies raise DecodeError', () => {
  const valid = encoded((w) =>
    API_SPECS[0].encodeRequest(
      w,
      {
        transactionalId: null,
        acks: -1,
        timeoutMs: 100,
        topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(10) }] }],
      },
      7,
    ),
  );
  const cases: [string, Buffer, number][] = [
    ['truncated', valid.subarray(0, valid.length - 3), 7],
    ['empty', Buffer.alloc(0), 7],
    // transactionalId null (2) + acks (2) + timeout (4), then the topic array count.
    ['absurd array count', patch(valid, 8, [0x7f, 0xff, 0xff, 0xff]), 7],
    ['negative array count', patch(valid, 8, [0xff, 0xff, 0xff, 0xfb]), 7],
    ['null non-nullable array', patch(valid, 8, [0xff, 0xff, 0xff, 0xff]), 7],
    ['negative string length', patch(valid, 12, [0xff, 0xfe]), 7],
    ['string past the end', patch(valid, 12, [0x7f, 0xff]), 7],
    ['records length past the end', patch(valid, valid.length - 14, [0x00, 0x10, 0x00, 0x00]), 7],
    ['invalid varint', Buffer.from([0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), 9],
    [
      'compact count 2^32-1',
      Buffer.from([0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      9,
    ],
    [
      'tagged size past the end',
      Buffer.from([0x00, 0xff, 0xff, 0, 0, 0, 0, 0x01, 0x01, 0x05, 0x50, 0x01]),
      9,
    ],
    ['absurd tag count', Buffer.from([0x00, 0xff, 0xff, 0, 0, 0, 0, 0x01, 0xff, 0xff, 0x7f]), 9],
  ];
  for (const [name, bytes, v] of cases) {
    assert.throws(() => decodeProduceRequest(new Reader(bytes), v), DecodeError, name);
  }
  // A known tagged field whose declared size disagrees with its content.
  const fetch = encoded((w) => encodeFetchRequest(w, { ...FETCH }, 12));
  const badTag = Buffer.concat([
    fetch.subarray(0, fetch.length - 1),
    Buffer.from([1, 0, 3, 1, 0x61, 0]),
  ]);
  assert.throws(() => decodeFetchRequest(new Reader(badTag), 12), DecodeError);
});

function patch(src: Buffer, at: number, bytes: number[]): Buffer {
  const b = Buffer.from(src);
  Buffer.from(bytes).copy(b, at);
  return b;
}

test('header versions follow the flexible versions; ApiVersions responses always use v0', () => {
  assert.equal(requestHeaderVersion(API_KEY.Produce, 8), 1);
  assert.equal(requestHeaderVersion(API_KEY.Produce, 9), 2);
  assert.equal(responseHeaderVersion(API_KEY.Produce, 8), 0);
  assert.equal(responseHeaderVersion(API_KEY.Produce, 9), 1);
  assert.equal(requestHeaderVersion(API_KEY.ApiVersions, 3), 2);
  assert.equal(responseHeaderVersion(API_KEY.ApiVersions, 3), 0);
  assert.equal(requestHeaderVersion(API_KEY.ApiVersions, 99), 2);
  assert.equal(requestHeaderVersion(7, 0), 1);
  assert.equal(requestHeaderVersion(9999, 0), 1);
});

test('request frames round-trip; ClientId stays a classic nullable string in header v2', () => {
  const frame = encodeRequestFrame(API_KEY.Metadata, 12, 99, 'client-é', {
    topics: [{ name: 't', topicId: UUID }],
  });
  assert.equal(frame.readInt32BE(0), frame.length - 4);
  const body = frame.subarray(4);
  // apiKey, version, correlation id, then int16 length 9 ("client-é" is 9 UTF-8 bytes).
  assert.equal(body.readInt16BE(8), 9);
  const h = readRequestHeader(body);
  assert.deepEqual(
    [h.apiKey, h.apiVersion, h.correlationId, h.clientId, h.headerVersion],
    [3, 12, 99, 'client-é', 2],
  );
  assert.equal(body[h.bodyOffset - 1], 0, 'empty tagged section ends header v2');
  const { body: m } = readRequest(body);
  assert.deepEqual(m, decodeMetadataRequest(new Reader(body, h.bodyOffset), 12));
  const nullClient = encodeRequestFrame(API_KEY.Produce, 7, 1, null, {
    acks: 1,
    timeoutMs: 1,
    topicData: [],
  });
  assert.equal(readRequestHeader(nullClient.subarray(4)).clientId, null);
  // Trailing bytes after a body are a framing error.
  assert.throws(() => readRequest(Buffer.concat([body, Buffer.from([0])])), DecodeError);
  // An unknown API key or version still yields the header, and no body.
  const unknown = Buffer.from([0x27, 0x0f, 0, 0, 0, 0, 0, 5, 0xff, 0xff]);
  const r = readRequest(unknown);
  assert.equal(r.header.correlationId, 5);
  assert.equal(r.body, undefined);
});

test('response frames carry header v0 or v1 as the API version requires', () => {
  const v0 = encodeResponseFrame(API_KEY.ApiVersions, 3, 12, { errorCode: 35, apiKeys: [] });
  // size, correlation id, then the body directly: no tagged byte for ApiVersions.
  assert.equal(v0.readInt32BE(4), 12);
  assert.equal(v0.readInt16BE(8), 35);
  const v1 = encodeResponseFrame(API_KEY.Metadata, 12, 13, { brokers: [], topics: [] });
  assert.equal(v1.readInt32BE(4), 13);
  assert.equal(v1[8], 0, 'empty tagged section of response header v1');
  const back = readResponse(v1.subarray(4), API_KEY.Metadata, 12);
  assert.equal(back.correlationId, 13);
  assert.deepEqual(back.body.brokers, []);
  const w = new Writer(8);
  const first = Buffer.from(
    encodeResponseFrame(API_KEY.ApiVersions, 0, 1, { errorCode: 0, apiKeys: [] }, w),
  );
  assert.equal(first.readInt32BE(0), first.length - 4);
});

test('an ApiVersions response the broker sent as v0 (KIP-511) is read at v0', () => {
  // A broker that does not know v4 answers with a v0 body: UNSUPPORTED_VERSION and its range.
  const frame = encodeResponseFrame(API_KEY.ApiVersions, 0, 9, {
    errorCode: 35,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 2 }],
  });
  const { correlationId, body } = readResponse(frame.subarray(4), API_KEY.ApiVersions, 4);
  assert.equal(correlationId, 9);
  assert.equal(body.errorCode, 35);
  assert.deepEqual(
    body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
    [[18, 0, 2]],
  );
  // Other APIs get no such second chance.
  const md = encodeResponseFrame(API_KEY.Metadata, 1, 9, { brokers: [], topics: [] });
  assert.throws(() => readResponse(md.subarray(4), API_KEY.Metadata, 9), DecodeError);
});

test('the API key table matches the specification', () => {
  const produce = API_KEYS.find((a) => a.apiKey === 0);
  assert.deepEqual(produce, {
    name: 'Produce',
    apiKey: 0,
    minVersion: 3,
    maxVersion: 13,
    flexibleFrom: 9,
    latestVersionUnstable: false,
    listeners: ['broker'],
  });
  // KRaft-only APIs are marked as such, so a broker can leave them out of ApiVersions.
  assert.deepEqual(API_KEYS.find((a) => a.name === 'Vote')?.listeners, ['controller']);
  assert.equal(apiKeyName(18), 'ApiVersions');
  assert.equal(apiKeyName(4), 'Unknown(4)');
  for (const removed of [4, 5, 6, 7]) assert.equal(apiSpec(removed), undefined);
  assert.ok(API_KEYS.length > 80);
  for (let i = 1; i < API_KEYS.length; i++) assert.ok(API_KEYS[i - 1].apiKey < API_KEYS[i].apiKey);
  assert.equal(apiSpec(1)?.name, 'Fetch');
});
