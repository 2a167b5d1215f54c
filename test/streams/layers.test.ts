import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { StoreClosedError, StoreEngineError } from '../../src/streams/errors.js';
import { longSerde, stringSerde } from '../../src/streams/serdes/index.js';
import { CachedStore } from '../../src/streams/stores/cached-store.js';
import { InMemoryEngine } from '../../src/streams/stores/in-memory-engine.js';
import type { BytesStore } from '../../src/streams/stores/key-value-store.js';
import { LmdbEngine } from '../../src/streams/stores/lmdb-engine.js';
import { LoggedStore } from '../../src/streams/stores/logged-store.js';
import { OFFSET_FILE, OffsetFile } from '../../src/streams/stores/offset-file.js';
import { SerializedStore } from '../../src/streams/stores/serialized-store.js';
import { dump, MemoryChangelog, tempDir } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const changelogRecords = (c: MemoryChangelog): [string, string | null][] =>
  c.records.map((r) => [r.key.toString('latin1'), r.value?.toString('latin1') ?? null]);

describe('CachedStore', () => {
  test('a flush sends the last value of each key, once, in the order keys became dirty', async () => {
    const changelog = new MemoryChangelog();
    const engine = new InMemoryEngine();
    const store = new CachedStore(new LoggedStore(engine, changelog, { initialOffset: -1 }), {
      cacheSize: 100,
    });
    store.put(b('a'), b('1'));
    store.put(b('b'), b('x'));
    store.put(b('a'), b('2'));
    store.delete(b('b'));
    store.put(b('c'), b('1'));
    store.put(b('a'), b('3'));
    assert.equal(changelog.pending, 0, 'nothing reaches the changelog before a flush');
    assert.equal(engine.approximateCount(), 0);
    await store.flush();
    assert.deepEqual(changelogRecords(changelog), [
      ['a', '3'],
      ['b', null],
      ['c', '1'],
    ]);
    assert.deepEqual(dump(engine), [
      ['a', b('3').toString('hex')],
      ['c', b('1').toString('hex')],
    ]);
    await store.flush();
    assert.equal(changelog.records.length, 3, 'a flush with nothing dirty writes nothing');
  });

  test('evicting a dirty entry writes the dirty entries down first', async () => {
    const changelog = new MemoryChangelog();
    const engine = new InMemoryEngine();
    const store = new CachedStore(new LoggedStore(engine, changelog, { initialOffset: -1 }), {
      cacheSize: 2,
      writeBatchSize: 100,
    });
    store.put(b('a'), b('1'));
    store.put(b('b'), b('2'));
    assert.equal(engine.approximateCount(), 0);
    store.put(b('c'), b('3'));
    assert.deepEqual(engine.get(b('a')), b('1'));
    assert.deepEqual(engine.get(b('b')), b('2'));
    assert.equal(store.get(b('a'))?.toString(), '1', 'an evicted key is read back from below');
    await store.flush();
    assert.deepEqual(changelogRecords(changelog), [
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
  });

  test('a key used since it was cached outlives one that was not', () => {
    const store = new CachedStore(new InMemoryEngine(), { cacheSize: 2 });
    store.put(b('hot'), b('1'));
    store.put(b('cold'), b('1'));
    store.get(b('hot'));
    store.put(b('new'), b('1'));
    const before = store.stats;
    assert.equal(before.size, 2);
    store.get(b('hot'));
    assert.equal(store.stats.hits, before.hits + 1, 'hot is still cached');
    store.get(b('cold'));
    assert.equal(store.stats.misses, before.misses + 1, 'cold was evicted');
  });

  test('a hot key updated many times reaches the changelog once per flush', async () => {
    const changelog = new MemoryChangelog();
    const store = new SerializedStore(
      new CachedStore(new LoggedStore(new InMemoryEngine(), changelog, { initialOffset: -1 }), {
        cacheSize: 10,
      }),
      stringSerde,
      longSerde,
    );
    for (let i = 0; i < 1000; i++) store.put('the', (store.get('the') ?? 0) + 1);
    await store.flush();
    assert.equal(changelog.records.length, 1);
    assert.equal(longSerde.deserialize(changelog.records[0]!.value!), 1000);
  });

  test('scans see unflushed writes', () => {
    const engine = new InMemoryEngine();
    const store = new CachedStore(engine, { cacheSize: 10 });
    store.put(b('b'), b('2'));
    store.put(b('a'), b('1'));
    store.delete(b('b'));
    assert.deepEqual(
      [...store.all()].map((e) => e.key.toString()),
      ['a'],
    );
    assert.equal(store.approximateCount(), 1);
  });

  test('refuses a cache size below 1', () => {
    assert.throws(() => new CachedStore(new InMemoryEngine(), { cacheSize: 0 }), RangeError);
  });
});

describe('LoggedStore and the OFFSET file', () => {
  test('a flush records the changelog offset; the next write removes the record first', async () => {
    const dir = tempDir();
    try {
      const changelog = new MemoryChangelog();
      const offsetFile = new OffsetFile(dir.path, { topic: 'job-counts-changelog', partition: 3 });
      const store = new LoggedStore(await LmdbEngine.open(dir.path), changelog, {
        initialOffset: -1,
        offsetFile,
      });
      store.put(b('a'), b('1'));
      store.put(b('b'), b('2'));
      await store.flush();
      assert.equal(store.changelogOffset, 1);
      assert.deepEqual(JSON.parse(readFileSync(join(dir.path, OFFSET_FILE), 'utf8')), {
        version: 1,
        topic: 'job-counts-changelog',
        partition: 3,
        offset: 1,
      });
      assert.deepEqual(offsetFile.read(), { usable: true, offset: 1 });
      store.delete(b('a'));
      assert.equal(existsSync(join(dir.path, OFFSET_FILE)), false);
      assert.equal(offsetFile.read().usable, false);
      await store.close();
      assert.deepEqual(offsetFile.read(), { usable: true, offset: 2 });
    } finally {
      dir.remove();
    }
  });

  test('a flush covers exactly the writes made before it, as a checkpoint taken beside processing needs', async () => {
    const dir = tempDir();
    try {
      const changelog = new MemoryChangelog();
      const offsetFile = new OffsetFile(dir.path, { topic: 'job-counts-changelog', partition: 0 });
      const store = new LoggedStore(await LmdbEngine.open(dir.path), changelog, {
        initialOffset: -1,
        offsetFile,
      });
      store.put(b('a'), b('1'));
      const flushing = store.flush();
      // Processing goes on while the engine syncs and the changelog is acknowledged.
      store.put(b('b'), b('2'));
      await flushing;
      assert.equal(
        store.changelogOffset,
        0,
        'the checkpoint covers the write before the flush only',
      );
      assert.equal(offsetFile.read().usable, false, 'the engine is past offset 0: no OFFSET file');
      await store.flush();
      assert.equal(store.changelogOffset, 1);
      assert.deepEqual(offsetFile.read(), { usable: true, offset: 1 });
      assert.deepEqual(
        changelog.records.map((r) => r.key.toString()),
        ['a', 'b'],
      );
      await store.close();
    } finally {
      dir.remove();
    }
  });

  test('an OFFSET file that is corrupt or names another changelog is not used', () => {
    const dir = tempDir();
    try {
      const mine = new OffsetFile(dir.path, { topic: 't', partition: 0 });
      mine.write(7);
      assert.deepEqual(mine.read(), { usable: true, offset: 7 });
      const other = new OffsetFile(dir.path, { topic: 't', partition: 1 });
      assert.equal(other.read().usable, false);
      // A torn write: half a JSON document.
      writeFileSync(join(dir.path, OFFSET_FILE), '{"version":1,"topic":"t","par');
      assert.equal(mine.read().usable, false);
      writeFileSync(
        join(dir.path, OFFSET_FILE),
        '{"version":1,"topic":"t","partition":0,"offset":"7"}',
      );
      assert.equal(mine.read().usable, false);
    } finally {
      dir.remove();
    }
  });
});

describe('persistent engines', () => {
  const engines: [string, (dir: string) => Promise<BytesStore>][] = [
    ['LmdbEngine', (dir) => LmdbEngine.open(dir)],
  ];
  for (const [name, open] of engines) {
    test(`${name}: data survives close and reopen, byte for byte`, async () => {
      const dir = tempDir();
      try {
        const first = await open(dir.path);
        const entries = [
          [Buffer.alloc(0), b('empty key')],
          [b('a'), Buffer.alloc(0)],
          [Buffer.from([0xff, 0x00, 0x7f]), Buffer.from([0, 1, 2, 255])],
          [b('word'), longSerde.serialize(42)],
        ] as const;
        for (const [key, value] of entries) first.put(key, value);
        first.put(b('gone'), b('x'));
        first.delete(b('gone'));
        const before = dump(first);
        await first.close();
        assert.throws(() => first.get(b('a')), StoreClosedError);
        const second = await open(dir.path);
        assert.deepEqual(dump(second), before);
        assert.equal(second.get(b('gone')), undefined);
        await second.close();
      } finally {
        dir.remove();
      }
    });
  }

  test('LmdbEngine refuses keys beyond its limit with a typed error', async () => {
    const dir = tempDir();
    try {
      const engine = await LmdbEngine.open(dir.path);
      assert.throws(() => engine.put(Buffer.alloc(5000, 1), b('v')), StoreEngineError);
      assert.throws(() => engine.get(Buffer.alloc(5000, 1)), StoreEngineError);
      await engine.close();
    } finally {
      dir.remove();
    }
  });
});

describe('SerializedStore', () => {
  test('typed word counts over the whole stack match a Map model, scans in key order', async () => {
    const dir = tempDir();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.string({ maxLength: 3 }), fc.boolean()), { maxLength: 100 }),
          async (messages) => {
            const changelog = new MemoryChangelog();
            const logged = new LoggedStore(
              await LmdbEngine.open(join(dir.path, `${run++}`)),
              changelog,
              {
                initialOffset: -1,
              },
            );
            const store = new SerializedStore(
              new CachedStore(logged, { cacheSize: 4 }),
              stringSerde,
              longSerde,
            );
            const model = new Map<string, number>();
            for (const [word, remove] of messages) {
              if (remove) {
                store.delete(word);
                model.delete(word);
              } else {
                store.put(word, (store.get(word) ?? 0) + 1);
                model.set(word, (model.get(word) ?? 0) + 1);
              }
            }
            const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
            assert.deepEqual(
              [...store.all()].map(({ key, value }) => [key, value]),
              sorted,
            );
            assert.deepEqual(
              [...store.range('b', 'd')].map(({ key }) => key),
              sorted.map(([k]) => k).filter((k) => k >= 'b' && k < 'd'),
            );
            assert.deepEqual(
              [...store.prefix('a')].map(({ key }) => key),
              sorted.map(([k]) => k).filter((k) => k.startsWith('a')),
            );
            const some = [...model.keys()].slice(0, 3).concat(['not a word']);
            assert.deepEqual(
              store.getAll(some),
              new Map(some.filter((k) => model.has(k)).map((k) => [k, model.get(k)!])),
            );
            await store.close();
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      dir.remove();
    }
  });
});
