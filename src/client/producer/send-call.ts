/**
 * One `send` call in flight: its records are tracked as runs per batch (not as objects per
 * record), and the call resolves once every run's batch is acknowledged.
 */
import type { BatchBuilder, BatchWaiter } from './batch-builder.js';
import type { ProducerRecord, RecordMetadata } from './options.js';

export interface SendCall {
  topic: string;
  /** Where each record landed, filled in as batches are acknowledged; undefined: not wanted. */
  results: RecordMetadata[] | undefined;
  /** The caller's records (for their timestamps) and the time of the call. */
  records: readonly ProducerRecord[];
  now: number;
  remaining: number;
  resolve: () => void;
  reject: (err: Error) => void;
  failed: boolean;
}

/** One run of records from a send call inside one batch. */
export class CallWaiter implements BatchWaiter {
  count = 1;
  constructor(
    readonly call: SendCall,
    readonly first: number,
    readonly callIndex: number,
  ) {}

  done(batch: BatchBuilder, baseOffset: number, logAppendTime: number, err?: Error): void {
    const call = this.call;
    if (call.failed) return;
    if (err) {
      call.failed = true;
      call.reject(err);
      return;
    }
    const results = call.results;
    for (let j = 0; results !== undefined && j < this.count; j++) {
      const i = this.callIndex + j;
      results[i] = {
        topic: call.topic,
        partition: batch.partition,
        offset: baseOffset < 0 ? -1 : baseOffset + this.first + j,
        timestamp: logAppendTime >= 0 ? logAppendTime : (call.records[i].timestamp ?? call.now),
      };
    }
    call.remaining -= this.count;
    if (call.remaining === 0) call.resolve();
  }
}
