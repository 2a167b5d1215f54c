/**
 * Group coordinator benchmark: `npx tsx bench/groups.ts`, or `groupBenchmark(port)` from
 * `npm run bench:broker`. Starts a broker in this process on 127.0.0.1 with a temporary data dir and
 * drives it over TCP with a bare protocol client:
 *  - formation: 10 members (one connection each) JoinGroup (with the KIP-394 round trip) and
 *    SyncGroup into generation 1, the leader assigning;
 *  - rebalance: all 10 rejoin with their member ids and sync again (the coordinator's share of a
 *    rebalance; clients add their heartbeat interval to notice it);
 *  - OffsetCommit v8 requests/s from a group member, pipelined (BENCH_INFLIGHT, default 32),
 *    1 partition per request and 50 partitions per request; each request is one append to
 *    __consumer_offsets.
 * group.initial.rebalance.delay.ms=0 (Kafka's default 3 s would dominate formation). Medians of
 * 5 rounds. The machine is shared and noisy: compare figures from one run only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Broker } from '../src/broker/broker.js';
import { loadBrokerConfig } from '../src/broker/config.js';
import { machine, median, PipeClient } from './common.js';

const MEMBERS = 10;
const ROUNDS = 5;
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 32);
const COMMIT_MS = Number(process.env.BENCH_COMMIT_MS ?? 2000);

/** UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION: rejoin, as a consumer does. */
const UNKNOWN_MEMBER_ID = 25;
const REJOIN = new Set([UNKNOWN_MEMBER_ID, 27, 22]);

class RejoinNeeded extends Error {
  constructor(readonly errorCode: number) {
    super(`rejoin needed (error ${errorCode})`);
  }
}

function firstFailure(results: PromiseSettledResult<unknown>[]): unknown {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  return failed?.reason;
}

interface MemberState {
  c: PipeClient;
  memberId: string;
  generationId: number;
}

async function joinGroup(m: MemberState, groupId: string): Promise<string[]> {
  const body = () => ({
    groupId,
    sessionTimeoutMs: 30000,
    rebalanceTimeoutMs: 30000,
    memberId: m.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('subscription') }],
  });
  let r = await m.c.request(11, 7, body());
  if (r.errorCode === 79) {
    m.memberId = r.memberId;
    r = await m.c.request(11, 7, body());
  }
  if (r.errorCode === UNKNOWN_MEMBER_ID) m.memberId = '';
  if (REJOIN.has(r.errorCode)) throw new RejoinNeeded(r.errorCode);
  if (r.errorCode !== 0) throw new Error(`JoinGroup error ${r.errorCode}`);
  m.memberId = r.memberId;
  m.generationId = r.generationId;
  return r.members.map((x) => x.memberId);
}

async function sync(m: MemberState, groupId: string, leaderMembers: string[]): Promise<void> {
  const r = await m.c.request(14, 5, {
    groupId,
    generationId: m.generationId,
    memberId: m.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: leaderMembers.map((id) => ({ memberId: id, assignment: Buffer.from(id) })),
  });
  if (r.errorCode === UNKNOWN_MEMBER_ID) m.memberId = '';
  if (REJOIN.has(r.errorCode)) throw new RejoinNeeded(r.errorCode);
  if (r.errorCode !== 0) throw new Error(`SyncGroup error ${r.errorCode}`);
}

/**
 * All members join and sync; returns ms. A member that misses the generation (slow to join on a
 * loaded machine) gets UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS or ILLEGAL_GENERATION and, as a
 * real consumer does, the whole group rejoins; the time of the retries counts.
 */
