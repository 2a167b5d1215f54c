/**
 * Word count: reads lines from topic `words`, splits them into words, counts each word in the
 * persistent store `counts` (backed by the changelog `word-count-counts-changelog`), and emits
 * `word → count` (string key, decimal string value) to `word-counts` on every change.
 *
 *   brook job run examples/word-count.ts --bootstrap-server localhost:9092
 */
import {
  defineJob,
  type IncomingEnvelope,
  type KeyValueStore,
  longSerde,
  type MessageCollector,
  type StreamTask,
  stringSerde,
  type TaskContext,
} from '../src/streams/index.js';

const inputs = { lines: { topic: 'words', keySerde: stringSerde, valueSerde: stringSerde } };
const outputs = {
  counts: { topic: 'word-counts', keySerde: stringSerde, valueSerde: stringSerde },
};
const stores = {
  counts: { keySerde: stringSerde, valueSerde: longSerde, engine: 'persistent' },
} as const;

/** One instance per task (input partition). */
class WordCountTask implements StreamTask<typeof inputs, typeof outputs, typeof stores> {
  #counts!: KeyValueStore<string, number>;

  init(context: TaskContext<typeof stores>): void {
    this.#counts = context.getStore('counts');
  }

  process(
    envelope: IncomingEnvelope<typeof inputs>,
    collector: MessageCollector<typeof outputs>,
  ): void {
    const line = envelope.value;
    if (line === null) return;
    for (const word of line.split(/\s+/)) {
      if (word === '') continue;
      const count = (this.#counts.get(word) ?? 0) + 1;
      this.#counts.put(word, count);
      collector.send('counts', { key: word, value: String(count) });
    }
  }
}

export default defineJob({
  id: 'word-count',
  inputs,
  outputs,
  stores,
  task: () => new WordCountTask(),
});
