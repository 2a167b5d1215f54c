/**
 * A group's state as `__consumer_offsets` records, both ways: the GroupMetadata record written
 * when a generation's assignment is known, and the replay that rebuilds groups and offsets from
 * the topic on startup.
 */
import { ConsumerGroup } from './group.js';
import { groupMetadataKey, groupMetadataValue, type OffsetsTopicRecord } from './records.js';
import type { StoreRecord } from './store.js';

/** The GroupMetadata record of `group` (members with their subscription and assignment). */
export function groupMetadataRecord(group: ConsumerGroup): StoreRecord {
  const value = groupMetadataValue({
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol: group.protocolName,
    leader: group.leaderId,
    currentStateTimestamp: group.currentStateTimestamp,
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: group.metadataFor(m),
      assignment: m.assignment,
    })),
  });
  return { key: groupMetadataKey(group.groupId), value };
}

function getOrCreate(groups: Map<string, ConsumerGroup>, groupId: string): ConsumerGroup {
  let g = groups.get(groupId);
  if (!g) {
    g = new ConsumerGroup(groupId);
    groups.set(groupId, g);
  }
  return g;
}

/**
 * Applies one replayed record (in offset order): later records win, tombstones delete. A group
 * read back with members is Stable; its members must heartbeat again (the caller starts their
 * session timers).
 */
export function applyOffsetsRecord(
  groups: Map<string, ConsumerGroup>,
  rec: OffsetsTopicRecord,
): void {
  if (rec.type === 'offset') {
    if (rec.value === null) {
      groups.get(rec.group)?.setOffset(rec.topic, rec.partition, null);
      return;
    }
    getOrCreate(groups, rec.group).setOffset(rec.topic, rec.partition, rec.value);
    return;
  }
  if (rec.type !== 'group') return;
  if (rec.value === null) {
    groups.delete(rec.group);
    return;
  }
  const v = rec.value;
  const group = getOrCreate(groups, rec.group);
  group.protocolType = v.protocolType === '' ? null : v.protocolType;
  group.generationId = v.generation;
  group.protocolName = v.protocol;
  group.leaderId = v.leader;
  group.members.clear();
  group.staticMembers.clear();
  for (const m of v.members) {
    group.members.set(m.memberId, {
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      sessionTimeoutMs: m.sessionTimeout,
      rebalanceTimeoutMs: m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout,
      protocolType: v.protocolType,
      protocols: [{ name: v.protocol ?? '', metadata: m.subscription }],
      assignment: m.assignment,
      awaitingJoin: undefined,
      awaitingSync: undefined,
      isNew: false,
      sessionTimer: undefined,
    });
    if (m.groupInstanceId !== null) group.staticMembers.set(m.groupInstanceId, m.memberId);
  }
  group.state = group.members.size > 0 ? 'Stable' : 'Empty';
  const ts = v.currentStateTimestamp >= 0 ? v.currentStateTimestamp : Date.now();
  group.currentStateTimestamp = ts;
  group.emptySince = ts;
}
