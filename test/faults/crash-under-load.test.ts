/**
 * Crash under load: idempotent acks=all producers write to several partitions and a consumer
 * group commits as it reads, while the broker is SIGKILLed at random (seeded) moments and
 * restarted on the same data directory. Afterwards every acknowledged record must be present
 * exactly once at its acknowledged offset, in order, with contiguous offsets, every batch must
 * pass its CRC, and the group's committed offsets must never have gone backwards.
 * Run once per flush policy: a SIGKILL leaves the OS running, so even `interval` (page cache,
 * fsync later) must lose nothing acknowledged. See docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admin } from '../../src/client/index.js';
import { until } from '../broker/helpers/until.js';
import { CrashableBroker } from './helpers/crashable-broker.js';
import { printFigures } from './helpers/figures.js';
import { AckLedger } from './helpers/ledger.js';
import { CommittingConsumer, ProducerLoad } from './helpers/load.js';
import { scale } from './helpers/mode.js';
import { scenarioRandom } from './helpers/random.js';
import { readTopic } from './helpers/read-partitions.js';

const PARTITIONS = 4;
const TOPIC = 'crash-load';
const GROUP = 'crash-checker';

async function committedOffsets(bootstrap: string): Promise<Map<number, number>> {
  const admin = new Admin({ bootstrapServers: bootstrap, requestTimeoutMs: 10000 });
  try {
    const offsets = await admin.fetchOffsets(GROUP, null);
    return new Map(offsets.filter((o) => o.topic === TOPIC).map((o) => [o.partition, o.offset]));
  } finally {
    await admin.close();
  }
}

for (const policy of ['interval', 'always'] as const) {
  test(`crash under load (flush.policy=${policy}): every acknowledged record survives SIGKILLs exactly once, in order`, async (t) => {
    const random = scenarioRandom(`crash-under-load[${policy}]`);
    const cycles = scale(3, 25);
    const startupKills = scale(0, 1);
    const killedDuringStart: string[] = [];
    const broker = new CrashableBroker({
      args: [
        '--set',
        'offsets.topic.num.partitions=2',
        '--set',
        'group.initial.rebalance.delay.ms=0',
      ],
    });
    t.after(() => broker.cleanup());
    await broker.start();
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    await admin.createTopics([
      {
        topic: TOPIC,
        numPartitions: PARTITIONS,
        replicationFactor: 1,
        // Small segments, so that kills also land around rolls and several segments recover.
        configs: { 'flush.policy': policy, 'segment.bytes': String(256 * 1024) },
      },
    ]);
    await admin.close();

    const ledger = new AckLedger();
    const load = new ProducerLoad(
      {
        bootstrap: broker.bootstrap,
        topic: TOPIC,
        partitions: PARTITIONS,
        producers: 3,
        recordsPerPartition: 10,
        padding: 40,
        pauseMs: 2,
      },
      ledger,
    );
    const consumer = new CommittingConsumer({
      bootstrap: broker.bootstrap,
      groupId: GROUP,
      topic: TOPIC,
      partitions: PARTITIONS,
    });
    let stopped = false;
    t.after(async () => {
      if (!stopped) await Promise.all([load.stop(), consumer.stop()]);
    });
    load.start();
    consumer.start();

    let lastSeen = new Map<number, number>();
    let backwards = 0;
    const killedAtAcks: number[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      // Wait until this run has acknowledged something, then kill at a random moment.
      const before = ledger.count;
      await until(() => ledger.count > before, `acknowledgements in run ${broker.starts}`, 60000);
      await new Promise((r) => setTimeout(r, random.int(50, 1500)));
      const floor = consumer.snapshot();
      killedAtAcks.push(ledger.count);
      await broker.kill();
      // Now and then (long mode) a second crash while the broker starts (recovery, replay).
      if (startupKills > 0 && cycle % 4 === 3) {
        const wasReady = await broker.killDuringStart(random.int(500, 8000));
        killedDuringStart.push(wasReady ? 'after-ready' : 'during-start');
      }
      await broker.start();
      const committed = await committedOffsets(broker.bootstrap);
      for (const [p, offset] of floor) {
        const now = committed.get(p) ?? -1;
        assert.ok(
          now >= offset,
          `partition ${p}: committed ${now} after the kill, ${offset} acknowledged before`,
        );
      }
      for (const [p, offset] of lastSeen) {
        if ((committed.get(p) ?? -1) < offset) backwards++;
      }
      lastSeen = committed;
    }
    // A last stretch of load on the final run, then a quiet end.
    const before = ledger.count;
    await until(() => ledger.count > before, 'acknowledgements after the last restart', 60000);
    await Promise.all([load.stop(), consumer.stop()]);
    stopped = true;

    const finalCommitted = await committedOffsets(broker.bootstrap);
    for (const [p, offset] of consumer.committed) {
      assert.ok((finalCommitted.get(p) ?? -1) >= offset, `partition ${p}: final commit lost`);
    }
    const reads = await readTopic(broker.port, TOPIC, PARTITIONS);
    const check = ledger.check(reads);
    printFigures(`crash-under-load[${policy}]`, {
      cycles,
      cyclesSurvived: cycles,
      killsSurvived: broker.kills,
      restartMs: broker.startMs,
      killedDuringStart,
      crashes: broker.unexpectedExits,
      acknowledged: check.acknowledged,
      found: check.found,
      lost: check.lost,
      duplicated: check.duplicated,
      unacknowledgedPresent: check.unacknowledgedPresent,
      batchesChecked: reads.reduce((n, r) => n + r.batches, 0),
      sendsAcked: load.sendsAcked,
      sendsFailed: load.sendsFailed,
      commits: consumer.commits,
      consumerRestarts: consumer.errors,
      consumerErrors: consumer.errorSamples,
      committedWentBack: backwards,
      peakBrokerRssMiB: Math.round(broker.peakRss / 2 ** 20),
    });
    assert.deepEqual(check.problems, []);
    assert.equal(check.lost, 0);
    assert.equal(check.duplicated, 0);
    assert.equal(backwards, 0, 'committed offsets went backwards');
    assert.equal(broker.unexpectedExits, 0, 'the broker crashed on its own');
    assert.equal(load.sendsFailed, 0, `failed sends: ${load.failures.join('; ')}`);
    assert.ok(check.acknowledged > 0);
  });
}
