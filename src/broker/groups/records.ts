/**
 * The records of `__consumer_offsets`: keys and values of committed offsets and group metadata,
 * as Kafka writes them. The struct codecs are generated from Kafka's JSON
 * (../shared/kafka-protocol/group-coordinator/*.json, see docs/protocol-codegen.md); this module
 * adds what the generated codecs leave to the caller: the int16 record type that starts a key, the
 * int16 version that starts a value, and the mapping between the wire structs (int64 as bigint,
 * bytes as views) and the coordinator's own shapes (offsets and timestamps as numbers, bytes
 * copied). A null value is a tombstone.
 */
import {
  decodeGroupMetadataKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  GROUP_COORDINATOR_RECORDS,
} from '../../protocol/generated/index.js';
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

/** The record types Brook reads and writes: the int16 that starts a key. */
const RECORD_TYPE = {
  /** Written by Kafka before 0.10.1 (key version 0); its value is read like OffsetCommitValue. */
  legacyOffsetCommit: 0,
  offsetCommit: 1,
  groupMetadata: 2,
} as const;

/** The value version Brook writes: v3 is the newest non-flexible OffsetCommitValue. */
const OFFSET_VALUE_VERSION = 3;
/** v3 is the newest non-flexible GroupMetadataValue (with group instance ids). */
const GROUP_VALUE_VERSION = 3;
/** Keys are at version 0 for every record type (their int16 prefix is the record type). */
const KEY_VERSION = 0;

/** The newest value versions the generated codecs read, from the generated record table. */
const MAX_VALUE_VERSION = new Map(
  GROUP_COORDINATOR_RECORDS.map((spec) => [spec.recordType, spec.valueVersions.max]),
);

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  const w = new Writer(32 + group.length + topic.length).int16(RECORD_TYPE.offsetCommit);
  encodeOffsetCommitKey(w, { group, topic, partition }, KEY_VERSION);
  return w.finish();
}

export function groupMetadataKey(group: string): Buffer {
  const w = new Writer(8 + group.length).int16(RECORD_TYPE.groupMetadata);
  encodeGroupMetadataKey(w, { group }, KEY_VERSION);
  return w.finish();
}

export function offsetCommitValue(v: OffsetCommitValue): Buffer {
  const w = new Writer(40 + v.metadata.length).int16(OFFSET_VALUE_VERSION);
  encodeOffsetCommitValue(
    w,
    {
      offset: BigInt(v.offset),
      leaderEpoch: v.leaderEpoch,
      metadata: v.metadata,
      commitTimestamp: BigInt(v.commitTimestamp),
    },
    OFFSET_VALUE_VERSION,
  );
  return w.finish();
}

export function groupMetadataValue(v: GroupMetadataValue): Buffer {
  const w = new Writer(256).int16(GROUP_VALUE_VERSION);
  encodeGroupMetadataValue(
    w,
    {
      protocolType: v.protocolType,
      generation: v.generation,
      protocol: v.protocol,
      leader: v.leader,
      currentStateTimestamp: BigInt(v.currentStateTimestamp),
      members: v.members,
    },
    GROUP_VALUE_VERSION,
  );
  return w.finish();
}

/** Reads the int16 value version, checked against what the record type's codec reads. */
function valueVersion(r: Reader, recordType: number, name: string): number {
  const version = r.int16();
  const max = MAX_VALUE_VERSION.get(recordType) ?? -1;
  if (version < 0 || version > max) throw new DecodeError(`${name} version ${version}`, 0);
  return version;
}

function decodeOffsetValue(value: Buffer): OffsetCommitValue {
  const r = new Reader(value);
  // Kafka reads the values of both offset key types with the OffsetCommitValue schema; its v0 is
  // the legacy value's layout.
  const m = decodeOffsetCommitValue(
    r,
    valueVersion(r, RECORD_TYPE.offsetCommit, 'OffsetCommitValue'),
  );
  return {
    offset: Number(m.offset),
    leaderEpoch: m.leaderEpoch,
    metadata: m.metadata,
    commitTimestamp: Number(m.commitTimestamp),
    expireTimestamp: Number(m.expireTimestamp),
  };
}

function decodeGroupValue(value: Buffer): GroupMetadataValue {
  const r = new Reader(value);
  const m = decodeGroupMetadataValue(
    r,
    valueVersion(r, RECORD_TYPE.groupMetadata, 'GroupMetadataValue'),
  );
  return {
    protocolType: m.protocolType,
    generation: m.generation,
    protocol: m.protocol,
    leader: m.leader,
    currentStateTimestamp: Number(m.currentStateTimestamp),
    members: m.members.map((mm) => ({
      memberId: mm.memberId,
      groupInstanceId: mm.groupInstanceId,
      clientId: mm.clientId,
      clientHost: mm.clientHost,
      rebalanceTimeout: mm.rebalanceTimeout,
      sessionTimeout: mm.sessionTimeout,
      // Copied: the generated decoder returns views and the replayed segment buffer is reused.
      subscription: Buffer.from(mm.subscription),
      assignment: Buffer.from(mm.assignment),
    })),
  };
}

/** Decodes one record. Throws DecodeError on malformed bytes. */
export function decodeOffsetsTopicRecord(key: Buffer, value: Buffer | null): OffsetsTopicRecord {
  const r = new Reader(key);
  const keyVersion = r.int16();
  if (keyVersion === RECORD_TYPE.legacyOffsetCommit || keyVersion === RECORD_TYPE.offsetCommit) {
    // Both key types share one layout (LegacyOffsetCommitKey = OffsetCommitKey).
    const k = decodeOffsetCommitKey(r, KEY_VERSION);
    return {
      type: 'offset',
      group: k.group,
      topic: k.topic,
      partition: k.partition,
      value: value === null ? null : decodeOffsetValue(value),
    };
  }
  if (keyVersion === RECORD_TYPE.groupMetadata) {
    const k = decodeGroupMetadataKey(r, KEY_VERSION);
    return {
      type: 'group',
      group: k.group,
      value: value === null ? null : decodeGroupValue(value),
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
