import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeOffsetsTopicRecord,
  type GroupMetadataValue,
  groupMetadataKey,
  groupMetadataValue,
  type OffsetCommitValue,
  offsetCommitKey,
  offsetCommitValue,
} from '../../src/broker/groups/records.js';
import { DecodeError } from '../../src/protocol/primitives/index.js';

// Bytes written by the hand-written encoder this module had before it moved onto the generated
// codecs: data in existing __consumer_offsets partitions looks like this, so the encoder must keep
// writing exactly these bytes and the decoder must keep reading them.
const FIXTURES = {
  offsetKey: '0001000a6f72646572732d61707000066f726465727300000005',
  groupKey: '0002000a6f72646572732d617070',
  offsetValue: '00030000011f71fb04cb0000000700046d6574610000019ab697e800',
  offsetValueNoEpoch: '00030000000000000000ffffffff00000000000000000001',
  groupValue:
    '00030008636f6e73756d657200000003000572616e676500036d2d310000019ab697e8010000000200036d2d31ffff00026331000a2f3132372e302e302e310000ea60000075300000000300010200000002090800036d2d3200087374617469632d3200026332000a2f3132372e302e302e3100000bb8000027100000000000000000',
  emptyGroupValue: '00030008636f6e73756d657200000000ffffffffffffffffffffffff00000000',
};

const offset: OffsetCommitValue = {
  offset: 1234567890123,
  leaderEpoch: 7,
  metadata: 'meta',
  commitTimestamp: 1764000000000,
  expireTimestamp: -1,
};
const offsetNoEpoch: OffsetCommitValue = {
  offset: 0,
  leaderEpoch: -1,
  metadata: '',
  commitTimestamp: 1,
  expireTimestamp: -1,
};
const group: GroupMetadataValue = {
  protocolType: 'consumer',
  generation: 3,
  protocol: 'range',
  leader: 'm-1',
  currentStateTimestamp: 1764000000001,
  members: [
    {
      memberId: 'm-1',
      groupInstanceId: null,
      clientId: 'c1',
      clientHost: '/127.0.0.1',
      rebalanceTimeout: 60000,
      sessionTimeout: 30000,
      subscription: Buffer.from([0, 1, 2]),
      assignment: Buffer.from([9, 8]),
    },
    {
      memberId: 'm-2',
      groupInstanceId: 'static-2',
      clientId: 'c2',
      clientHost: '/127.0.0.1',
      rebalanceTimeout: 3000,
      sessionTimeout: 10000,
      subscription: Buffer.alloc(0),
      assignment: Buffer.alloc(0),
    },
  ],
};
const emptyGroup: GroupMetadataValue = {
  protocolType: 'consumer',
  generation: 0,
  protocol: null,
  leader: null,
  currentStateTimestamp: -1,
  members: [],
};

const hex = (b: Buffer) => b.toString('hex');
const bytes = (h: string) => Buffer.from(h, 'hex');

