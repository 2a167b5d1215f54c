/**
 * The checkpoint metadata format and the runtime config keys: round trips, and foreign or
 * damaged metadata read as "no checkpoint" rather than as an error or a wrong offset.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeCheckpointMetadata,
  encodeCheckpointMetadata,
} from '../../src/streams/runtime/checkpoint.js';
import { JobConfigError, resolveRuntimeConfig } from '../../src/streams/runtime/config.js';

test('checkpoint metadata round-trips the changelog offsets of every store', () => {
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
        fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }),
      ),
      (offsets) => {
        const map = new Map(Object.entries(offsets));
        assert.deepEqual(decodeCheckpointMetadata(encodeCheckpointMetadata(map)), map);
      },
    ),
  );
});

test('metadata that is not a Brook checkpoint means no checkpoint', () => {
  for (const metadata of [
    null,
    undefined,
    '',
    'not json',
    '[]',
    '{"v":1,"changelog":{"counts":3}}',
    '{"v":2,"by":"brook-streams","changelog":{"counts":3}}',
    '{"v":1,"by":"brook-streams","changelog":null}',
  ]) {
    assert.equal(decodeCheckpointMetadata(metadata), undefined, String(metadata));
  }
  // Offsets that are not safe integers >= -1 are dropped, never trusted.
  const decoded = decodeCheckpointMetadata(
    '{"v":1,"by":"brook-streams","changelog":{"a":5,"b":-2,"c":1.5,"d":"7"}}',
  );
  assert.deepEqual(decoded, new Map([['a', 5]]));
});

test('runtime config: defaults, overrides and refused values', () => {
  const defaults = resolveRuntimeConfig({});
  assert.equal(defaults.commitMs, 5000);
  assert.equal(defaults.windowMs, -1);
  assert.equal(defaults.reset, 'earliest');
  const set = resolveRuntimeConfig({
    'task.commit.ms': '100',
    'task.window.ms': '50',
    'auto.offset.reset': 'latest',
  });
  assert.deepEqual([set.commitMs, set.windowMs, set.reset], [100, 50, 'latest']);
  assert.throws(() => resolveRuntimeConfig({ 'task.commit.ms': '0' }), JobConfigError);
  assert.throws(() => resolveRuntimeConfig({ 'task.commit.ms': 'soon' }), JobConfigError);
  assert.throws(() => resolveRuntimeConfig({ 'auto.offset.reset': 'none' }), /earliest or latest/);
});
