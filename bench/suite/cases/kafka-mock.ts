/**
 * The upper reference: librdkafka's in-memory mock cluster (one broker, no disk, written in C by
 * librdkafka's authors) under the same kcat loads as Brook, produce and consume. Brook's goal is
 * at least 80% of its produce throughput.
 */
import { type MockCluster, startMockCluster } from '../../../test/client/helpers/mock-cluster.js';
import { type BenchCase, type CaseContext, repeat } from '../context.js';
import { kcatConsumeAll, kcatInstalled, kcatParams, kcatProduce, recordFile } from '../kcat.js';
import { BATCH_SIZE, freshTopic, LINGER_MS, PARTITIONS, RECORD_SIZES, shape } from './produce.js';

async function run(ctx: CaseContext): Promise<void> {
  if (!(await kcatInstalled())) {
    ctx.skip('kafka-mock', 'kcat is not installed (apt-get install kcat)');
    return;
  }
  let mock: MockCluster;
  try {
    ctx.progress('kafka-mock: building/starting the mock cluster');
    mock = await startMockCluster(1);
  } catch (e) {
    ctx.skip(
      'kafka-mock',
      `the mock cluster could not start (needs gcc and librdkafka-dev): ${(e as Error).message}`,
    );
    return;
  }
  const durability = 'in memory only (no disk)';
  try {
    const dir = ctx.tempDir('brook-bench-mock-');
    const sizes = ctx.quick ? [100] : RECORD_SIZES;
    for (const size of sizes) {
      const records = ctx.sizes.records[size] as number;
      const file = recordFile(dir, records, size);
      for (const partitions of ctx.quick ? [6] : PARTITIONS) {
        const options = {
          acks: 1 as const,
          compression: 'none' as const,
          lingerMs: LINGER_MS,
          batchSize: BATCH_SIZE,
        };
        const common = {
          recordSize: size,
          records,
          partitions,
          acks: 1,
          compression: 'none',
          brokers: 1,
        };
        const topics: string[] = [];
        const produce = await repeat(
          ctx,
          `kafka-mock produce ${shape(size, partitions, 1, 'none')}`,
          async () => {
            const topic = freshTopic('mock');
            topics.push(topic);
            await mock.createTopic(topic, partitions, 1);
            return records / (await kcatProduce(mock.bootstrap, topic, file, options));
          },
        );
        ctx.figure({
          name: `kcat -P -l, ${shape(size, partitions, 1, 'none')}`,
          system: 'kafka-mock',
          unit: 'records/s',
          runs: produce,
          recordSize: size,
          durability,
          params: { ...common, ...kcatParams(options), clientId: 'kcat' },
          note: 'kcat process start-up and metadata included in the time',
        });
        let kept = Number.POSITIVE_INFINITY;
        const consume = await repeat(
          ctx,
          `kafka-mock consume ${shape(size, partitions, 1, 'none')}`,
          async (r) => {
            // The mock keeps only its newest ~5 MB per partition (librdkafka's mock retention):
            // the rate is over the records it still had.
            const read = await kcatConsumeAll(mock.bootstrap, topics[r] as string);
            if (read.records === 0) throw new Error('kcat read nothing back from the mock cluster');
            kept = Math.min(kept, read.records);
            return read.records / read.seconds;
          },
        );
        ctx.figure({
          name: `kcat -C -e, ${size} B, ${partitions} partition${partitions === 1 ? '' : 's'}, none`,
          system: 'kafka-mock',
          unit: 'records/s',
          runs: consume,
          recordSize: size,
          durability,
          params: {
            ...common,
            records: kept,
            recordsWritten: records,
            client: 'kcat -C -o beginning -e (librdkafka defaults)',
            clientId: 'kcat',
          },
          note:
            kept < records
              ? `the mock retains only its newest ~5 MB per partition: ${kept} of ${records} records were left to read`
              : 'kcat process start-up and metadata included in the time',
        });
      }
    }
  } finally {
    await mock.stop();
  }
}

export const kafkaMockCase: BenchCase = {
  name: 'kafka-mock',
  title: "librdkafka's mock cluster (upper reference, no disk)",
  summary: 'the same kcat produce/consume loads against librdkafka’s in-memory mock cluster',
  run,
};
