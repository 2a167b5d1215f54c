/**
 * Disk full: the broker runs on a small file system (a size-limited tmpfs, else a loop-mounted
 * image) and producers write until it is full. Produce must answer KAFKA_STORAGE_ERROR (never
 * crash the broker), reads keep working, nothing acknowledged is lost (also across a SIGKILL and
 * a SIGTERM on the full disk), and appends resume once space is freed.
 */
import assert from 'node:assert/strict';
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Admin, Consumer, KafkaError, Producer } from '../../src/client/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CrashableBroker } from './helpers/crashable-broker.js';
import { printFigures } from './helpers/figures.js';
import { AckLedger, recordValue } from './helpers/ledger.js';
import { scale } from './helpers/mode.js';
import { readTopic } from './helpers/read-partitions.js';
import { mountSmallFs } from './helpers/small-fs.js';

const TOPIC = 'full';
const PARTITIONS = 2;

/** Sends batches of ~1 KiB records until a send fails; returns that failure. */
async function fillUntilRefused(
  producer: Producer,
  ledger: AckLedger,
  seq: number[],
  maxSends: number,
): Promise<unknown> {
  for (let n = 0; n < maxSends; n++) {
    const values: string[] = [];
    const records = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0; i < 16; i++) {
        const v = recordValue(0, p, seq[p]++);
        values.push(v);
        records.push({ partition: p, value: `${v}|${'x'.repeat(1000)}` });
      }
    }
    try {
      const metas = await producer.send(TOPIC, records);
      for (let i = 0; i < metas.length; i++)
        ledger.ack(metas[i].partition, metas[i].offset, values[i]);
    } catch (err) {
      return err;
    }
  }
  return undefined;
}

function checkAll(ledger: AckLedger, reads: Awaited<ReturnType<typeof readTopic>>, when: string) {
  const check = ledger.check(reads);
  assert.deepEqual(check.problems, [], when);
  assert.equal(check.lost, 0, when);
  return check;
}

