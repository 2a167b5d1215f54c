import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const brook = new URL('../../bin/brook', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

test('brook --version prints the package version', () => {
  const out = execFileSync(brook, ['--version'], { encoding: 'utf8' });
  assert.equal(out.trim(), pkg.version);
});

test('brook --help lists the command name and usage', () => {
  const out = execFileSync(brook, ['--help'], { encoding: 'utf8' });
  assert.match(out, /Usage: brook/);
  assert.match(out, /Kafka-compatible/);
});