describe('__consumer_offsets records keep their bytes', () => {
  test('keys and values encode to the bytes earlier versions wrote', () => {
    assert.equal(hex(offsetCommitKey('orders-app', 'orders', 5)), FIXTURES.offsetKey);
    assert.equal(hex(groupMetadataKey('orders-app')), FIXTURES.groupKey);
    assert.equal(hex(offsetCommitValue(offset)), FIXTURES.offsetValue);
    assert.equal(hex(offsetCommitValue(offsetNoEpoch)), FIXTURES.offsetValueNoEpoch);
    assert.equal(hex(groupMetadataValue(group)), FIXTURES.groupValue);
    assert.equal(hex(groupMetadataValue(emptyGroup)), FIXTURES.emptyGroupValue);
  });

  test('records written by earlier versions decode to what was written', () => {
    assert.deepEqual(
      decodeOffsetsTopicRecord(bytes(FIXTURES.offsetKey), bytes(FIXTURES.offsetValue)),
      { type: 'offset', group: 'orders-app', topic: 'orders', partition: 5, value: offset },
    );
    assert.deepEqual(
      decodeOffsetsTopicRecord(bytes(FIXTURES.offsetKey), bytes(FIXTURES.offsetValueNoEpoch)),
      { type: 'offset', group: 'orders-app', topic: 'orders', partition: 5, value: offsetNoEpoch },
    );
    assert.deepEqual(
      decodeOffsetsTopicRecord(bytes(FIXTURES.groupKey), bytes(FIXTURES.groupValue)),
      { type: 'group', group: 'orders-app', value: group },
    );
    assert.deepEqual(
      decodeOffsetsTopicRecord(bytes(FIXTURES.groupKey), bytes(FIXTURES.emptyGroupValue)),
      { type: 'group', group: 'orders-app', value: emptyGroup },
    );
    assert.deepEqual(decodeOffsetsTopicRecord(bytes(FIXTURES.offsetKey), null), {
      type: 'offset',
      group: 'orders-app',
      topic: 'orders',
      partition: 5,
      value: null,
    });
  });

  test('older and flexible value versions and the legacy key type, as Kafka writes them', () => {
    // Legacy key (type 0) with an OffsetCommitValue v1 carrying an explicit expiry.
    const legacyKey = '0000' + '000167' + '000174' + '00000002';
    const v1 = '0001' + '000000000000000a' + '0000' + '0000000000000064' + '00000000000003e8';
    assert.deepEqual(decodeOffsetsTopicRecord(bytes(legacyKey), bytes(v1)), {
      type: 'offset',
      group: 'g',
      topic: 't',
      partition: 2,
      value: {
        offset: 10,
        leaderEpoch: -1,
        metadata: '',
        commitTimestamp: 100,
        expireTimestamp: 1000,
      },
    });
    // OffsetCommitValue v4: compact string and an empty tagged-field section.
    const v4 = '0004' + '0000000000000005' + '00000002' + '026d' + '0000000000000009' + '00';
    const r4 = decodeOffsetsTopicRecord(bytes(legacyKey), bytes(v4));
    assert.ok(r4.type === 'offset');
    assert.deepEqual(r4.value, {
      offset: 5,
      leaderEpoch: 2,
      metadata: 'm',
      commitTimestamp: 9,
      expireTimestamp: -1,
    });
    // GroupMetadataValue v0: no state timestamp, no rebalance timeout, no instance ids.
    const consumer = Buffer.from('consumer').toString('hex');
    const g0 = `0000 0008${consumer} 00000001 ffff ffff 00000001 000161 000163 000168 000003e8 00000000 00000001ff`;
    const src = bytes(g0.replaceAll(' ', ''));
    const rec = decodeOffsetsTopicRecord(bytes('0002000167'), src);
    assert.deepEqual(rec, {
      type: 'group',
      group: 'g',
      value: {
        protocolType: 'consumer',
        generation: 1,
        protocol: null,
        leader: null,
        currentStateTimestamp: -1,
        members: [
          {
            memberId: 'a',
            groupInstanceId: null,
            clientId: 'c',
            clientHost: 'h',
            rebalanceTimeout: -1,
            sessionTimeout: 1000,
            subscription: Buffer.alloc(0),
            assignment: Buffer.from([0xff]),
          },
        ],
      },
    });
    // Member bytes are copies: replay reuses its read buffer.
    src.fill(0);
    assert.ok(rec.type === 'group');
    assert.deepEqual(rec.value?.members[0].assignment, Buffer.from([0xff]));
  });

  test('unknown record types are reported, unknown value versions and truncation raise DecodeError', () => {
    assert.deepEqual(decodeOffsetsTopicRecord(bytes('0003000167'), null), {
      type: 'other',
      keyVersion: 3,
    });
    const v5 = `0005${FIXTURES.offsetValue.slice(4)}`;
    assert.throws(
      () => decodeOffsetsTopicRecord(bytes(FIXTURES.offsetKey), bytes(v5)),
      DecodeError,
    );
    assert.throws(
      () => decodeOffsetsTopicRecord(bytes(FIXTURES.groupKey), bytes('ffff')),
      DecodeError,
    );
    assert.throws(
      () =>
        decodeOffsetsTopicRecord(
          bytes(FIXTURES.offsetKey),
          bytes(FIXTURES.offsetValue.slice(0, 20)),
        ),
      DecodeError,
    );
    assert.throws(
      () => decodeOffsetsTopicRecord(bytes(FIXTURES.groupKey.slice(0, 10)), null),
      DecodeError,
    );
  });
});