test('disk full: produce gets KAFKA_STORAGE_ERROR, reads keep working, nothing acknowledged is lost, appends resume when space is freed', async (t) => {
  const fsBytes = scale(8, 32) * 1024 * 1024;
  const fs = mountSmallFs(fsBytes);
  t.after(() => fs.cleanup());
  // Ballast to free later: the "operator makes room" step.
  const ballast = join(fs.dir, 'ballast');
  writeFileSync(ballast, Buffer.alloc(Math.floor(fsBytes / 4)));
  const broker = new CrashableBroker({
    dataDir: join(fs.dir, 'data'),
    args: ['--set', 'offsets.topic.num.partitions=1'],
  });
  t.after(() => broker.cleanup());
  await broker.start();
  const admin = new Admin({ bootstrapServers: broker.bootstrap });
  await admin.createTopics([
    {
      topic: TOPIC,
      numPartitions: PARTITIONS,
      replicationFactor: 1,
      configs: { 'segment.bytes': String(512 * 1024) },
    },
  ]);
  await admin.close();

  // A consumer group commits before, during and after: its offsets live on the same disk.
  const group = 'full-group';
  const tps = Array.from({ length: PARTITIONS }, (_, p) => ({ topic: TOPIC, partition: p }));
  const commit = async (offset: number, metadata: string | null = null) => {
    const c = new Consumer({
      bootstrapServers: broker.bootstrap,
      groupId: group,
      requestTimeoutMs: 10000,
    });
    try {
      await c.commitSync(tps.map((tp) => ({ ...tp, offset, metadata })));
    } finally {
      await c.close().catch(() => undefined);
    }
  };
  const committed = async () => {
    const a = new Admin({ bootstrapServers: broker.bootstrap });
    try {
      return (await a.fetchOffsets(group, tps)).map((o) => o.offset);
    } finally {
      await a.close();
    }
  };
  await commit(1);

  const ledger = new AckLedger();
  const seq = new Array<number>(PARTITIONS).fill(0);
  const newProducer = () =>
    new Producer({ bootstrapServers: broker.bootstrap, acks: 'all', retries: 0, lingerMs: 1 });
  let producer = newProducer();
  t.after(() => producer.close().catch(() => undefined));
  const maxSends = Math.ceil(fsBytes / (PARTITIONS * 16 * 1000)) * 2;
  const refused = await fillUntilRefused(producer, ledger, seq, maxSends);
  const free = statfsSync(fs.dir);
  console.log(
    `[faults] disk-full on ${fs.kind}: ${ledger.count} records acknowledged, then ${String(refused)} (${free.bavail * free.bsize} bytes free)`,
  );
  assert.ok(refused instanceof KafkaError, `expected a KafkaError, got ${String(refused)}`);
  assert.equal(refused.code, ErrorCode.KAFKA_STORAGE_ERROR);
  assert.ok(ledger.count > 0);
  const ackedWhenFull = ledger.count;

  // Still full: more sends are refused the same way, and reads serve everything acknowledged.
  const again = await fillUntilRefused(producer, ledger, seq, 3);
  assert.ok(again instanceof KafkaError && again.code === ErrorCode.KAFKA_STORAGE_ERROR);
  checkAll(ledger, await readTopic(broker.port, TOPIC, PARTITIONS), 'reads on the full disk');
  let commitRefused: unknown;
  // Metadata near Kafka's 4096-byte limit, so that the records need more than the slack left in
  // the offsets log's last page.
  await commit(2, 'm'.repeat(4000)).catch((err: unknown) => {
    commitRefused = err;
  });
  console.log(
    `[faults] disk-full: OffsetCommit on the full disk: ${String(commitRefused ?? 'accepted')}`,
  );
  assert.ok(commitRefused instanceof KafkaError, 'a commit that cannot be written is refused');
  assert.deepEqual(await committed(), [1, 1], 'the refused commit is not visible');
  const logged = broker.linesOf().filter((l) => /no space left|ENOSPC/i.test(JSON.stringify(l)));
  assert.ok(logged.length > 0, 'the broker logs why appends fail');

  // A crash on the full disk, and a restart there: nothing acknowledged is lost.
  await producer.close().catch(() => undefined);
  await broker.kill();
  await broker.start();
  checkAll(
    ledger,
    await readTopic(broker.port, TOPIC, PARTITIONS),
    'after SIGKILL on the full disk',
  );
  assert.deepEqual(
    await committed(),
    [1, 1],
    'committed offsets survive the crash on the full disk',
  );

  // A clean stop on the full disk cannot write its checkpoints: it says so, exits, and the next
  // start recovers (nothing acknowledged lost).
  assert.equal(await broker.stop(), 0, 'SIGTERM on the full disk still exits');
  assert.ok(
    broker.linesOf().some((l) => /did not shut down cleanly/.test(String(l.msg))),
    'the failed clean shutdown is logged',
  );
  await broker.start();
  checkAll(
    ledger,
    await readTopic(broker.port, TOPIC, PARTITIONS),
    'after SIGTERM on the full disk',
  );

  // Room is made: appends resume at the log end.
  rmSync(ballast);
  producer = newProducer();
  const resumed = await fillUntilRefused(producer, ledger, seq, 5);
  assert.equal(resumed, undefined, `appends resume once space is freed: ${String(resumed)}`);
  await commit(3);
  await producer.close();
  assert.equal(await broker.stop(), 0, 'clean shutdown after the disk was full');
  await broker.start();
  const check = checkAll(ledger, await readTopic(broker.port, TOPIC, PARTITIONS), 'after restart');
  assert.deepEqual(await committed(), [3, 3]);
  printFigures('disk-full', {
    fs: fs.kind,
    fsBytes,
    acknowledgedBeforeFull: ackedWhenFull,
    acknowledged: check.acknowledged,
    found: check.found,
    lost: check.lost,
    duplicated: check.duplicated,
    refusedWith: refused.name,
    commitRefusedWith:
      commitRefused instanceof KafkaError ? commitRefused.name : String(commitRefused),
    crashes: broker.unexpectedExits,
    peakBrokerRssMiB: Math.round(broker.peakRss / 2 ** 20),
  });
  assert.equal(broker.unexpectedExits, 0);
});
