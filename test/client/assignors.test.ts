import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AssignorMember,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  type TopicPartition,
} from '../../src/client/index.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../src/client/consumer/group.js';

const m = (
  memberId: string,
  topics: string[],
  owned: TopicPartition[] = [],
  generationId = -1,
): AssignorMember => ({
  memberId,
  groupInstanceId: null,
  topics,
  owned,
  generationId,
});
const fmt = (r: Map<string, TopicPartition[]>) =>
  Object.fromEntries([...r].map(([k, v]) => [k, v.map((x) => `${x.topic}-${x.partition}`).sort()]));

test('range: consecutive ranges per topic, the first members get the remainder (as Java)', () => {
  const r = rangeAssignor.assign(
    [m('c1', ['t']), m('c0', ['t', 'u']), m('c2', ['t'])],
    new Map([
      ['t', 7],
      ['u', 2],
    ]),
  );
  assert.deepEqual(fmt(r), {
    c0: ['t-0', 't-1', 't-2', 'u-0', 'u-1'],
    c1: ['t-3', 't-4'],
    c2: ['t-5', 't-6'],
  });
});

test('round-robin: partitions dealt in turn to subscribed members', () => {
  const r = roundRobinAssignor.assign(
    [m('a', ['t', 'u']), m('b', ['t', 'u'])],
    new Map([
      ['t', 3],
      ['u', 2],
    ]),
  );
  assert.deepEqual(fmt(r), { a: ['t-0', 't-2', 'u-1'], b: ['t-1', 'u-0'] });
});

test('cooperative-sticky: balanced first assignment', () => {
  const r = cooperativeStickyAssignor.assign(
    [m('a', ['t']), m('b', ['t']), m('c', ['t'])],
    new Map([['t', 6]]),
  );
  for (const list of r.values()) assert.equal(list.length, 2);
  assert.equal(new Set([...r.values()].flat().map((x) => x.partition)).size, 6);
});

test('cooperative-sticky: a joiner gets nothing owned by others this round; owners keep what stays', () => {
  const owned = (ps: number[]) => ps.map((partition) => ({ topic: 't', partition }));
  const r = cooperativeStickyAssignor.assign(
    [m('a', ['t'], owned([0, 1, 2]), 3), m('b', ['t'], owned([3, 4, 5]), 3), m('c', ['t'])],
    new Map([['t', 6]]),
  );
  // a and b each give up one partition (revoked, then handed to c in the follow-up round).
  assert.equal(r.get('a')?.length, 2);
  assert.equal(r.get('b')?.length, 2);
  for (const x of r.get('a') ?? []) assert.ok([0, 1, 2].includes(x.partition));
  for (const x of r.get('b') ?? []) assert.ok([3, 4, 5].includes(x.partition));
  assert.deepEqual(r.get('c'), []);
  // Follow-up round: a and b own only what they kept; c now gets the two freed partitions.
  const r2 = cooperativeStickyAssignor.assign(
    [m('a', ['t'], r.get('a'), 4), m('b', ['t'], r.get('b'), 4), m('c', ['t'], [], 4)],
    new Map([['t', 6]]),
  );
  assert.deepEqual(r2.get('a'), r.get('a'));
  assert.deepEqual(r2.get('b'), r.get('b'));
  assert.equal(r2.get('c')?.length, 2);
});

test('cooperative-sticky: when a member leaves, the others keep theirs and split its partitions', () => {
  const owned = (ps: number[]) => ps.map((partition) => ({ topic: 't', partition }));
  const r = cooperativeStickyAssignor.assign(
    [m('a', ['t'], owned([0, 1]), 5), m('b', ['t'], owned([2, 3]), 5)],
    new Map([['t', 6]]),
  );
  assert.deepEqual(fmt(r), { a: ['t-0', 't-1', 't-4'], b: ['t-2', 't-3', 't-5'] });
});

test('subscription and assignment payloads round-trip (consumer protocol v1, owned partitions)', () => {
  const sub = decodeSubscription(encodeSubscription(['a', 'b'], [{ topic: 'a', partition: 3 }], 7));
  assert.deepEqual(sub.topics, ['a', 'b']);
  assert.deepEqual(sub.owned, [{ topic: 'a', partition: 3 }]);
  const tps = [
    { topic: 'x', partition: 1 },
    { topic: 'x', partition: 0 },
    { topic: 'y', partition: 2 },
  ];
  assert.deepEqual(decodeAssignment(encodeAssignment(tps)), [
    { topic: 'x', partition: 0 },
    { topic: 'x', partition: 1 },
    { topic: 'y', partition: 2 },
  ]);
  assert.deepEqual(decodeAssignment(Buffer.alloc(0)), []);
});
