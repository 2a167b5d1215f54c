import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  editDistance,
  loadBrokerConfig,
  nearestName,
  parseProperties,
} from '../../src/broker/config.js';
import {
  describeBrokerConfigs,
  describeTopicConfigs,
} from '../../src/broker/topics/config-resources.js';

test('properties: comments, separators, continuation, escapes', () => {
  const text = [
    '# a comment',
    '! another comment',
    '   ',
    'a=1',
    'b : two words ',
    'c   3',
    'd=first \\',
    '    second \\',
    '    third',
    'e=C:\\\\data\\tx',
    'f\\=g=h',
    'u=\\u0041B',
    'empty=',
    'even=ends with two\\\\',
    'next=line',
  ].join('\n');
  const map = new Map(parseProperties(text).map((e) => [e.key, e]));
  assert.equal(map.get('a')?.value, '1');
  assert.equal(map.get('b')?.value, 'two words ');
  assert.equal(map.get('c')?.value, '3');
  assert.equal(map.get('d')?.value, 'first second third');
  assert.equal(map.get('d')?.line, 7);
  assert.equal(map.get('e')?.value, 'C:\\data\tx');
  assert.equal(map.get('f=g')?.value, 'h');
  assert.equal(map.get('u')?.value, 'AB');
  assert.equal(map.get('empty')?.value, '');
  assert.equal(map.get('even')?.value, 'ends with two\\');
  assert.equal(map.get('next')?.value, 'line');
  assert.equal(map.get('next')?.line, 15);
});

test('defaults match Kafka and the brief', () => {
  const c = loadBrokerConfig({});
  assert.equal(c.nodeId, 0);
  assert.equal(c.dataDir, resolve('brook-data'));
  assert.deepEqual(c.listener, { host: 'localhost', port: 9092 });
  assert.deepEqual(c.advertisedFor(9092), { host: 'localhost', port: 9092 });
  assert.equal(c.int('num.partitions'), 1);
  assert.equal(c.bool('auto.create.topics.enable'), true);
  assert.equal(c.logRetentionMs, 7 * 24 * 3600 * 1000);
  assert.equal(c.int('log.segment.bytes'), 1073741824);
  assert.equal(c.int('message.max.bytes'), 1048588);
  assert.equal(c.int('socket.request.max.bytes'), 100 * 1024 * 1024);
  assert.equal(c.int('connections.max.idle.ms'), 600000);
  assert.equal(c.int('offsets.topic.num.partitions'), 50);
  assert.equal(c.int('metrics.port'), 9404);
  assert.deepEqual(c.list('log.cleanup.policy'), ['delete']);
  assert.equal(c.source('node.id'), 'default');
});

