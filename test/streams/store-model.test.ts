import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CachedStore } from '../../src/streams/stores/cached-store.js';
import { InMemoryEngine } from '../../src/streams/stores/in-memory-engine.js';
import type { BytesStore } from '../../src/streams/stores/key-value-store.js';
import { LmdbEngine } from '../../src/streams/stores/lmdb-engine.js';
import { LoggedStore } from '../../src/streams/stores/logged-store.js';
import { dump, MemoryChangelog, tempDir } from './helpers.js';

/*
 * Every engine and every stack of layers, driven by random operation sequences and compared
 * after each operation with a Map model (keys as latin1 strings, whose order is byte order).
 */

type Op =
  | { t: 'put'; k: Buffer; v: Buffer }
  | { t: 'delete'; k: Buffer }
  | { t: 'get'; k: Buffer }
  | { t: 'getAll'; ks: Buffer[] }
  | { t: 'putAll'; es: { key: Buffer; value: Buffer }[] }
  | { t: 'deleteAll'; ks: Buffer[] }
  | { t: 'range'; from: Buffer; to: Buffer }
  | { t: 'prefix'; p: Buffer }
  | { t: 'all' }
  | { t: 'count' }
  | { t: 'flush' };

function ops(emptyKeys: boolean): fc.Arbitrary<Op[]> {
  // A tiny alphabet, so keys collide, share prefixes and sit at the byte extremes.
  const key = fc
    .array(fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0xff), {
      minLength: emptyKeys ? 0 : 1,
      maxLength: 3,
    })
    .map((bytes) => Buffer.from(bytes));
  const value = fc.uint8Array({ maxLength: 4 }).map((bytes) => Buffer.from(bytes));
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: value }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), k: key }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('get' as const), k: key }) },
    fc.record({ t: fc.constant('getAll' as const), ks: fc.array(key, { maxLength: 4 }) }),
    fc.record({
      t: fc.constant('putAll' as const),
      es: fc.array(fc.record({ key, value }), { maxLength: 4 }),
    }),
    fc.record({ t: fc.constant('deleteAll' as const), ks: fc.array(key, { maxLength: 3 }) }),
    fc.record({ t: fc.constant('range' as const), from: key, to: key }),
    fc.record({ t: fc.constant('prefix' as const), p: key }),
    fc.record({ t: fc.constant('all' as const) }),
    fc.record({ t: fc.constant('count' as const) }),
    fc.record({ t: fc.constant('flush' as const) }),
  );
  return fc.array(op, { maxLength: 60 });
}

function hexEntries(entries: Iterable<{ key: Buffer; value: Buffer }>): [string, string][] {
  return [...entries].map(({ key, value }) => [key.toString('latin1'), value.toString('hex')]);
}

function modelScan(model: Map<string, Buffer>, keep: (k: string) => boolean): [string, string][] {
  return [...model.keys()]
    .sort()
    .filter(keep)
    .map((k) => [k, model.get(k)!.toString('hex')]);
}

async function check(store: BytesStore, sequence: Op[], exactCount: boolean): Promise<void> {
  const model = new Map<string, Buffer>();
  for (const op of sequence) {
    switch (op.t) {
      case 'put':
        store.put(op.k, op.v);
        model.set(op.k.toString('latin1'), op.v);
        break;
      case 'delete':
        store.delete(op.k);
        model.delete(op.k.toString('latin1'));
        break;
      case 'get':
        assert.deepEqual(store.get(op.k), model.get(op.k.toString('latin1')));
        break;
      case 'getAll': {
        const got = store.getAll(op.ks);
        for (const k of op.ks) assert.deepEqual(got.get(k), model.get(k.toString('latin1')));
        break;
      }
      case 'putAll':
        store.putAll(op.es);
        for (const { key, value } of op.es) model.set(key.toString('latin1'), value);
        break;
      case 'deleteAll':
        store.deleteAll(op.ks);
        for (const k of op.ks) model.delete(k.toString('latin1'));
        break;
      case 'range': {
        const from = op.from.toString('latin1');
        const to = op.to.toString('latin1');
        assert.deepEqual(
          hexEntries(store.range(op.from, op.to)),
          modelScan(model, (k) => k >= from && k < to),
        );
        break;
      }
      case 'prefix': {
        const p = op.p.toString('latin1');
        assert.deepEqual(
          hexEntries(store.prefix(op.p)),
          modelScan(model, (k) => k.startsWith(p)),
        );
        break;
      }
      case 'all':
        assert.deepEqual(
          hexEntries(store.all()),
          modelScan(model, () => true),
        );
        break;
      case 'count': {
        const count = store.approximateCount();
        if (exactCount) assert.equal(count, model.size);
        else assert.ok(count >= 0);
        break;
      }
      case 'flush':
        await store.flush();
        break;
    }
  }
  assert.deepEqual(
    hexEntries(store.all()),
    modelScan(model, () => true),
  );
}

