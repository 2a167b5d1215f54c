/*
 * The job's partition assignor. Samza groups input partitions by partition number: task N owns
 * partition N of every input (GroupByPartition), so co-partitioned inputs meet in one task. This
 * assignor deals whole tasks to the containers (group members), never a task's partitions to two
 * members, and is sticky: a member keeps the tasks it owned up to its fair share, so when a
 * container joins or leaves only the tasks that must move do (their stores are restored on the
 * new owner; the others keep their local state and caches). It runs on the cooperative protocol
 * (KIP-429): a task moving between two live containers is first revoked by its owner, which
 * commits it, and handed over in the follow-up rebalance.
 */
import type { Assignor, AssignorMember, TopicPartition } from '../../client/index.js';

/** The assignor's protocol name in JoinGroup; every container of a job offers only this one. */
export const TASK_ASSIGNOR_NAME = 'brook-tasks';

/** Task number → member that owns it, from the members' previously owned partitions. */
function previousOwners(members: readonly AssignorMember[], tasks: number): Map<number, string> {
  const owner = new Map<number, { memberId: string; generationId: number }>();
  for (const m of members) {
    for (const tp of m.owned) {
      if (tp.partition >= tasks || !m.topics.includes(tp.topic)) continue;
      const prev = owner.get(tp.partition);
      if (prev === undefined || m.generationId > prev.generationId) {
        owner.set(tp.partition, { memberId: m.memberId, generationId: m.generationId });
      }
    }
  }
  return new Map([...owner].map(([task, o]) => [task, o.memberId]));
}

/**
 * Assigns tasks (partition numbers) to members: returns member id → task numbers. Exported for
 * tests: the assignor's `assign` expands tasks into partitions.
 */
export function assignTasks(
  members: readonly AssignorMember[],
  tasks: number,
): Map<string, number[]> {
  const sorted = [...members].sort((a, b) => {
    const ka = a.groupInstanceId ?? a.memberId;
    const kb = b.groupInstanceId ?? b.memberId;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const out = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]));
  if (sorted.length === 0) return out;
  const owners = previousOwners(sorted, tasks);
  const minQuota = Math.floor(tasks / sorted.length);
  let bigger = tasks % sorted.length; // members that may hold minQuota + 1
  const assigned = new Set<number>();
  // 1. Each member keeps what it owned, up to its share.
  for (const m of sorted) {
    const kept: number[] = [];
    for (const [task, owner] of owners) if (owner === m.memberId) kept.push(task);
    kept.sort((a, b) => a - b);
    let quota = minQuota;
    if (kept.length > minQuota && bigger > 0) {
      quota++;
      bigger--;
    }
    const list = out.get(m.memberId)!;
    for (const task of kept.slice(0, quota)) {
      list.push(task);
      assigned.add(task);
    }
  }
  // 2. The rest to the least loaded members, first to those still under the smallest share.
  for (let task = 0; task < tasks; task++) {
    if (assigned.has(task)) continue;
    let best: string | undefined;
    let bestCount = Number.POSITIVE_INFINITY;
    for (const m of sorted) {
      const n = out.get(m.memberId)!.length;
      if (n < bestCount) {
        best = m.memberId;
        bestCount = n;
      }
    }
    out.get(best!)!.push(task);
    assigned.add(task);
  }
  // 3. Cooperative: a task still owned by another live member is handed over next round, after
  // its owner has revoked (and committed) it.
  for (const m of sorted) {
    const list = out.get(m.memberId)!;
    out.set(
      m.memberId,
      list.filter((task) => {
        const owner = owners.get(task);
        return owner === undefined || owner === m.memberId;
      }),
    );
  }
  return out;
}

/** The number of tasks: the largest partition count among the inputs. */
export function taskCount(partitionsPerTopic: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const count of partitionsPerTopic.values()) n = Math.max(n, count);
  return n;
}

/** The task assignor on the client's assignor interface. */
export const taskAssignor: Assignor = {
  name: TASK_ASSIGNOR_NAME,
  rebalanceProtocol: 'cooperative',
  assign(members, partitionsPerTopic) {
    const byMember = assignTasks(members, taskCount(partitionsPerTopic));
    const topics = [...partitionsPerTopic.keys()].sort();
    const out = new Map<string, TopicPartition[]>();
    for (const m of members) {
      const list: TopicPartition[] = [];
      for (const task of byMember.get(m.memberId) ?? []) {
        for (const topic of topics) {
          if (!m.topics.includes(topic)) continue;
          if (task < (partitionsPerTopic.get(topic) ?? 0)) list.push({ topic, partition: task });
        }
      }
      out.set(m.memberId, list);
    }
    return out;
  },
};
