/**
 * Peers on the same machine in the same run, with the same workloads as Brook's produce and
 * consume cases: Redis Streams, NATS JetStream and RabbitMQ stream queues (bench/peers/), each
 * started on 127.0.0.1 with a temporary data directory and stopped afterwards, each skipped with
 * its own note when it cannot run here. Their default durability is stated beside each figure.
 */
import type { Peer, PeerResult } from '../../peers/types.js';
import { type BenchCase, type CaseContext, repeat } from '../context.js';
import { importExport } from '../optional.js';
import { RECORD_SIZES } from './produce.js';

/** Longest any one peer operation (start, produce, consume, stop) may take. */
const PEER_OP_MS = 240_000;

/**
 * `op` of `peer`, failing after {@link PEER_OP_MS}: a peer whose client lost its server must not
 * hang the suite (the caller then stops the peer and records a skip).
 */
export async function peerOp<T>(peer: Peer, what: string, op: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${peer.name} ${what} took over ${PEER_OP_MS / 1000} s`)),
      PEER_OP_MS,
    );
  });
  try {
    return await Promise.race([op(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The peers bench/peers/index.ts exports, or why there are none. */
export async function loadPeers(): Promise<Peer[] | string> {
  const peers = await importExport<Peer[]>('peers/index', 'peers');
  if (typeof peers !== 'string' && !Array.isArray(peers))
    return 'bench/peers/index.ts: peers is not an array';
  return peers;
}

/** A figure's fields from a peer's runs: the last run's params and durability stand for all. */
export function peerFigure(
  peer: Peer,
  op: string,
  recordSize: number,
  results: PeerResult[],
): {
  name: string;
  system: string;
  unit: string;
  runs: number[];
  recordSize: number;
  durability: string;
  params: Record<string, unknown>;
} {
  const last = results[results.length - 1] as PeerResult;
  return {
    name: `${peer.name} ${op}, ${recordSize} B`,
    system: peer.name,
    unit: 'records/s',
    runs: results.map((r) => r.recordsPerSec),
    recordSize,
    durability: last.durability,
    params: {
      recordSize,
      records: last.records,
      op,
      fsyncPerWrite: last.fsyncPerWrite ?? 'not stated',
      ...last.params,
    },
  };
}

async function run(ctx: CaseContext): Promise<void> {
  const peers = await loadPeers();
  if (typeof peers === 'string') {
    ctx.skip('peers', peers);
    return;
  }
  for (const peer of peers) {
    const why = await peer.available().catch((e: Error) => `available() failed: ${e.message}`);
    if (why !== null) {
      ctx.skip(peer.name, why);
      continue;
    }
    ctx.onCleanup(() => peer.stop());
    try {
      for (const recordSize of ctx.quick ? [100] : RECORD_SIZES) {
        // A fresh server per record size: a consume reads what the preceding produces wrote.
        ctx.progress(`${peer.name}: starting`);
        await peerOp(peer, 'start', () => peer.start({ fsync: false }));
        const workload = { records: ctx.sizes.peerRecords[recordSize] as number, recordSize };
        const produced: PeerResult[] = [];
        const consumed: PeerResult[] = [];
        await repeat(ctx, `${peer.name} ${recordSize} B`, async () => {
          produced.push(await peerOp(peer, 'produce', () => peer.produce(workload)));
          consumed.push(await peerOp(peer, 'consume', () => peer.consume(workload)));
        });
        ctx.figure(peerFigure(peer, 'produce', recordSize, produced));
        ctx.figure(peerFigure(peer, 'consume', recordSize, consumed));
        await peerOp(peer, 'stop', () => peer.stop());
      }
    } catch (e) {
      ctx.skip(peer.name, `failed: ${(e as Error).message}`);
    } finally {
      await peerOp(peer, 'stop', () => peer.stop()).catch(() => undefined);
    }
  }
}

export const peersCase: BenchCase = {
  name: 'peers',
  title: 'Peers on the same machine (default durability)',
  summary: 'Redis Streams, NATS JetStream, RabbitMQ streams: the same produce/consume loads',
  run,
};
