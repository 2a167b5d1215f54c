import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate } from '../../scripts/codegen.js';
import { defaultLiteral } from '../../scripts/codegen/exprs.js';
import {
  camelCase,
  kebabCase,
  loadAllMessages,
  loadMessages,
  OPEN,
  parseVersions,
  stripComments,
} from '../../scripts/codegen/schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const messagesDir = join(root, '..', 'shared', 'kafka-protocol', 'messages');

test('comments are stripped outside string literals only', () => {
  const text = '{ "a": "x // not a comment", // a comment\n "b": "q\\"//" } // end';
  assert.deepEqual(JSON.parse(stripComments(text)), { a: 'x // not a comment', b: 'q"//' });
});

test('version specs parse', () => {
  assert.deepEqual(parseVersions('3+', 'x'), { min: 3, max: OPEN });
  assert.deepEqual(parseVersions('0-12', 'x'), { min: 0, max: 12 });
  assert.deepEqual(parseVersions('5', 'x'), { min: 5, max: 5 });
  assert.equal(parseVersions('none', 'x'), null);
  assert.throws(() => parseVersions('3-', 'x'));
  assert.throws(() => parseVersions(undefined, 'x'));
});

test('names convert to Kafka-recognisable TypeScript names', () => {
  assert.equal(camelCase('TimeoutMs'), 'timeoutMs');
  assert.equal(kebabCase('ProduceRequest'), 'produce-request');
  assert.equal(kebabCase('KRaftVersionRecord'), 'k-raft-version-record');
});

test('the schema resolves every message with its versions and struct names', () => {
  const all = loadMessages(messagesDir);
  const names = new Set(all.map((m) => m.name));
  // APIs removed from the protocol (validVersions none) are skipped.
  assert.ok(!names.has('LeaderAndIsrRequest'));
  assert.ok(names.has('RequestHeader') && names.has('ConsumerProtocolAssignment'));
  const produce = all.find((m) => m.name === 'ProduceRequest');
  assert.ok(produce);
  assert.deepEqual(produce.validVersions, { min: 3, max: 13 });
  assert.deepEqual(produce.flexibleVersions, { min: 9, max: 13 });
  assert.deepEqual(
    produce.structs.map((s) => s.tsName),
    ['ProduceRequest', 'ProduceRequestTopicProduceData', 'ProduceRequestPartitionProduceData'],
  );
  const topic = produce.structs[1];
  const name = topic.fields.find((f) => f.name === 'name');
  assert.deepEqual(name?.versions, { min: 3, max: 12 });
  assert.equal(name?.required, false);
  // A struct referenced by name from a second field resolves to the same definition.
  const cgd = all.find((m) => m.name === 'ConsumerGroupDescribeResponse');
  const member = cgd?.structs.find((s) => s.jsonName === 'Member');
  const a = member?.fields.find((f) => f.name === 'assignment')?.type;
  const b = member?.fields.find((f) => f.name === 'targetAssignment')?.type;
  assert.ok(a?.kind === 'struct' && b?.kind === 'struct' && a.struct === b.struct);
});

test('the group coordinator records are generated with their record types', async () => {
  const all = loadAllMessages(join(root, '..', 'shared', 'kafka-protocol'));
  const offsetKey = all.find((m) => m.name === 'OffsetCommitKey');
  assert.equal(offsetKey?.dir, 'group-coordinator');
  assert.equal(offsetKey?.apiKey, 1);
  // A tagged field without "versions" takes its taggedVersions; a JSON null default means null.
  const streams = all.find((m) => m.name === 'StreamsGroupMetadataValue');
  const configs = streams?.root.fields.find((f) => f.name === 'lastAssignmentConfigs');
  assert.deepEqual(configs?.versions, { min: 0, max: 0 });
  assert.equal(configs?.defaultValue, 'null');
  const { GROUP_COORDINATOR_RECORDS } = await import('../../src/protocol/generated/index.js');
  const names = GROUP_COORDINATOR_RECORDS.map((r) => `${r.recordType}:${r.name}`);
  assert.ok(names.includes('0:LegacyOffsetCommit'));
  assert.ok(names.includes('1:OffsetCommit'));
  assert.ok(names.includes('2:GroupMetadata'));
});

test('defaults parse in decimal, hex, negative, boolean and null forms', () => {
  const all = loadMessages(messagesDir);
  const field = (msg: string, struct: string, f: string) => {
    const s = all.find((m) => m.name === msg)?.structs.find((x) => x.tsName === struct);
    const spec = s?.fields.find((x) => x.name === f);
    assert.ok(spec, `${msg}.${f}`);
    return defaultLiteral(spec, f);
  };
  assert.equal(field('ShareFetchRequest', 'ShareFetchRequest', 'maxBytes'), '2147483647');
  assert.equal(
    field('FetchRequest', 'FetchRequestFetchPartition', 'highWatermark'),
    '9223372036854775807n',
  );
  assert.equal(field('FetchRequest', 'FetchRequest', 'replicaId'), '-1');
  assert.equal(field('MetadataRequest', 'MetadataRequest', 'allowAutoTopicCreation'), 'true');
  assert.equal(field('ProduceRequest', 'ProduceRequest', 'transactionalId'), 'null');
  assert.equal(
    field(
      'StreamsGroupDescribeResponse',
      'StreamsGroupDescribeResponseDescribedGroup',
      'authorizedOperations',
    ),
    '-2147483648',
  );
});

test('the committed generated files are exactly what the generator produces', () => {
  const files = generate();
  for (const [name, text] of files) {
    const committed = readFileSync(join(root, 'src', 'protocol', 'generated', name), 'utf8');
    assert.ok(committed === text, `src/protocol/generated/${name} is stale: run npm run codegen`);
    assert.match(text, /^\/\/ Generated by scripts\/codegen\.ts .*do not edit/);
  }
});

test('npm run codegen -- --check passes on the committed output', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/codegen.ts', '--check'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /up to date/);
});

test('the API table agrees with the versions Kafka trunk advertises (api-versions-by-release.json)', async () => {
  const { ALL_API_SPECS } = await import('../../src/protocol/generated/index.js');
  const releases = JSON.parse(
    readFileSync(
      join(root, '..', 'shared', 'kafka-protocol', 'api-versions-by-release.json'),
      'utf8',
    ),
  ) as Record<
    string,
    Record<string, { name: string; validVersions: string; flexibleVersions: string }>
  >;
  const trunk = releases.trunk;
  const expected = Object.entries(trunk)
    .filter(([, a]) => a.validVersions !== 'none')
    .map(([key, a]) => {
      const v = parseVersions(a.validVersions, a.name);
      const f = parseVersions(a.flexibleVersions, a.name);
      // flexibleFrom is the first *valid* flexible version ("0+" flexible, "2-3" valid: 2).
      const flexibleFrom = f && v ? Math.max(f.min, v.min) : null;
      return [Number(key), a.name.replace(/Request$/, ''), v?.min, v?.max, flexibleFrom];
    })
    .sort((a, b) => Number(a[0]) - Number(b[0]));
  const actual = ALL_API_SPECS.map((s) => [
    s.apiKey,
    s.name,
    s.validVersions.min,
    s.validVersions.max,
    s.flexibleFrom,
  ]);
  assert.deepEqual(actual, expected);
});
