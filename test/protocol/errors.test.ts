import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ERRORS,
  ErrorCode,
  errorForCode,
  errorForName,
  isRetriable,
  KafkaError,
  throwIfError,
} from '../../src/protocol/errors.js';

describe('Kafka error codes', () => {
  it('covers every code from -1 to the newest without gaps or duplicates', () => {
    const codes = ERRORS.map((e) => e.code);
    assert.equal(codes[0], -1);
    assert.ok(codes.length >= 135);
    for (let i = 1; i < codes.length; i++) assert.equal(codes[i], codes[i - 1] + 1);
    assert.equal(new Set(ERRORS.map((e) => e.name)).size, ERRORS.length);
  });

  it('has the well-known codes, names and retriable flags', () => {
    assert.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1);
    assert.equal(ErrorCode.NONE, 0);
    assert.equal(ErrorCode.OFFSET_OUT_OF_RANGE, 1);
    assert.equal(ErrorCode.CORRUPT_MESSAGE, 2);
    assert.equal(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 3);
    assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
    assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
    assert.equal(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 76);
    assert.equal(ErrorCode.INVALID_RECORD, 87);
    assert.equal(ErrorCode.PRODUCER_FENCED, 90);
    assert.equal(ErrorCode.UNKNOWN_TOPIC_ID, 100);
    assert.equal(ErrorCode.TRANSACTION_ABORTABLE, 120);
    for (const retriable of [2, 3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 51, 56, 74, 75, 89, 100]) {
      assert.equal(isRetriable(retriable), true, `code ${retriable}`);
    }
    for (const fatal of [-1, 0, 1, 10, 22, 25, 27, 29, 35, 47, 87, 90]) {
      assert.equal(isRetriable(fatal), false, `code ${fatal}`);
    }
    assert.equal(isRetriable(9999), false);
  });

  it('looks errors up by code and by name', () => {
    const info = errorForCode(3)!;
    assert.equal(info.name, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal(info.message, 'This server does not host this topic-partition.');
    assert.equal(errorForName('REBALANCE_IN_PROGRESS')?.code, 27);
    assert.equal(errorForCode(32767), undefined);
    assert.equal(errorForName('NOPE'), undefined);
  });

  it('builds KafkaError with code, name, retriable flag and message', () => {
    const err = new KafkaError(ErrorCode.NOT_COORDINATOR, 'group g1');
    assert.ok(err instanceof Error);
    assert.equal(err.code, 16);
    assert.equal(err.name, 'NOT_COORDINATOR');
    assert.equal(err.retriable, true);
    assert.equal(err.message, 'This is not the correct coordinator. group g1');
    const unknown = new KafkaError(4242);
    assert.equal(unknown.name, 'UNKNOWN_SERVER_ERROR');
    assert.equal(unknown.code, 4242);
    assert.equal(unknown.retriable, false);
    assert.match(unknown.message, /4242/);
    assert.doesNotThrow(() => throwIfError(0));
    assert.throws(
      () => throwIfError(1),
      (e: unknown) => e instanceof KafkaError && e.code === 1,
    );
  });
});