interface Subject {
  name: string;
  emptyKeys: boolean;
  exactCount: boolean;
  runs: number;
  open(dir: string): Promise<BytesStore>;
}

const subjects: Subject[] = [
  {
    name: 'InMemoryEngine',
    emptyKeys: true,
    exactCount: true,
    runs: 300,
    open: async () => new InMemoryEngine(),
  },
  {
    name: 'LmdbEngine',
    emptyKeys: true,
    exactCount: true,
    runs: 40,
    open: (dir) => LmdbEngine.open(dir),
  },
  {
    name: 'CachedStore(cacheSize 3, writeBatchSize 2) over InMemoryEngine',
    emptyKeys: true,
    exactCount: true,
    runs: 300,
    open: async () => new CachedStore(new InMemoryEngine(), { cacheSize: 3, writeBatchSize: 2 }),
  },
  {
    name: 'CachedStore(cacheSize 4) over LmdbEngine',
    emptyKeys: true,
    exactCount: true,
    runs: 40,
    open: async (dir) => new CachedStore(await LmdbEngine.open(dir), { cacheSize: 4 }),
  },
];

describe('bytes stores against a Map model', () => {
  for (const subject of subjects) {
    test(subject.name, async () => {
      const dir = tempDir();
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(ops(subject.emptyKeys), async (sequence) => {
            const store = await subject.open(`${dir.path}/${run++}`);
            try {
              await check(store, sequence, subject.exactCount);
            } finally {
              await store.close();
            }
          }),
          { numRuns: subject.runs },
        );
      } finally {
        dir.remove();
      }
    });
  }
});

describe('a logged stack: its changelog alone rebuilds the same store', () => {
  const engines: [string, boolean, (dir: string) => Promise<BytesStore>][] = [
    ['InMemoryEngine', true, async () => new InMemoryEngine()],
    ['LmdbEngine', true, (dir) => LmdbEngine.open(dir)],
  ];
  for (const [name, emptyKeys, openEngine] of engines) {
    test(`cache → changelog → ${name}`, async () => {
      const dir = tempDir();
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(ops(emptyKeys), fc.integer({ min: 1, max: 5 }), async (seq, size) => {
            const changelog = new MemoryChangelog();
            const engine = await openEngine(`${dir.path}/${run++}`);
            const logged = new LoggedStore(engine, changelog, { initialOffset: -1 });
            const store = new CachedStore(logged, { cacheSize: size });
            try {
              await check(store, seq, false);
              await store.flush();
              const rebuilt = new InMemoryEngine();
              for await (const r of changelog.readFrom(0)) {
                if (r.value === null) rebuilt.delete(r.key);
                else rebuilt.put(r.key, r.value);
              }
              assert.deepEqual(dump(rebuilt), dump(store));
              assert.equal(logged.changelogOffset, changelog.records.length - 1);
            } finally {
              await store.close();
            }
          }),
          { numRuns: name === 'InMemoryEngine' ? 200 : 30 },
        );
      } finally {
        dir.remove();
      }
    });
  }
});