test('precedence: file < env < --set < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brook-config-'));
  try {
    const file = join(dir, 'server.properties');
    writeFileSync(
      file,
      [
        'node.id=0',
        'log.retention.hours=1',
        'num.partitions=3',
        'log.cleanup.policy=compact,\\',
        '   delete',
        'listeners=PLAINTEXT://127.0.0.1:9093',
        'log.dirs=/tmp/from-file',
      ].join('\n'),
    );
    const c = loadBrokerConfig({
      file,
      env: {
        BROOK_NUM_PARTITIONS: '4',
        BROOK_LOG_RETENTION_MS: '5000',
        BROOK_PORT: '9200',
        PATH: '/bin',
      },
      sets: ['num.partitions=5'],
      flags: { dataDir: join(dir, 'data') },
    });
    assert.equal(c.int('num.partitions'), 5);
    assert.equal(c.source('num.partitions'), 'set');
    assert.equal(c.logRetentionMs, 5000);
    assert.equal(c.source('log.retention.ms'), 'env');
    assert.deepEqual(c.list('log.cleanup.policy'), ['compact', 'delete']);
    assert.deepEqual(c.listener, { host: '127.0.0.1', port: 9200 });
    assert.equal(c.dataDir, join(dir, 'data'));
    const flagged = loadBrokerConfig({
      file,
      env: { BROOK_PORT: '9200' },
      flags: { port: 0, host: '::1' },
    });
    assert.deepEqual(flagged.listener, { host: '::1', port: 0 });
    assert.equal(flagged.logRetentionMs, 3600000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('advertised address: explicit listener, host override, bound port', () => {
  const c = loadBrokerConfig({ flags: { port: 0, advertisedHost: 'broker.example' } });
  assert.deepEqual(c.advertisedFor(40000), { host: 'broker.example', port: 40000 });
  const d = loadBrokerConfig({ sets: ['advertised.listeners=PLAINTEXT://[::1]:19092'] });
  assert.deepEqual(d.advertisedFor(9092), { host: '::1', port: 19092 });
  const e = loadBrokerConfig({ sets: ['listeners=PLAINTEXT://:9092'] });
  assert.deepEqual(e.advertisedFor(9092), { host: 'localhost', port: 9092 });
});

test('unknown keys are errors naming the nearest valid key', () => {
  assert.throws(
    () => loadBrokerConfig({ sets: ['log.retention.msec=10'] }),
    (e: Error) => e instanceof ConfigError && /did you mean log\.retention\.ms\?/.test(e.message),
  );
  assert.throws(
    () => loadBrokerConfig({ sets: ['auto.create.topic.enable=false'] }),
    /did you mean auto\.create\.topics\.enable\?/,
  );
  assert.throws(
    () => loadBrokerConfig({ sets: ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz=1'] }),
    (e: Error) => {
      return e instanceof ConfigError && !e.message.includes('did you mean');
    },
  );
  const warnings: string[] = [];
  loadBrokerConfig({ env: { BROOK_NUM_PARTITION: '2' }, warn: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /did you mean num\.partitions\?/);
});

test('an unknown key in a file names the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brook-config-'));
  try {
    const file = join(dir, 'server.properties');
    writeFileSync(file, '# header\nnum.partitons=3\n');
    assert.throws(
      () => loadBrokerConfig({ file }),
      /server\.properties:2.*did you mean num\.partitions/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('values are type- and range-checked', () => {
  const bad: [string, RegExp][] = [
    ['num.partitions=0', /num\.partitions: must be at least 1/],
    ['num.partitions=abc', /not an integer/],
    ['node.id=99999999999', /int32/],
    ['auto.create.topics.enable=yes', /true or false/],
    ['log.cleanup.policy=delete,shrink', /"shrink" is not one of/],
    ['compression.type=brotli', /expected one of/],
    ['listeners=SSL://localhost:9093', /PLAINTEXT/],
    ['listeners=PLAINTEXT://a:1,PLAINTEXT://b:2', /exactly one listener/],
    ['listeners=localhost:9092', /PLAINTEXT:\/\/host:port/],
    ['nokey', /expected key=value/],
  ];
  for (const [set, re] of bad) assert.throws(() => loadBrokerConfig({ sets: [set] }), re, set);
  assert.throws(() => loadBrokerConfig({ flags: { port: '70000' } }), /0-65535/);
  assert.equal(
    loadBrokerConfig({ sets: ['log.flush.interval.messages=9223372036854775807'] }).int(
      'log.flush.interval.messages',
    ),
    Number.MAX_SAFE_INTEGER,
  );
});

test('edit distance', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(
    nearestName('LOG_SEGMENT_BYTE', ['log.segment.bytes', 'log.roll.ms']),
    'log.segment.bytes',
  );
});

test('"never" configs are described as Kafka’s Long.MAX_VALUE, not as 2^53 - 1', () => {
  const config = loadBrokerConfig({ sets: ['log.flush.interval.messages=9223372036854775807'] });
  const broker = new Map(describeBrokerConfigs(config, true).map((c) => [c.name, c.value]));
  assert.equal(broker.get('log.flush.interval.messages'), '9223372036854775807');
  const topic = new Map(describeTopicConfigs(config, {}, true).map((c) => [c.name, c]));
  assert.equal(topic.get('max.compaction.lag.ms')?.value, '9223372036854775807');
  assert.equal(topic.get('flush.messages')?.value, '9223372036854775807');
  assert.deepEqual(
    topic.get('flush.messages')?.synonyms.map((s) => s.value),
    ['9223372036854775807'],
  );
  assert.equal(topic.get('segment.bytes')?.value, String(config.int('log.segment.bytes')));
});