async function rebalance(members: MemberState[], groupId: string): Promise<number> {
  const t0 = performance.now();
  for (let attempt = 1; ; attempt++) {
    // Every request of a round is answered before the next round, so none is left in flight.
    const joins = await Promise.allSettled(members.map((m) => joinGroup(m, groupId)));
    const joinFailure = firstFailure(joins);
    if (joinFailure === undefined) {
      const lists = joins.map((j) => (j as PromiseFulfilledResult<string[]>).value);
      const syncs = await Promise.allSettled(members.map((m, i) => sync(m, groupId, lists[i])));
      const syncFailure = firstFailure(syncs);
      if (syncFailure === undefined) return performance.now() - t0;
      if (!(syncFailure instanceof RejoinNeeded) || attempt >= 10) throw syncFailure;
    } else if (!(joinFailure instanceof RejoinNeeded) || attempt >= 10) throw joinFailure;
  }
}

async function commitRate(m: MemberState, groupId: string, partitions: number): Promise<number> {
  const body = (offset: number) => ({
    groupId,
    generationIdOrMemberEpoch: m.generationId,
    memberId: m.memberId,
    groupInstanceId: null,
    topics: [
      {
        name: 'bench-topic',
        partitions: Array.from({ length: partitions }, (_, p) => ({
          partitionIndex: p,
          committedOffset: BigInt(offset),
          committedLeaderEpoch: -1,
          committedMetadata: '',
        })),
      },
    ],
  });
  let sent = 0;
  let done = 0;
  const t0 = performance.now();
  const deadline = t0 + COMMIT_MS;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent - done < INFLIGHT && performance.now() < deadline) {
        sent++;
        m.c.request(8, 8, body(sent)).then((r) => {
          if (r.topics[0].partitions[0].errorCode !== 0) reject(new Error('commit refused'));
          done++;
          if (done === sent && performance.now() >= deadline) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  return (done / (performance.now() - t0)) * 1000;
}

/**
 * The group figures against a running broker on 127.0.0.1:`port` (one that was started with
 * group.initial.rebalance.delay.ms=0), printed one line each; `bench/broker.ts` can call this
 * with its own broker.
 */
export async function groupBenchmark(
  port: number,
  print: (line: string) => void = console.log,
): Promise<void> {
  const clients: PipeClient[] = [];
  try {
    const formation: number[] = [];
    const rejoin: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const groupId = `bench-group-${round}-${Date.now()}`;
      const members: MemberState[] = [];
      for (let i = 0; i < MEMBERS; i++) {
        const c = await PipeClient.open(port);
        clients.push(c);
        members.push({ c, memberId: '', generationId: -1 });
      }
      formation.push(await rebalance(members, groupId));
      rejoin.push(await rebalance(members, groupId));
    }
    print(
      `group of ${MEMBERS}: formation (join+sync, generation 1) median ${median(formation).toFixed(1)} ms`,
    );
    print(
      `group of ${MEMBERS}: rebalance (all rejoin + sync) median ${median(rejoin).toFixed(1)} ms`,
    );
    const c = await PipeClient.open(port);
    clients.push(c);
    const m: MemberState = { c, memberId: '', generationId: -1 };
    const groupId = `bench-commits-${Date.now()}`;
    await rebalance([m], groupId);
    for (const partitions of [1, 50]) {
      const rates: number[] = [];
      for (let round = 0; round < 3; round++) rates.push(await commitRate(m, groupId, partitions));
      const r = median(rates);
      print(
        `OffsetCommit v8, ${partitions} partition(s)/request, ${INFLIGHT} in flight: ${Math.round(r)} requests/s (${Math.round(r * partitions)} offsets/s)`,
      );
    }
  } finally {
    for (const c of clients) c.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'brook-bench-groups-'));
  const config = loadBrokerConfig({
    flags: { dataDir: dir, host: '127.0.0.1', port: 0, metricsPort: 0 },
    sets: ['group.initial.rebalance.delay.ms=0'],
  });
  const broker = await Broker.start(config, pino({ level: 'warn' }));
  console.log(`machine: ${machine()}`);
  try {
    await groupBenchmark(broker.addresses.listeners[0].port);
  } finally {
    await broker.stop('benchmark done');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
