/**
 * Torn writes and corruption: between broker runs, segment files are cut at random byte
 * positions and have random bytes flipped (seeded). The broker must come back, report what it
 * dropped, serve every record before the damage, and never serve a batch that fails its CRC
 * (every batch this test fetches is CRC-checked). Appends continue at the new log end.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Admin, Producer } from '../../src/client/index.js';
import { CrashableBroker } from './helpers/crashable-broker.js';
import { type Damage, cutAtRandom, flipAtRandom, segmentFiles } from './helpers/damage.js';
import { printFigures } from './helpers/figures.js';
import { AckLedger, recordValue } from './helpers/ledger.js';
import { scale } from './helpers/mode.js';
import { scenarioRandom } from './helpers/random.js';
import { type PartitionRead, readTopic } from './helpers/read-partitions.js';

const PARTITIONS = 2;

/** Sends `count` numbered records to each partition (sequences from `from`), noting the acks. */
async function produce(
  bootstrap: string,
  topic: string,
  from: number,
  count: number,
  ledger: AckLedger,
): Promise<void> {
  const producer = new Producer({ bootstrapServers: bootstrap, acks: 'all', lingerMs: 1 });
  try {
    for (let s = from; s < from + count; s += 20) {
      const values: string[] = [];
      const records = [];
      for (let p = 0; p < PARTITIONS; p++) {
        for (let i = s; i < Math.min(s + 20, from + count); i++) {
          values.push(recordValue(0, p, i));
          records.push({ partition: p, value: `${recordValue(0, p, i)}|${'x'.repeat(60)}` });
        }
      }
      const metas = await producer.send(topic, records);
      for (let i = 0; i < metas.length; i++)
        ledger.ack(metas[i].partition, metas[i].offset, values[i]);
    }
  } finally {
    await producer.close();
  }
}

/** Checks one damaged partition; returns how many acknowledged records it lost. */
function checkPartition(
  what: string,
  read: PartitionRead,
  acked: Map<number, string>,
  damage: Damage | undefined,
): number {
  assert.equal(
    read.badBatches,
    0,
    `${what}: the broker served ${read.badBatches} batches that fail their CRC`,
  );
  let expected = 0;
  for (const r of read.records) {
    assert.equal(r.offset, expected, `${what}: offsets must be contiguous`);
    expected++;
    assert.equal(
      r.value.split('|', 1)[0],
      acked.get(r.offset),
      `${what}: offset ${r.offset} served a record it never acknowledged there`,
    );
  }
  const servedUpTo = expected;
  const mustSurvive = damage?.firstDamagedOffset ?? Number.MAX_SAFE_INTEGER;
  let lost = 0;
  for (const offset of acked.keys()) {
    if (offset < servedUpTo) continue;
    assert.ok(
      offset >= mustSurvive,
      `${what}: offset ${offset}, before the damage at ${mustSurvive}, was not served (read stopped at ${read.stoppedAt} with error ${read.errorCode})`,
    );
    lost++;
  }
  return lost;
}

interface RoundsOptions {
  scenario: string;
  /** How the broker goes down before the damage: SIGKILL (recovery rescans) or SIGTERM. */
  stop: 'kill' | 'term';
  /** Topic configs of each round's topic. */
  configs: Record<string, string>;
}

