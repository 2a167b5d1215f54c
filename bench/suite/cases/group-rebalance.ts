/**
 * A 10-member consumer group rebalancing, timed through Brook's own Consumer (which rejoins on
 * its own when the coordinator asks, unlike a bare protocol client): formation of the group, one
 * member leaving, and one member joining, each until every live member holds its new assignment
 * of the same generation and together they cover every partition.
 */
import { Consumer } from '../../../src/client/index.js';
import type { BrookBroker } from '../brook.js';
import { freshTopic } from './produce.js';

const MEMBERS = 10;
const PARTITIONS = 10;
/** How often members heartbeat, i.e. how soon they notice a rebalance. */
const HEARTBEAT_MS = 100;

interface Member {
  readonly consumer: Consumer;
  stopped: boolean;
  loop: Promise<void>;
}

function startMember(bootstrap: string, groupId: string, topic: string): Member {
  const consumer = new Consumer({
    bootstrapServers: bootstrap,
    groupId,
    sessionTimeoutMs: 10000,
    heartbeatIntervalMs: HEARTBEAT_MS,
    enableAutoCommit: false,
    partitionAssignors: ['range'],
  });
  consumer.subscribe([topic]);
  const member: Member = { consumer, stopped: false, loop: Promise.resolve() };
  member.loop = (async () => {
    // Group membership advances while the member polls.
    while (!member.stopped) await consumer.poll(100);
  })();
  return member;
}

async function stopMember(m: Member): Promise<void> {
  m.stopped = true;
  await m.loop.catch(() => undefined);
  await m.consumer.close();
}

/** Waits until the live members agree on a generation newer than `after` that covers everything. */
async function settled(members: Member[], after: number, timeoutMs = 60000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const generations = new Set(members.map((m) => m.consumer.groupMember?.generationId ?? -1));
    const [generation] = [...generations];
    if (generations.size === 1 && generation !== undefined && generation > after) {
      const owned = members.map((m) => m.consumer.assignedPartitions().length);
      const covered = new Set(
        members.flatMap((m) => m.consumer.assignedPartitions().map((tp) => tp.partition)),
      );
      if (covered.size === PARTITIONS && owned.every((n) => n > 0)) return generation;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the group did not settle in ${timeoutMs / 1000} s (generations ${[...generations].join(',')})`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One round: milliseconds to form the group, to absorb a leave, and to absorb a join. */
export async function consumerGroupRound(
  broker: BrookBroker,
): Promise<{ formation: number; leave: number; join: number }> {
  const topic = freshTopic('scale-group');
  await broker.createTopic(topic, PARTITIONS);
  const groupId = freshTopic('bench-rebalance');
  const members: Member[] = [];
  try {
    let t0 = performance.now();
    for (let i = 0; i < MEMBERS; i++) members.push(startMember(broker.bootstrap, groupId, topic));
    let generation = await settled(members, 0);
    const formation = performance.now() - t0;

    t0 = performance.now();
    await stopMember(members.shift() as Member);
    generation = await settled(members, generation);
    const leave = performance.now() - t0;

    t0 = performance.now();
    members.push(startMember(broker.bootstrap, groupId, topic));
    await settled(members, generation);
    const join = performance.now() - t0;
    return { formation, leave, join };
  } finally {
    await Promise.all(members.map(stopMember));
    await broker.deleteTopics([topic]);
  }
}

/** The parameters of these figures. */
export const CONSUMER_GROUP_PARAMS: Readonly<Record<string, unknown>> = {
  members: MEMBERS,
  partitions: PARTITIONS,
  client: "Brook's Consumer (subscribe, poll loop per member)",
  assignor: 'range',
  heartbeatIntervalMs: HEARTBEAT_MS,
  sessionTimeoutMs: 10000,
  'group.initial.rebalance.delay.ms': 0,
  settledWhen:
    'every live member holds partitions of one new generation and together they cover all',
};
