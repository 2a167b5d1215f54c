/**
 * The task assignor: whole tasks per member, balanced, sticky, and moving as few tasks as
 * possible when members come and go (checked over random membership changes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AssignorMember, TopicPartition } from '../../src/client/index.js';
import { assignTasks, taskAssignor } from '../../src/streams/runtime/task-assignor.js';

const TOPICS = ['lines', 'words'];

function member(id: string, owned: number[], generationId = 1): AssignorMember {
  return {
    memberId: id,
    groupInstanceId: null,
    topics: TOPICS,
    owned: owned.flatMap((p) => TOPICS.map((topic) => ({ topic, partition: p }))),
    generationId,
  };
}

test('every task goes to one member with all its input partitions', () => {
  const out = taskAssignor.assign(
    [member('a', []), member('b', []), member('c', [])],
    new Map([
      ['lines', 5],
      ['words', 3],
    ]),
  );
  const owner = new Map<number, string>();
  const seen = new Set<string>();
  for (const [id, tps] of out) {
    for (const tp of tps) {
      const key = `${tp.topic}:${tp.partition}`;
      assert.equal(seen.has(key), false, `${key} assigned twice`);
      seen.add(key);
      const prev = owner.get(tp.partition);
      assert.ok(prev === undefined || prev === id, `task ${tp.partition} split across members`);
      owner.set(tp.partition, id);
    }
  }
  // 5 tasks; the second input has only 3 partitions, so tasks 3 and 4 read only `lines`.
  assert.equal(seen.size, 8);
  assert.deepEqual(
    [...out.values()]
      .map((tps) => new Set(tps.map((tp: TopicPartition) => tp.partition)).size)
      .sort(),
    [1, 2, 2],
  );
});

test('a joining member takes only its share; a leaving member hands over only its tasks', () => {
  const first = assignTasks([member('a', [0, 1, 2, 3]), member('b', [4, 5, 6, 7])], 8);
  assert.deepEqual(first.get('a'), [0, 1, 2, 3]);
  assert.deepEqual(first.get('b'), [4, 5, 6, 7]);
  // c joins: a and b keep 3 each (sticky), c gets the two freed tasks once they are revoked.
  const join = assignTasks(
    [member('a', [0, 1, 2, 3]), member('b', [4, 5, 6, 7]), member('c', [])],
    8,
  );
  assert.deepEqual(join.get('a')!.length + join.get('b')!.length, 6);
  assert.deepEqual(join.get('c'), []); // cooperative: still owned by a and b this round
  const follow = assignTasks(
    [member('a', join.get('a')!, 2), member('b', join.get('b')!, 2), member('c', [], 2)],
    8,
  );
  assert.equal(follow.get('c')!.length, 2);
  assert.deepEqual(follow.get('a'), join.get('a'));
  // b leaves: its tasks go to a and c, nothing else moves.
  const leave = assignTasks(
    [member('a', follow.get('a')!, 3), member('c', follow.get('c')!, 3)],
    8,
  );
  for (const t of follow.get('a')!) assert.ok(leave.get('a')!.includes(t));
  for (const t of follow.get('c')!) assert.ok(leave.get('c')!.includes(t));
  assert.equal(leave.get('a')!.length + leave.get('c')!.length, 8);
});

test('balanced and minimal movement over random membership changes', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 24 }),
      fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }), {
        minLength: 1,
        maxLength: 8,
      }),
      (tasks, rounds) => {
        let owned = new Map<string, number[]>();
        let generation = 1;
        for (const ids of rounds) {
          const alive = [...new Set(ids.map((i) => `m${i}`))];
          // Two rounds per membership change: the cooperative hand-over, then the follow-up.
          for (let r = 0; r < 2; r++) {
            const members = alive.map((id) => member(id, owned.get(id) ?? [], generation));
            const out = assignTasks(members, tasks);
            // Tasks stay with their owner when it is alive and within its share.
            const share = Math.ceil(tasks / alive.length);
            for (const id of alive) {
              const before = owned.get(id) ?? [];
              const after = out.get(id)!;
              const kept = before.filter((t) => after.includes(t)).length;
              assert.ok(kept >= Math.min(before.length, Math.floor(tasks / alive.length)));
              assert.ok(after.length <= share);
            }
            owned = new Map(alive.map((id) => [id, out.get(id)!]));
            generation++;
          }
          // After the follow-up, every task is assigned exactly once and the spread is at most 1.
          const all = [...owned.values()].flat().sort((a, b) => a - b);
          assert.deepEqual(
            all,
            Array.from({ length: tasks }, (_, i) => i),
          );
          const sizes = [...owned.values()].map((l) => l.length);
          assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
        }
      },
    ),
    { numRuns: 300 },
  );
});
