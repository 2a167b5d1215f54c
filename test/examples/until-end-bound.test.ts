/**
 * `boundedJob` (what `brook job run --until-end` runs): a task is given only the records of its
 * external inputs below the end offsets read at start, whatever arrives later; records of the
 * job's own repartition topics are not bounded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundedJob } from '../../src/cli/job-until-end.js';
import { defineJob, stringSerde } from '../../src/streams/index.js';
import type { AnyJob, IncomingEnvelope, Inputs } from '../../src/streams/job.js';

test('a bounded job processes external input below the bound and all internal input', async () => {
  const seen: string[] = [];
  const spec = { keySerde: stringSerde, valueSerde: stringSerde };
  const job = defineJob({
    id: 'bounded',
    inputs: { lines: { topic: 'lines', ...spec }, words: { topic: 'bounded-words', ...spec } },
    outputs: { words: { topic: 'bounded-words', ...spec, partitions: 'tasks' as const } },
    stores: {},
    task: () => ({
      process(envelope: IncomingEnvelope<Inputs>) {
        seen.push(`${envelope.topic}/${envelope.partition}@${envelope.offset}`);
      },
    }),
  }) as AnyJob;
  const ends = new Map([
    ['lines\u00000', 2],
    ['lines\u00001', 0],
  ]);
  const task = boundedJob(job, ends).task();
  const envelope = (topic: string, partition: number, offset: number) =>
    ({
      stream: topic === 'lines' ? 'lines' : 'words',
      topic,
      partition,
      offset,
      timestamp: 0,
      key: null,
      value: 'x',
      headers: [],
    }) as IncomingEnvelope<Inputs>;
  const collector = { send() {} };
  const coordinator = { commit() {}, shutdown() {} };
  for (const [topic, partition, offset] of [
    ['lines', 0, 0],
    ['lines', 0, 1],
    ['lines', 0, 2], // at the bound: appended after the run started
    ['lines', 1, 0], // the partition was empty at start
    ['lines', 2, 0], // a partition created later
    ['bounded-words', 0, 5], // internal: never bounded
  ] as const) {
    await task.process(envelope(topic, partition, offset), collector, coordinator);
  }
  assert.deepEqual(seen, ['lines/0@0', 'lines/0@1', 'bounded-words/0@5']);
});
