import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DefaultPartitioner,
  murmur2,
  partitionForKey,
  toPositive,
} from '../../src/client/index.js';

// Kafka's own test vectors for Utils.murmur2 (clients/.../utils/UtilsTest.java, testMurmur2).
const KAFKA_VECTORS: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

test('murmur2 matches the Java client on Kafka test vectors', () => {
  for (const [key, hash] of KAFKA_VECTORS) assert.equal(murmur2(Buffer.from(key)), hash, key);
});

test('murmur2 of the empty key and every tail length', () => {
  // The seed mixed with length 0, then the final avalanche: Java gives 275646681.
  assert.equal(murmur2(Buffer.alloc(0)), 275646681);
  // Values from the Java client for keys "1".."12345" (tails of 1, 2, 3 and 0 bytes).
  const more: Array<[string, number]> = [
    ['1', -1993445489],
    ['12', 126087238],
    ['123', -267702483],
    ['1234', -1614185708],
    ['12345', -1188365604],
  ];
  for (const [key, hash] of more) assert.equal(murmur2(Buffer.from(key)), hash, key);
});

test('partition = toPositive(murmur2(key)) % n, as the Java default partitioner', () => {
  for (const [key, hash] of KAFKA_VECTORS) {
    for (const n of [1, 3, 6, 10, 100]) {
      assert.equal(partitionForKey(Buffer.from(key), n), (hash & 0x7fffffff) % n);
    }
  }
  // toPositive clears the sign bit (not Math.abs): MIN_VALUE maps to 0.
  assert.equal(toPositive(-2147483648), 0);
  assert.equal(toPositive(-1), 2147483647);
  // Known placements: "foobar" with 6 partitions, "21" with 10.
  assert.equal(partitionForKey(Buffer.from('foobar'), 6), (-790332482 & 0x7fffffff) % 6);
});

test('keyless records stick to one partition until a batch closes, then move', () => {
  const p = new DefaultPartitioner();
  const first = p.partition('t', null, 6);
  for (let i = 0; i < 100; i++) assert.equal(p.partition('t', null, 6), first);
  p.onNewBatch('t', first, 6);
  const second = p.partition('t', null, 6);
  assert.notEqual(second, first);
  assert.ok(second >= 0 && second < 6);
  // A batch closing on another partition does not move the sticky one.
  p.onNewBatch('t', (second + 1) % 6, 6);
  assert.equal(p.partition('t', null, 6), second);
  // Keyed records ignore stickiness.
  assert.equal(p.partition('t', Buffer.from('abc'), 6), (479470107 & 0x7fffffff) % 6);
});
