/**
 * State store benchmark on the word-count job shape: many small string keys, 8-byte counter
 * values, one read-modify-write per message, a commit (flush) every COMMIT_EVERY messages.
 * Run with `npx tsx bench/stores.ts` (`-- --messages N` to change the load).
 *
 * Parts, per engine: read-modify-write through the typed stack with and without the write-back
 * cache (the changelog layer is present, with a writer that only counts, so the figure is the
 * store's own cost), batch writes straight into the engine, scans (full and short ranges), and
 * the time to open an engine holding the whole vocabulary, and a restore: 200,000 changelog
 * records (the vocabulary's counters, four times over) replayed into an empty engine. Every figure is the median of ROUNDS
 * rounds, each on a fresh store in a temp dir; the machine is shared, so compare engines within
 * one run only. Engines take turns within each round (`--rounds N`, default 3).
 *
 * RocksDB (`@nxtedition/rocksdb`) was measured here side by side with LMDB before LMDB was chosen
 * and RocksDB dropped (this file and `src/streams/stores/rocksdb-engine.ts` at commit dcf8a32);
 * the figures are in docs/streams-state.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { longSerde, stringSerde } from '../src/streams/serdes/index.js';
import { CachedStore } from '../src/streams/stores/cached-store.js';
import type {
  ChangelogReader,
  ChangelogRecord,
  ChangelogWriter,
} from '../src/streams/stores/changelog.js';
import { InMemoryEngine } from '../src/streams/stores/in-memory-engine.js';
import type { BytesStore } from '../src/streams/stores/key-value-store.js';
import { LmdbEngine } from '../src/streams/stores/lmdb-engine.js';
import { LoggedStore } from '../src/streams/stores/logged-store.js';
import { replayChangelog } from '../src/streams/stores/restore.js';
import { SerializedStore } from '../src/streams/stores/serialized-store.js';
import { machine, median } from './common.js';

const args = process.argv.slice(2);
const messagesArg = args.indexOf('--messages');
const MESSAGES = messagesArg >= 0 ? Number(args[messagesArg + 1]) : 100_000;
const VOCABULARY = 50_000;
const COMMIT_EVERY = 10_000;
const CACHE_SIZE = 10_000;
const BATCH = 1_000;
const roundsArg = args.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 3;

interface Engine {
  name: string;
  open(dir: string): Promise<BytesStore>;
}

const engines: Engine[] = [
  { name: 'in-memory', open: async () => new InMemoryEngine() },
  { name: 'lmdb', open: (dir) => LmdbEngine.open(dir) },
];

/** Deterministic pseudo-random numbers (mulberry32), so every engine sees the same stream. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(42);
const letters = 'abcdefghijklmnopqrstuvwxyz';
const words: string[] = [];
for (let i = 0; i < VOCABULARY; i++) {
  const length = 3 + Math.floor(rand() * 10);
  let word = '';
  for (let j = 0; j < length; j++) word += letters[Math.floor(rand() * 26)];
  words.push(`${word}${i}`);
}
/** Message stream: word ranks drawn from a Zipf-like law (s = 1), as in natural text. */
const harmonic: number[] = [];
let total = 0;
for (let i = 0; i < VOCABULARY; i++) harmonic.push((total += 1 / (i + 1)));
const stream: string[] = [];
for (let i = 0; i < MESSAGES; i++) {
  const target = rand() * total;
  let lo = 0;
  let hi = VOCABULARY - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (harmonic[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  stream.push(words[lo]!);
}

class CountingWriter implements ChangelogWriter {
  appended = 0;
  append(): void {
    this.appended++;
  }
  async flush(): Promise<number | null> {
    return this.appended === 0 ? null : this.appended - 1;
  }
}

/** One round of a part in a fresh temp dir. */
async function once<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'brook-bench-stores-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Word count: messages/s through serde → (cache) → changelog → engine, with commits. */
async function wordCount(engine: Engine, cached: boolean): Promise<number> {
  return once(async (dir) => {
    const writer = new CountingWriter();
    const logged = new LoggedStore(await engine.open(dir), writer, { initialOffset: -1 });
    const bytes = cached ? new CachedStore(logged, { cacheSize: CACHE_SIZE }) : logged;
    const store = new SerializedStore(bytes, stringSerde, longSerde);
    const start = performance.now();
    for (let i = 0; i < stream.length; i++) {
      const word = stream[i]!;
      store.put(word, (store.get(word) ?? 0) + 1);
      if ((i + 1) % COMMIT_EVERY === 0) await store.flush();
    }
    await store.flush();
    const seconds = (performance.now() - start) / 1000;
    await store.close();
    return stream.length / seconds;
  });
}

function vocabularyBatch(from: number): { key: Buffer; value: Buffer }[] {
  const batch: { key: Buffer; value: Buffer }[] = [];
  for (let i = from; i < Math.min(from + BATCH, VOCABULARY); i++) {
    batch.push({ key: Buffer.from(words[i]!), value: longSerde.serialize(i) });
  }
  return batch;
}

async function load(store: BytesStore): Promise<void> {
  for (let i = 0; i < VOCABULARY; i += BATCH) store.putAll(vocabularyBatch(i));
  await store.flush();
}

/** Entries/s written by putAll batches of BATCH, then flushed. */
async function batchWrites(engine: Engine): Promise<number> {
  return once(async (dir) => {
    const batches: { key: Buffer; value: Buffer }[][] = [];
    for (let i = 0; i < VOCABULARY; i += BATCH) batches.push(vocabularyBatch(i));
    const store = await engine.open(dir);
    const start = performance.now();
    for (const batch of batches) store.putAll(batch);
    await store.flush();
    const seconds = (performance.now() - start) / 1000;
    await store.close();
    return VOCABULARY / seconds;
  });
}

/** Entries/s of full scans, and short prefix scans/s (two-letter prefixes, ~70 entries each). */
async function scans(engine: Engine): Promise<[number, number]> {
  return once(async (dir) => {
    const store = await engine.open(dir);
    await load(store);
    let start = performance.now();
    let seen = 0;
    for (let pass = 0; pass < 3; pass++) for (const _ of store.all()) seen++;
    const fullRate = seen / ((performance.now() - start) / 1000);
    const prefixes: Buffer[] = [];
    for (const a of letters) for (const b of letters) prefixes.push(Buffer.from(a + b));
    start = performance.now();
    let scanned = 0;
    for (let pass = 0; pass < 3; pass++) {
      for (const prefix of prefixes) {
        for (const _ of store.prefix(prefix)) {
        }
        scanned++;
      }
    }
    const prefixRate = scanned / ((performance.now() - start) / 1000);
    await store.close();
    return [fullRate, prefixRate] as [number, number];
  });
}

/** A changelog of the vocabulary's counters counted up four times: 200,000 records. */
const changelogRecords: ChangelogRecord[] = [];
for (let pass = 1; pass <= 4; pass++) {
  for (let i = 0; i < VOCABULARY; i++) {
    changelogRecords.push({
      offset: changelogRecords.length,
      key: Buffer.from(words[i]!),
      value: longSerde.serialize(pass),
    });
  }
}
const changelogReader: ChangelogReader = {
  endOffset: async () => changelogRecords.length,
  async *readFrom(from: number) {
    for (let i = from; i < changelogRecords.length; i++) yield changelogRecords[i]!;
  },
};

/** Changelog records/s replayed into an empty engine (a restore with no local state). */
async function restore(engine: Engine): Promise<number> {
  return once(async (dir) => {
    const store = await engine.open(dir);
    const start = performance.now();
    await replayChangelog(store, changelogReader, {
      store: 'bench',
      from: 0,
      to: changelogRecords.length - 1,
    });
    await store.flush();
    const seconds = (performance.now() - start) / 1000;
    await store.close();
    return changelogRecords.length / seconds;
  });
}

/** Milliseconds to open an engine holding the vocabulary and read one key. */
async function openTime(engine: Engine): Promise<number> {
  return once(async (dir) => {
    const first = await engine.open(dir);
    await load(first);
    await first.close();
    const start = performance.now();
    const store = await engine.open(dir);
    store.get(Buffer.from(words[0]!));
    const ms = performance.now() - start;
    await store.close();
    return ms;
  });
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(`# State store benchmark (word count shape)\n${machine()}`);
console.log(
  `${MESSAGES.toLocaleString('en-US')} messages over ${VOCABULARY.toLocaleString('en-US')} words ` +
    `(Zipf s=1, keys 4-17 bytes, 8-byte counters), commit every ${COMMIT_EVERY}, ` +
    `cache ${CACHE_SIZE} entries, batches of ${BATCH}, median of ${ROUNDS} rounds\n`,
);
console.log(
  '| engine | word count, no cache (msg/s) | word count, cache (msg/s) | putAll (entries/s) | full scan (entries/s) | prefix scans (/s) | open 50k keys (ms) | restore 200k records (records/s) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
// Engines take turns within each round, so a burst of load from other processes on this shared
// machine falls on all of them rather than on one.
const columns = ['plain', 'cached', 'batch', 'full', 'prefix', 'open', 'restore'] as const;
const samples = new Map(engines.map((e) => [e.name, columns.map(() => [] as number[])]));
for (let round = 0; round < ROUNDS; round++) {
  for (const engine of engines) {
    const row = samples.get(engine.name)!;
    row[0]!.push(await wordCount(engine, false));
    row[1]!.push(await wordCount(engine, true));
    row[2]!.push(await batchWrites(engine));
    const [full, prefix] = await scans(engine);
    row[3]!.push(full);
    row[4]!.push(prefix);
    row[5]!.push(engine.name === 'in-memory' ? Number.NaN : await openTime(engine));
    row[6]!.push(await restore(engine));
  }
}
for (const engine of engines) {
  const [plain, cached, batch, full, prefix, open, restored] = samples
    .get(engine.name)!
    .map(median);
  console.log(
    `| ${engine.name} | ${fmt(plain!)} | ${fmt(cached!)} | ${fmt(batch!)} | ${fmt(full!)} | ${fmt(prefix!)} | ${Number.isNaN(open!) ? '-' : open!.toFixed(1)} | ${fmt(restored!)} |`,
  );
}
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
