/**
 * The container in-process against a real broker: asynchronous process() keeps per-partition
 * order, window() runs on its timer, coordinator.shutdown() stops cleanly, the checkpoint carries
 * the changelog offsets in the offset commit metadata, and /metrics serves the task metrics.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { Admin, Producer } from '../../src/client/index.js';
import {
  Container,
  defineJob,
  type IncomingEnvelope,
  type KeyValueStore,
  longSerde,
  type MessageCollector,
  type StreamTask,
  stringSerde,
  type TaskContext,
  type TaskCoordinator,
} from '../../src/streams/index.js';
import { decodeCheckpointMetadata } from '../../src/streams/runtime/checkpoint.js';
import type { BrokerProcess } from '../broker/helpers/broker-process.js';
import {
  createTopics,
  eventually,
  lastValues,
  startStreamsBroker,
  tempFolder,
} from './runtime-helpers.js';

let broker: BrokerProcess;
let bootstrap: string;
const state = tempFolder('brook-runtime-');

before(async () => {
  ({ broker, bootstrap } = await startStreamsBroker());
  await createTopics(bootstrap, ['rt-in', 'rt-out'], 2);
});

after(async () => {
  await broker?.cleanup();
  state.remove();
});

const TOTAL = 300;
const inputs = { events: { topic: 'rt-in', keySerde: stringSerde, valueSerde: stringSerde } };
const outputs = { echo: { topic: 'rt-out', keySerde: stringSerde, valueSerde: stringSerde } };
const stores = {
  seen: { keySerde: stringSerde, valueSerde: longSerde, engine: 'in-memory', cacheSize: 0 },
} as const;

/** What the tasks observed, across tasks. */
const observed = { offsets: new Map<number, number[]>(), windows: 0, processed: 0, closed: 0 };

class AsyncTask implements StreamTask<typeof inputs, typeof outputs, typeof stores> {
  #seen!: KeyValueStore<string, number>;
  init(context: TaskContext<typeof stores>): void {
    this.#seen = context.getStore('seen');
    observed.offsets.set(context.partition, []);
  }
  async process(
    envelope: IncomingEnvelope<typeof inputs>,
    collector: MessageCollector<typeof outputs>,
    coordinator: TaskCoordinator,
  ): Promise<void> {
    // Uneven delays: a later message would overtake an earlier one if the runtime let it.
    await sleep(envelope.offset % 3);
    observed.offsets.get(envelope.partition)!.push(envelope.offset);
    const key = envelope.key ?? '';
    this.#seen.put(key, (this.#seen.get(key) ?? 0) + 1);
    collector.send('echo', { key, value: envelope.value });
    if (++observed.processed === TOTAL) coordinator.shutdown();
  }
  window(): void {
    observed.windows++;
  }
  close(): void {
    observed.closed++;
  }
}

const job = defineJob({
  id: 'rt-job',
  inputs,
  outputs,
  stores,
  task: () => new AsyncTask(),
  config: { 'task.commit.ms': '100', 'task.window.ms': '50' },
});

test('async processing in order, window, shutdown, checkpoint metadata and metrics', async () => {
  const producer = new Producer({ bootstrapServers: bootstrap });
  await producer.send(
    'rt-in',
    Array.from({ length: TOTAL }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` })),
  );
  await producer.close();

  const container = new Container(job, {
    bootstrapServers: bootstrap,
    stateDir: state.path,
    metricsPort: 0,
    logger: pino({ level: 'warn' }),
  });
  const running = container.run();
  await eventually('metrics port', () => container.metricsPort !== undefined);
  let text = '';
  await eventually('processed messages in /metrics', async () => {
    text = await (await fetch(`http://127.0.0.1:${container.metricsPort}/metrics`)).text();
    return /brook_streams_messages_processed_total\{job="rt-job",task="Partition \d"\} [1-9]/.test(
      text,
    );
  });
  await running;

  assert.equal(observed.processed, TOTAL);
  for (const [partition, offsets] of observed.offsets) {
    const inOrder = [...offsets].sort((a, b) => a - b);
    assert.deepEqual(offsets, inOrder, `partition ${partition} processed in offset order`);
  }
  assert.ok(observed.windows > 0, 'window() ran');
  assert.equal(observed.closed, 2, 'both tasks closed');
  for (const name of [
    'brook_streams_process_rate',
    'brook_streams_input_lag',
    'brook_streams_commit_latency_seconds',
    'brook_streams_restore_records',
    'brook_streams_store_size',
  ]) {
    assert.ok(text.includes(name), `${name} exported`);
  }

  // The checkpoint: input offsets at the end, changelog offsets of `seen` in the metadata.
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const committed = await admin.fetchOffsets('rt-job');
    const inputsCommitted = committed.filter((c) => c.topic === 'rt-in');
    assert.equal(
      inputsCommitted.reduce((sum, c) => sum + c.offset, 0),
      TOTAL,
    );
    for (const c of inputsCommitted) {
      const checkpoint = decodeCheckpointMetadata(c.metadata);
      assert.ok(checkpoint?.has('seen'), `checkpoint of partition ${c.partition}`);
      assert.ok(checkpoint!.get('seen')! >= 0);
    }
  } finally {
    await admin.close();
  }
  const seen = await lastValues(bootstrap, 'rt-job-seen-changelog', (v) =>
    longSerde.deserialize(v),
  );
  assert.equal(
    [...seen.values()].reduce((a, b) => a + b, 0),
    TOTAL,
  );
  const echoed = await lastValues(bootstrap, 'rt-out', (v) => v.toString('utf8'));
  assert.equal(echoed.size, 7);
});

test('a task that throws fails the container without checkpointing past the failed message', async () => {
  await createTopics(bootstrap, ['rt-poison'], 1);
  const producer = new Producer({ bootstrapServers: bootstrap });
  await producer.send(
    'rt-poison',
    ['ok', 'ok', 'ok', 'poison', 'ok'].map((value) => ({ value })),
  );
  await producer.close();
  const poisonInputs = {
    in: { topic: 'rt-poison', keySerde: stringSerde, valueSerde: stringSerde },
  };
  let okSeen = 0;
  const poisonJob = defineJob({
    id: 'rt-poison-job',
    inputs: poisonInputs,
    outputs: {},
    stores: {},
    task: () => ({
      process(envelope: IncomingEnvelope<typeof poisonInputs>) {
        if (envelope.value === 'poison') throw new Error('cannot digest message 3');
        okSeen++;
      },
    }),
    config: { 'task.commit.ms': '50' },
  });
  const container = new Container(poisonJob, {
    bootstrapServers: bootstrap,
    stateDir: state.path,
    logger: pino({ level: 'silent' }),
  });
  await assert.rejects(container.run(), /cannot digest message 3/);
  assert.equal(okSeen, 3);
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const [committed] = await admin.fetchOffsets('rt-poison-job', [
      { topic: 'rt-poison', partition: 0 },
    ]);
    // Nothing, or at most the three messages before the poison one.
    assert.ok((committed?.offset ?? -1) <= 3, `committed ${committed?.offset}`);
  } finally {
    await admin.close();
  }
});
