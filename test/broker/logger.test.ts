import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prettyLine } from '../../src/broker/logger.js';

test('pretty log lines: time, level, message, then the fields', () => {
  const line = JSON.stringify({
    level: 40,
    time: '2026-01-01T00:00:00.000Z',
    pid: 7,
    connection: 3,
    err: 'bad frame',
    listeners: [{ port: 1 }],
    msg: 'closing connection',
  });
  assert.equal(
    prettyLine(line),
    '2026-01-01T00:00:00.000Z WARN  closing connection connection=3 err=bad frame listeners=[{"port":1}]\n',
  );
  assert.equal(prettyLine('not json'), 'not json');
});