async function damageRounds(t: TestContext, o: RoundsOptions): Promise<void> {
  const random = scenarioRandom(o.scenario);
  const rounds = scale(3, 12);
  const broker = new CrashableBroker({ args: ['--set', 'offsets.topic.num.partitions=1'] });
  t.after(() => broker.cleanup());
  await broker.start();
  const figures = {
    rounds,
    damaged: 0,
    cuts: 0,
    flips: 0,
    acknowledged: 0,
    lostToDamage: 0,
    served: 0,
    batchesChecked: 0,
    badBatchesServed: 0,
    recoveryReports: 0,
    readErrors: 0,
    appendedAfter: 0,
  };
  for (let round = 0; round < rounds; round++) {
    const topic = `torn-${round}`;
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    await admin.createTopics([
      {
        topic,
        numPartitions: PARTITIONS,
        replicationFactor: 1,
        configs: {
          'segment.bytes': String(16 * 1024),
          'index.interval.bytes': '1024',
          ...o.configs,
        },
      },
    ]);
    await admin.close();
    const ledger = new AckLedger();
    await produce(broker.bootstrap, topic, 0, 600, ledger);
    figures.acknowledged += ledger.count;
    if (o.stop === 'kill') await broker.kill();
    else assert.equal(await broker.stop(), 0);
    const damages: (Damage | undefined)[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const files = segmentFiles(join(broker.dataDir, `${topic}-${p}`));
      const file = random.pick(files);
      const damage = random.next() < 0.5 ? cutAtRandom(file, random) : flipAtRandom(file, random);
      damages.push(damage);
      if (damage) {
        figures.damaged++;
        figures[damage.kind === 'cut' ? 'cuts' : 'flips']++;
        console.log(
          `[faults] round ${round} ${o.stop === 'kill' ? 'after SIGKILL' : 'after SIGTERM'}: ${damage.kind} ${damage.file.slice(broker.dataDir.length + 1)} at ${damage.positions.join(',')} (first damaged offset ${damage.firstDamagedOffset})`,
        );
      }
    }
    await broker.start();
    const reads = await readTopic(broker.port, topic, PARTITIONS);
    const reports = broker
      .linesOf()
      .filter((l) => l.event === 'log-recovered' && l.topic === topic);
    figures.recoveryReports += reports.length;
    for (let p = 0; p < PARTITIONS; p++) {
      const what = `round ${round} ${topic}-${p}`;
      const read = reads[p];
      figures.batchesChecked += read.batches;
      figures.badBatchesServed += read.badBatches;
      figures.served += read.records.length;
      if (read.errorCode !== 0) figures.readErrors++;
      const lost = checkPartition(what, read, ledger.acked.get(p) ?? new Map(), damages[p]);
      figures.lostToDamage += lost;
      if (lost > 0) {
        // Dropped data is reported: by recovery (a log line) or to the reader (an error code).
        const reported = reports.some((l) => l.partition === p) || read.errorCode !== 0;
        assert.ok(reported, `${what}: ${lost} records dropped without a report`);
      }
    }
    // Appends continue at the log end, and whatever recovery cut is served again from there.
    const after = new AckLedger();
    await produce(broker.bootstrap, topic, 1000, 40, after);
    figures.appendedAfter += after.count;
    const again = await readTopic(broker.port, topic, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(again[p].badBatches, 0);
      if (reads[p].errorCode !== 0) continue; // damage found by reading stays refused
      const served = new Map(again[p].records.map((r) => [r.offset, r.value.split('|', 1)[0]]));
      for (const [offset, value] of after.acked.get(p) ?? []) {
        assert.equal(
          served.get(offset),
          value,
          `round ${round} ${topic}-${p}: append after recovery at ${offset}`,
        );
      }
    }
  }
  printFigures(o.scenario, {
    ...figures,
    crashes: broker.unexpectedExits,
    peakBrokerRssMiB: Math.round(broker.peakRss / 2 ** 20),
  });
  assert.equal(broker.unexpectedExits, 0);
  assert.equal(figures.badBatchesServed, 0);
}

test('torn writes and flipped bytes found by crash recovery: reported, the records before the damage served, no corrupt batch served', async (t) => {
  // No flush until shutdown (Kafka's default): after a SIGKILL the recovery point is the log
  // start, so recovery rescans (and CRC-checks) every segment the damage can be in.
  await damageRounds(t, {
    scenario: 'corruption[crash-recovery]',
    stop: 'kill',
    configs: { 'flush.ms': String(3_600_000) },
  });
});

test('damage recovery does not rescan (after a clean shutdown) is found when read: never served, reported, the records before it served', async (t) => {
  // Fetch CRC-checks what it serves (checkServedBatches in the Fetch handler).
  await damageRounds(t, { scenario: 'corruption[clean-shutdown]', stop: 'term', configs: {} });
});
