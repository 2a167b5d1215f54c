/**
 * Durability parity: every system fsyncs each acknowledged write before acknowledging it. Brook's
 * topic runs flush.policy=always (an append resolves after fdatasync of the log, with group
 * commit; Kafka's nearest setting is log.flush.interval.messages=1), beside the same load on the
 * default interval policy, and each peer is started with its own fsync-always setting.
 */
import { DEFAULT_FLUSH } from '../brook.js';
import { brookParams, brookProduce } from '../brook-client.js';
import { type BenchCase, type CaseContext, repeat } from '../context.js';
import { kcatInstalled, kcatParams, kcatProduce, recordFile } from '../kcat.js';
import { loadPeers, peerFigure, peerOp } from './peers.js';
import { BATCH_SIZE, freshTopic, LINGER_MS } from './produce.js';

const RECORD_SIZE = 100;
const PARTITIONS = 6;
const ALWAYS = 'flush.policy=always (fdatasync of the log before the ack, group commit)';

async function brookFigures(ctx: CaseContext): Promise<void> {
  const broker = await ctx.brook();
  const records = ctx.sizes.durabilityRecords;
  const options = {
    acks: 'all' as const,
    compression: 'none' as const,
    lingerMs: LINGER_MS,
    batchSize: BATCH_SIZE,
  };
  const haveKcat = await kcatInstalled();
  const file = haveKcat
    ? recordFile(ctx.tempDir('brook-bench-durability-'), records, RECORD_SIZE)
    : '';
  if (!haveKcat)
    ctx.skip('kcat, flush.policy=always', 'kcat is not installed (apt-get install kcat)');
  for (const [policy, configs, durability] of [
    ['always', { 'flush.policy': 'always' }, ALWAYS],
    ['interval', {}, DEFAULT_FLUSH],
  ] as const) {
    for (const client of haveKcat ? (['brook', 'kcat'] as const) : (['brook'] as const)) {
      const runs = await repeat(ctx, `durability: Brook ${policy}, ${client}`, async () => {
        const topic = freshTopic(`durability-${policy}`);
        await broker.createTopic(topic, PARTITIONS, configs);
        try {
          const secs =
            client === 'brook'
              ? await brookProduce(broker.bootstrap, topic, records, RECORD_SIZE, options)
              : await kcatProduce(broker.bootstrap, topic, file, options);
          return records / secs;
        } finally {
          await broker.deleteTopics([topic]);
        }
      });
      ctx.figure({
        name: `Brook ${policy === 'always' ? 'fsync always' : 'default flush'}, ${client === 'brook' ? "Brook's Producer" : 'kcat -P -l'}, ${RECORD_SIZE} B, ${PARTITIONS} partitions, acks=all`,
        system: 'brook',
        unit: 'records/s',
        runs,
        recordSize: RECORD_SIZE,
        durability,
        params: {
          recordSize: RECORD_SIZE,
          records,
          partitions: PARTITIONS,
          topicConfig: configs,
          ...(client === 'brook' ? brookParams(options) : kcatParams(options)),
          clientId: client,
        },
      });
    }
  }
}

async function peerFigures(ctx: CaseContext): Promise<void> {
  const peers = await loadPeers();
  if (typeof peers === 'string') {
    ctx.skip('peers with fsync', peers);
    return;
  }
  if (ctx.quick) {
    // Three more server starts do not fit a smoke run; the peers case already starts each one.
    ctx.skip('peers with fsync', '--quick: peers with fsync always run in the full suite only');
    return;
  }
  const workload = { records: ctx.sizes.durabilityRecords, recordSize: RECORD_SIZE };
  for (const peer of peers) {
    const why = await peer.available().catch((e: Error) => `available() failed: ${e.message}`);
    if (why !== null) {
      ctx.skip(`${peer.name} with fsync`, why);
      continue;
    }
    ctx.onCleanup(() => peer.stop());
    try {
      ctx.progress(`${peer.name} (fsync): starting`);
      await peerOp(peer, 'start', () => peer.start({ fsync: true }));
      const produced = await repeat(ctx, `durability: ${peer.name} fsync`, () =>
        peerOp(peer, 'produce', () => peer.produce(workload)),
      );
      const f = peerFigure(peer, 'produce', RECORD_SIZE, produced);
      // NATS 2.9 and RabbitMQ 3.10 have no fsync-per-write setting: say so in the name.
      const synced = produced.every((r) => r.fsyncPerWrite === true);
      ctx.figure({
        ...f,
        name: `${peer.name} ${synced ? 'fsync always' : 'asked to fsync, cannot (not in force)'}, produce, ${RECORD_SIZE} B`,
      });
    } catch (e) {
      ctx.skip(`${peer.name} with fsync`, `failed: ${(e as Error).message}`);
    } finally {
      await peerOp(peer, 'stop', () => peer.stop()).catch(() => undefined);
    }
  }
}

async function run(ctx: CaseContext): Promise<void> {
  await brookFigures(ctx);
  await peerFigures(ctx);
}

export const durabilityCase: BenchCase = {
  name: 'durability',
  title: 'Durability parity (every acknowledged write fsynced)',
  summary: 'Brook flush.policy=always vs default, and each peer with its fsync-always setting',
  run,
};
