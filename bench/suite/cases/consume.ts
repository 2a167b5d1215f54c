/**
 * Consume throughput from Brook: records written once per shape (by Brook's Producer, untimed),
 * then read from the beginning to the end by Brook's Consumer and by kcat, several times each.
 */
import { BROOK_CONSUMER_PARAMS, brookConsume, brookProduce } from '../brook-client.js';
import { DEFAULT_FLUSH } from '../brook.js';
import { type BenchCase, type CaseContext, repeat } from '../context.js';
import { kcatConsume, kcatInstalled } from '../kcat.js';
import {
  BATCH_SIZE,
  COMPRESSIONS,
  freshTopic,
  LINGER_MS,
  PARTITIONS,
  RECORD_SIZES,
} from './produce.js';

async function run(ctx: CaseContext): Promise<void> {
  const broker = await ctx.brook();
  const haveKcat = await kcatInstalled();
  if (!haveKcat) ctx.skip('kcat consume', 'kcat is not installed (apt-get install kcat)');
  const shapes: Array<{ size: number; partitions: number; compression: 'none' | 'lz4' }> = [];
  if (ctx.quick) {
    shapes.push({ size: 100, partitions: 6, compression: 'none' });
    shapes.push({ size: 1024, partitions: 1, compression: 'lz4' });
  } else {
    for (const size of RECORD_SIZES)
      for (const partitions of PARTITIONS)
        for (const compression of COMPRESSIONS) shapes.push({ size, partitions, compression });
  }
  for (const { size, partitions, compression } of shapes) {
    const records = ctx.sizes.records[size] as number;
    const label = `${size} B, ${partitions} partition${partitions === 1 ? '' : 's'}, ${compression}`;
    const topic = freshTopic('consume');
    await broker.createTopic(topic, partitions);
    try {
      ctx.progress(`consume: writing ${records} records (${label})`);
      await brookProduce(broker.bootstrap, topic, records, size, {
        acks: 1,
        compression,
        lingerMs: LINGER_MS,
        batchSize: BATCH_SIZE,
      });
      // One record was sent ahead of the timed ones (metadata warm-up).
      const total = records + 1;
      const written = {
        recordSize: size,
        records: total,
        partitions,
        compression,
        writtenWith: `Brook's Producer, acks=1, batchSize ${BATCH_SIZE}, lingerMs ${LINGER_MS}`,
      };
      const brook = await repeat(ctx, `consume brook ${label}`, async () => {
        return total / (await brookConsume(broker.bootstrap, topic, partitions, total));
      });
      ctx.figure({
        name: `Brook's Consumer, ${label}`,
        system: 'brook',
        unit: 'records/s',
        runs: brook,
        recordSize: size,
        durability: DEFAULT_FLUSH,
        params: { ...written, ...BROOK_CONSUMER_PARAMS, clientId: 'brook' },
        note: 'clock starts at assign(); connection set-up included',
      });
      if (haveKcat) {
        const kcat = await repeat(ctx, `consume kcat ${label}`, async () => {
          return total / (await kcatConsume(broker.bootstrap, topic, total));
        });
        ctx.figure({
          name: `kcat -C -e, ${label}`,
          system: 'brook',
          unit: 'records/s',
          runs: kcat,
          recordSize: size,
          durability: DEFAULT_FLUSH,
          params: {
            ...written,
            client: 'kcat -C -o beginning -e (librdkafka defaults)',
            clientId: 'kcat',
          },
          note: 'kcat process start-up and metadata included in the time',
        });
      }
    } finally {
      await broker.deleteTopics([topic]);
    }
  }
}

export const consumeCase: BenchCase = {
  name: 'consume',
  title: 'Consume throughput (Brook)',
  summary: "the produce shapes read back from the beginning by Brook's Consumer and kcat -C",
  run,
};
