/**
 * The records of `__consumer_offsets`: keys and values of committed offsets and group metadata,
 * as Kafka writes them (../shared/kafka-protocol/group-coordinator/*.json). Each key and value
 * starts with an int16 version; the key's version says what the record is (0/1: an offset commit,
 * 2: group metadata). A null value is a tombstone. Hand-written: the message code generator reads
 * only the request/response definitions.
 */
import { DecodeError, Reader, Writer } from '../../protocol/primitives/index.js';

/** OffsetCommitValue: one committed offset. */
export interface OffsetCommitValue {
  offset: number;
  /** -1 when unknown. */
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1 unless an old (v1) commit carried an explicit expiry. */
  expireTimestamp: number;
}

/** GroupMetadataValue.MemberMetadata. */
export interface MemberMetadataValue {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Buffer;
  assignment: Buffer;
}

/** GroupMetadataValue: a group's generation, protocol, leader and members. */
export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: MemberMetadataValue[];
}

/** A decoded `__consumer_offsets` record. */
export type OffsetsTopicRecord =
  | {
      type: 'offset';
      group: string;
      topic: string;
      partition: number;
      value: OffsetCommitValue | null;
    }
  | { type: 'group'; group: string; value: GroupMetadataValue | null }
  /** A record type this broker does not keep (e.g. KIP-848 consumer group records). */
  | { type: 'other'; keyVersion: number };

/** The value version Brook writes: v3 is the newest non-flexible OffsetCommitValue. */
const OFFSET_VALUE_VERSION = 3;
/** v3 is the newest non-flexible GroupMetadataValue (with group instance ids). */
const GROUP_VALUE_VERSION = 3;

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return new Writer(32 + group.length + topic.length)
    .int16(1)
    .string(group)
    .string(topic)
    .int32(partition)
    .finish();
}

export function groupMetadataKey(group: string): Buffer {
  return new Writer(8 + group.length).int16(2).string(group).finish();
}

export function offsetCommitValue(v: OffsetCommitValue): Buffer {
  return new Writer(40 + v.metadata.length)
    .int16(OFFSET_VALUE_VERSION)
    .int64Number(v.offset)
    .int32(v.leaderEpoch)
    .string(v.metadata)
    .int64Number(v.commitTimestamp)
    .finish();
}

export function groupMetadataValue(v: GroupMetadataValue): Buffer {
  const w = new Writer(256)
    .int16(GROUP_VALUE_VERSION)
    .string(v.protocolType)
    .int32(v.generation)
    .nullableString(v.protocol)
    .nullableString(v.leader)
    .int64Number(v.currentStateTimestamp)
    .arrayLength(v.members.length);
  for (const m of v.members) {
    w.string(m.memberId)
      .nullableString(m.groupInstanceId)
      .string(m.clientId)
      .string(m.clientHost)
      .int32(m.rebalanceTimeout)
      .int32(m.sessionTimeout)
      .bytes(m.subscription)
      .bytes(m.assignment);
  }
  return w.finish();
}

/** Flexible (v4+) strings and bytes are compact; tagged fields are skipped. */
function str(r: Reader, flex: boolean): string {
  return flex ? r.compactString() : r.string();
}
function nstr(r: Reader, flex: boolean): string | null {
  return flex ? r.compactNullableString() : r.nullableString();
}
function bytes(r: Reader, flex: boolean): Buffer {
  // Copied: the replayed segment buffer is reused.
  return Buffer.from(flex ? r.compactBytes() : r.bytes());
}

function decodeOffsetValue(r: Reader): OffsetCommitValue {
  const version = r.int16();
  if (version < 0 || version > 4) throw new DecodeError(`OffsetCommitValue version ${version}`, 0);
  const flex = version >= 4;
  const offset = r.int64Number();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = str(r, flex);
  const commitTimestamp = r.int64Number();
  const expireTimestamp = version === 1 ? r.int64Number() : -1;
  if (flex) r.taggedFields();
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

function decodeGroupValue(r: Reader): GroupMetadataValue {
  const version = r.int16();
  if (version < 0 || version > 4) throw new DecodeError(`GroupMetadataValue version ${version}`, 0);
  const flex = version >= 4;
  const protocolType = str(r, flex);
  const generation = r.int32();
  const protocol = nstr(r, flex);
  const leader = nstr(r, flex);
  const currentStateTimestamp = version >= 2 ? r.int64Number() : -1;
  const n = flex ? r.compactArrayLength(8) : r.arrayLength(8);
  const members: MemberMetadataValue[] = [];
  for (let i = 0; i < n; i++) {
    const memberId = str(r, flex);
    const groupInstanceId = version >= 3 ? nstr(r, flex) : null;
    const clientId = str(r, flex);
    const clientHost = str(r, flex);
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeout = r.int32();
    const subscription = bytes(r, flex);
    const assignment = bytes(r, flex);
    if (flex) r.taggedFields();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeout,
      sessionTimeout,
      subscription,
      assignment,
    });
  }
  if (flex) r.taggedFields();
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

/** Decodes one record. Throws DecodeError on malformed bytes. */
export function decodeOffsetsTopicRecord(key: Buffer, value: Buffer | null): OffsetsTopicRecord {
  const r = new Reader(key);
  const keyVersion = r.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const group = r.string();
    const topic = r.string();
    const partition = r.int32();
    return {
      type: 'offset',
      group,
      topic,
      partition,
      value: value === null ? null : decodeOffsetValue(new Reader(value)),
    };
  }
  if (keyVersion === 2) {
    const group = r.string();
    return {
      type: 'group',
      group,
      value: value === null ? null : decodeGroupValue(new Reader(value)),
    };
  }
  return { type: 'other', keyVersion };
}

/**
 * The `__consumer_offsets` partition of a group: Kafka's `abs(groupId.hashCode) % partitions`
 * with Java's String.hashCode over UTF-16 code units, so a Kafka operator finds a group's
 * records where Kafka would put them.
 */
export function partitionForGroup(groupId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(h, 31) + groupId.charCodeAt(i)) | 0;
  // Kafka's Utils.abs maps Integer.MIN_VALUE to 0.
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}
