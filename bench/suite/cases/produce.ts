/**
 * Produce throughput against Brook: 100-byte and 1 KiB records, 1 and 6 partitions, acks=1 and
 * acks=all, no compression and lz4, with Brook's Producer and with kcat reading records from a
 * file. Each run writes into a fresh topic (deleted afterwards); the broker's RSS is sampled from
 * /proc during every run.
 */
import { DEFAULT_FLUSH, sampleRss } from '../brook.js';
import { brookParams, brookProduce } from '../brook-client.js';
import { type BenchCase, type CaseContext, repeat } from '../context.js';
import { kcatInstalled, kcatParams, kcatProduce, recordFile } from '../kcat.js';

export const RECORD_SIZES = [100, 1024] as const;
export const PARTITIONS = [1, 6] as const;
export const ACKS = [1, 'all'] as const;
export const COMPRESSIONS = ['none', 'lz4'] as const;
/** Linger and batch size of both clients in every throughput case. */
export const LINGER_MS = 5;
export const BATCH_SIZE = 65536;

/** "100 B, 6 partitions, acks=1, lz4" */
export function shape(
  size: number,
  partitions: number,
  acks: 1 | 'all',
  compression: string,
): string {
  return `${size} B, ${partitions} partition${partitions === 1 ? '' : 's'}, acks=${acks}, ${compression}`;
}

/** One produce workload shape. */
export interface Shape {
  readonly size: number;
  readonly partitions: number;
  readonly acks: 1 | 'all';
  readonly compression: 'none' | 'lz4';
}

/**
 * The shapes a run measures: every combination in a full run; in --quick, three that between
 * them touch each dimension (the Kafka 2014 shape, the slow corner, the 1 KiB records).
 */
export function produceShapes(quick: boolean): Shape[] {
  if (quick) {
    return [
      { size: 100, partitions: 6, acks: 1, compression: 'none' },
      { size: 100, partitions: 1, acks: 'all', compression: 'lz4' },
      { size: 1024, partitions: 6, acks: 1, compression: 'none' },
    ];
  }
  const out: Shape[] = [];
  for (const size of RECORD_SIZES)
    for (const partitions of PARTITIONS)
      for (const acks of ACKS)
        for (const compression of COMPRESSIONS) out.push({ size, partitions, acks, compression });
  return out;
}

let topicSeq = 0;
/** A topic name no earlier run used. */
export function freshTopic(prefix: string): string {
  return `${prefix}-${process.pid}-${++topicSeq}`;
}

async function run(ctx: CaseContext): Promise<void> {
  const broker = await ctx.brook();
  const haveKcat = await kcatInstalled();
  if (!haveKcat) ctx.skip('kcat produce', 'kcat is not installed (apt-get install kcat)');
  const dir = ctx.tempDir('brook-bench-produce-');
  const files = new Map<number, string>();
  for (const { size, partitions, acks, compression } of produceShapes(ctx.quick)) {
    const records = ctx.sizes.records[size] as number;
    let file = files.get(size) ?? '';
    if (haveKcat && file === '') files.set(size, (file = recordFile(dir, records, size)));
    const options = { acks, compression, lingerMs: LINGER_MS, batchSize: BATCH_SIZE };
    const common = { recordSize: size, records, partitions, acks, compression };
    const clients = haveKcat ? (['brook', 'kcat'] as const) : (['brook'] as const);
    for (const client of clients) {
      let rss = 0;
      const runs = await repeat(
        ctx,
        `produce ${client} ${shape(size, partitions, acks, compression)}`,
        async () => {
          const topic = freshTopic(`produce-${client}`);
          await broker.createTopic(topic, partitions);
          const sampler = sampleRss(broker.pid);
          try {
            const secs =
              client === 'brook'
                ? await brookProduce(broker.bootstrap, topic, records, size, options)
                : await kcatProduce(broker.bootstrap, topic, file, options);
            return records / secs;
          } finally {
            rss = Math.max(rss, sampler.stop());
            await broker.deleteTopics([topic]);
          }
        },
      );
      ctx.figure({
        name: `${client === 'brook' ? "Brook's Producer" : 'kcat -P -l'}, ${shape(size, partitions, acks, compression)}`,
        system: 'brook',
        unit: 'records/s',
        runs,
        recordSize: size,
        brokerRssMb: rss,
        durability: DEFAULT_FLUSH,
        params: {
          ...common,
          ...(client === 'brook' ? brookParams(options) : kcatParams(options)),
          clientId: client,
        },
        note:
          client === 'kcat'
            ? 'kcat process start-up and metadata included in the time'
            : 'connection and metadata set up before the clock starts',
      });
    }
  }
}

export const produceCase: BenchCase = {
  name: 'produce',
  title: 'Produce throughput (Brook)',
  summary: "100 B/1 KiB, 1/6 partitions, acks=1/all, none/lz4; Brook's Producer and kcat -P -l",
  run,
};
