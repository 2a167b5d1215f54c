/**
 * Partition assignors of the classic consumer protocol, run by the group leader: range and
 * round-robin (eager: everyone gives up everything on a rebalance) and cooperative-sticky
 * (incremental: only partitions that move are revoked, in a follow-up rebalance, KIP-429).
 * Names on the wire are the Java client's, so Brook and Java consumers can share a group.
 */
import type { TopicPartition } from './offsets.js';

/** A member as the leader sees it in JoinGroup. */
export interface AssignorMember {
  memberId: string;
  groupInstanceId: string | null;
  topics: string[];
  /** Partitions the member owned in the previous generation (cooperative protocol). */
  owned: TopicPartition[];
  /** Generation of `owned` (-1 when unknown). */
  generationId: number;
}

/** An assignment strategy. */
export interface Assignor {
  /** Protocol name in JoinGroup (`range`, `roundrobin`, `cooperative-sticky`). */
  readonly name: string;
  /** 'cooperative' keeps partitions across rebalances; 'eager' revokes all first. */
  readonly rebalanceProtocol: 'eager' | 'cooperative';
  /** member id → assigned partitions. `partitionsPerTopic` holds every subscribed topic. */
  assign(
    members: readonly AssignorMember[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Map<string, TopicPartition[]>;
}

/** Sort key of a member: static members by instance id, as the Java client does. */
function memberOrder(a: AssignorMember, b: AssignorMember): number {
  const ka = a.groupInstanceId ?? a.memberId;
  const kb = b.groupInstanceId ?? b.memberId;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function emptyAssignment(members: readonly AssignorMember[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, [] as TopicPartition[]]));
}

/** Per topic, consecutive ranges of partitions to the members subscribed to it. */
export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    for (const [topic, n] of [...partitionsPerTopic].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const subs = members.filter((m) => m.topics.includes(topic)).sort(memberOrder);
      if (subs.length === 0) continue;
      const per = Math.floor(n / subs.length);
      const extra = n % subs.length;
      let p = 0;
      subs.forEach((m, i) => {
        const count = per + (i < extra ? 1 : 0);
        const list = out.get(m.memberId) as TopicPartition[];
        for (let k = 0; k < count; k++) list.push({ topic, partition: p++ });
      });
    }
    return out;
  },
};

/** Every partition of every topic, dealt in turn to the members subscribed to its topic. */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const sorted = [...members].sort(memberOrder);
    if (sorted.length === 0) return out;
    let next = 0;
    for (const [topic, n] of [...partitionsPerTopic].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      for (let p = 0; p < n; p++) {
        for (let tries = 0; tries < sorted.length; tries++) {
          const m = sorted[next % sorted.length];
          next++;
          if (m.topics.includes(topic)) {
            out.get(m.memberId)?.push({ topic, partition: p });
            break;
          }
        }
      }
    }
    return out;
  },
};

const key = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`;

/**
 * Sticky and balanced: members keep what they own up to their quota, the rest is dealt to the
 * least loaded eligible members; a partition that changes owner is left out of this round (its
 * owner revokes it, rejoins, and the follow-up rebalance hands it over).
 */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const sorted = [...members].sort(memberOrder);
    if (sorted.length === 0) return out;
    const all: TopicPartition[] = [];
    for (const [topic, n] of [...partitionsPerTopic].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      for (let p = 0; p < n; p++) all.push({ topic, partition: p });
    }
    const exists = new Set(all.map(key));
    // Previous owners, newest generation wins when two claim a partition.
    const previousOwner = new Map<string, { memberId: string; generationId: number }>();
    for (const m of sorted) {
      for (const tp of m.owned) {
        const k = key(tp);
        if (!exists.has(k) || !m.topics.includes(tp.topic)) continue;
        const prev = previousOwner.get(k);
        if (!prev || m.generationId > prev.generationId)
          previousOwner.set(k, { memberId: m.memberId, generationId: m.generationId });
      }
    }
    const total = all.length;
    const minQuota = Math.floor(total / sorted.length);
    let maxSlots = total % sorted.length; // members allowed minQuota + 1
    const assigned = new Set<string>();
    // 1. Keep owned partitions up to the quota.
    for (const m of sorted) {
      const list = out.get(m.memberId) as TopicPartition[];
      const kept = m.owned.filter((tp) => previousOwner.get(key(tp))?.memberId === m.memberId);
      kept.sort((a, b) =>
        a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
      );
      let quota = minQuota;
      if (kept.length > minQuota && maxSlots > 0) {
        quota = minQuota + 1;
        maxSlots--;
      }
      for (const tp of kept.slice(0, quota)) {
        list.push({ topic: tp.topic, partition: tp.partition });
        assigned.add(key(tp));
      }
    }
    // 2. Deal the rest to the least loaded eligible member.
    for (const tp of all) {
      if (assigned.has(key(tp))) continue;
      let best: AssignorMember | undefined;
      let bestCount = Number.POSITIVE_INFINITY;
      for (const m of sorted) {
        if (!m.topics.includes(tp.topic)) continue;
        const c = (out.get(m.memberId) as TopicPartition[]).length;
        if (c < bestCount) {
          best = m;
          bestCount = c;
        }
      }
      if (!best) continue;
      (out.get(best.memberId) as TopicPartition[]).push(tp);
      assigned.add(key(tp));
    }
    // 3. Cooperative: hold back partitions still owned by someone else.
    for (const m of sorted) {
      const list = out.get(m.memberId) as TopicPartition[];
      out.set(
        m.memberId,
        list.filter((tp) => {
          const prev = previousOwner.get(key(tp));
          return !prev || prev.memberId === m.memberId;
        }),
      );
    }
    return out;
  },
};

/** Assignors by name. */
export const ASSIGNORS: Record<string, Assignor> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};
