/**
 * One classic consumer group: its state, generation, members and committed offsets. The rules
 * that move it between states live in the coordinator; this file holds the data and the small
 * questions asked of it (has everyone rejoined? which protocol do all members support?).
 */

/** Kafka's classic group states (the names DescribeGroups and ListGroups report). */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** What a JoinGroup call is answered with. */
export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  skipAssignment: boolean;
  /** Every member's metadata for the chosen protocol: for the leader only. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

/** What a SyncGroup call is answered with. */
export interface SyncResult {
  errorCode: number;
  assignment: Buffer;
}

/** A protocol a member supports (e.g. "range" with its subscription bytes). */
export interface MemberProtocol {
  name: string;
  metadata: Buffer;
}

/** What a member tells about itself in JoinGroup, kept as its state in the group. */
export interface MemberJoinFields {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  /** In the member's order of preference. */
  protocols: MemberProtocol[];
}

/** One member of a group. */
export interface GroupMember extends MemberJoinFields {
  assignment: Buffer;
  /** Set while the member waits in JoinGroup for the rebalance to complete. */
  awaitingJoin: ((r: JoinResult) => void) | undefined;
  /** Set while the member waits in SyncGroup for the leader's assignment. */
  awaitingSync: ((r: SyncResult) => void) | undefined;
  /** Joined in the current rebalance for the first time (new members get a session timer once it completes). */
  isNew: boolean;
  /** Session timeout timer: the member is removed when it fires. */
  sessionTimer: NodeJS.Timeout | undefined;
}

/** A committed offset as the coordinator keeps it. */
export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  expireTimestamp: number;
}

const EMPTY = Buffer.alloc(0);

export class ConsumerGroup {
  readonly groupId: string;
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, GroupMember>();
  /** KIP-394: member ids handed out with MEMBER_ID_REQUIRED, with their expiry timers. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** group.instance.id → member id of static members. */
  readonly staticMembers = new Map<string, string>();
  /** topic → partition → committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  currentStateTimestamp = Date.now();
  /** When the group last became Empty (offsets expire from there). */
  emptySince = Date.now();
  /** The rebalance (join) timer: completes the join phase when it fires. */
  joinTimer: NodeJS.Timeout | undefined;
  /** In the group.initial.rebalance.delay.ms phase of a rebalance that started from Empty. */
  initialDelay: { remainingMs: number; newMemberAdded: boolean } | undefined;

  constructor(groupId: string) {
    this.groupId = groupId;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState): void {
    if (state === 'Empty' && this.state !== 'Empty') this.emptySince = Date.now();
    this.state = state;
    this.currentStateTimestamp = Date.now();
  }

  /** Every member has rejoined and no KIP-394 member id is still outstanding. */
  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (!m.awaitingJoin) return false;
    return true;
  }

  /** The longest rebalance timeout among the members (how long a rebalance waits for rejoins). */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    let common: Set<string> | undefined;
    for (const m of this.members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      common = common ? new Set([...common].filter((n) => names.has(n))) : names;
    }
    return common ?? new Set();
  }

  /**
   * Would a member with these protocols fit? Same protocol type, and at least one protocol in
   * common with everyone already in the group.
   */
  supportsProtocols(protocolType: string, protocols: readonly MemberProtocol[]): boolean {
    if (protocolType.length === 0 || protocols.length === 0) return false;
    if (this.members.size === 0) return true;
    if (protocolType !== this.protocolType) return false;
    const common = this.candidateProtocols();
    return protocols.some((p) => common.has(p.name));
  }

  /** Kafka's choice: each member votes for its most preferred candidate; most votes wins. */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** A member's metadata for the group's chosen protocol. */
  metadataFor(member: GroupMember): Buffer {
    return member.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY;
  }

  /** Is `memberId` fenced by the static member registered under `groupInstanceId`? */
  isFenced(memberId: string, groupInstanceId: string | null | undefined): boolean {
    if (groupInstanceId === null || groupInstanceId === undefined) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, o: CommittedOffset | null): void {
    let byPartition = this.offsets.get(topic);
    if (o === null) {
      byPartition?.delete(partition);
      if (byPartition?.size === 0) this.offsets.delete(topic);
      return;
    }
    if (!byPartition) {
      byPartition = new Map();
      this.offsets.set(topic, byPartition);
    }
    byPartition.set(partition, o);
  }

  get offsetCount(): number {
    let n = 0;
    for (const m of this.offsets.values()) n += m.size;
    return n;
  }

  /**
   * Offsets past their retention as of `now`: counted from when the group became empty (or the
   * commit, if later), from the commit for a group without a protocol (simple commits); an
   * explicit expire timestamp (OffsetCommit v2-v4) wins. Only meaningful for Empty groups.
   */
  expiredOffsets(now: number, retentionMs: number): [string, number][] {
    const gone: [string, number][] = [];
    for (const [topic, parts] of this.offsets) {
      for (const [p, o] of parts) {
        const base =
          this.protocolType === null
            ? o.commitTimestamp
            : Math.max(this.emptySince, o.commitTimestamp);
        const due = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base >= retentionMs;
        if (due) gone.push([topic, p]);
      }
    }
    return gone;
  }
}
