/**
 * Word count: reads lines from topic `words` (any partition count), splits them into words,
 * counts every word in the persistent store `counts`, and emits `word → count` (string key,
 * decimal string value) to topic `word-counts` on every change.
 *
 *   brook job run examples/word-count.ts --bootstrap-server localhost:9092
 *
 * A word can occur in lines of any input partition, so the job has two stages in one task, as
 * a Samza job would: lines are split and each word is sent, keyed by the word, to the
 * repartition topic `word-count-words` (created by the job, one partition per task); the task
 * owning a word's partition counts it. Every word carries its position (source partition, line
 * offset, index in the line). After a crash the splitting stage replays lines from its
 * checkpoint and sends some words a second time; the counting stage keeps, in the store
 * `positions` (checkpointed together with `counts`), the last position it counted per source
 * partition and skips anything at or before it, so counts stay exact although the topics between
 * the stages are at-least-once.
 */
import {
  defineJob,
  type IncomingEnvelope,
  int32Serde,
  jsonSerde,
  type KeyValueStore,
  longSerde,
  type MessageCollector,
  type StreamTask,
  stringSerde,
  type TaskContext,
} from '../src/streams/index.js';

/** Where a word came from: source partition, line offset, index of the word in the line. */
interface WordPosition {
  readonly p: number;
  readonly o: number;
  readonly i: number;
}

const REPARTITION_TOPIC = 'word-count-words';

const inputs = {
  lines: { topic: 'words', keySerde: stringSerde, valueSerde: stringSerde },
  words: { topic: REPARTITION_TOPIC, keySerde: stringSerde, valueSerde: jsonSerde<WordPosition>() },
};
const outputs = {
  words: {
    topic: REPARTITION_TOPIC,
    keySerde: stringSerde,
    valueSerde: jsonSerde<WordPosition>(),
    partitions: 'tasks',
  },
  counts: { topic: 'word-counts', keySerde: stringSerde, valueSerde: stringSerde },
} as const;
const stores = {
  counts: { keySerde: stringSerde, valueSerde: longSerde, engine: 'persistent' },
  positions: {
    keySerde: int32Serde,
    valueSerde: jsonSerde<readonly [number, number]>(),
    engine: 'persistent',
  },
} as const;

type Inputs = typeof inputs;
type Outputs = typeof outputs;
type Stores = typeof stores;

/** One instance per task (partition number of both inputs). */
class WordCountTask implements StreamTask<Inputs, Outputs, Stores> {
  #counts!: KeyValueStore<string, number>;
  #positions!: KeyValueStore<number, readonly [number, number]>;

  init(context: TaskContext<Stores>): void {
    this.#counts = context.getStore('counts');
    this.#positions = context.getStore('positions');
  }

  process(envelope: IncomingEnvelope<Inputs>, collector: MessageCollector<Outputs>): void {
    if (envelope.stream === 'lines') {
      if (envelope.value === null) return;
      let i = 0;
      for (const word of envelope.value.split(/\s+/)) {
        if (word === '') continue;
        const position = { p: envelope.partition, o: envelope.offset, i: i++ };
        collector.send('words', { key: word, value: position });
      }
      return;
    }
    const word = envelope.key;
    const position = envelope.value;
    if (word === null || position === null) return;
    const last = this.#positions.get(position.p);
    if (
      last !== undefined &&
      (position.o < last[0] || (position.o === last[0] && position.i <= last[1]))
    ) {
      return; // sent again by a replay of the splitting stage: already counted
    }
    this.#positions.put(position.p, [position.o, position.i]);
    const count = (this.#counts.get(word) ?? 0) + 1;
    this.#counts.put(word, count);
    collector.send('counts', { key: word, value: String(count) });
  }
}

export default defineJob({
  id: 'word-count',
  inputs,
  outputs,
  stores,
  task: () => new WordCountTask(),
});
