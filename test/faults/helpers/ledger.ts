/**
 * The ledger of what producers were told: every acknowledged record (partition, offset, value),
 * and the checker that compares it with what the broker serves afterwards.
 *
 * Values are `<producer>:<partition>:<sequence>` (optionally `|<padding>`), so the checker can tell records apart, find
 * duplicates of unacknowledged sends too, and check each producer's order per partition.
 */
import type { PartitionRead } from './read-partitions.js';

/** The value a scenario's producer writes: unique per producer, partition and sequence. */
export function recordValue(producer: number, partition: number, sequence: number): string {
  return `${producer}:${partition}:${sequence}`;
}

function parseValue(value: string): { producer: number; partition: number; sequence: number } {
  const [producer, partition, sequence] = value.split(':').map(Number);
  return { producer, partition, sequence };
}

/** What the checker found; `problems` must be empty. */
export interface LedgerCheck {
  acknowledged: number;
  found: number;
  /** Acknowledged records that are missing, or not at their acknowledged offset. */
  lost: number;
  /** Records (acknowledged or not) present more than once. */
  duplicated: number;
  /** Unacknowledged sends that made it anyway (allowed: the ack was lost, not the data). */
  unacknowledgedPresent: number;
  problems: string[];
}

export class AckLedger {
  /** partition → offset → value, as acknowledged. */
  readonly acked = new Map<number, Map<number, string>>();
  count = 0;

  /** Notes an acknowledgement: `value` is stored at `offset` of `partition`. */
  ack(partition: number, offset: number, value: string): void {
    let m = this.acked.get(partition);
    if (!m) {
      m = new Map();
      this.acked.set(partition, m);
    }
    const prior = m.get(offset);
    if (prior !== undefined && prior !== value)
      throw new Error(
        `offset ${offset} of partition ${partition} acknowledged twice: ${prior}, ${value}`,
      );
    m.set(offset, value);
    this.count++;
  }

  /**
   * Compares the ledger with what was read: every acknowledged record present exactly once at its
   * offset; no record present twice; offsets contiguous from the log start; each producer's
   * sequences strictly increasing per partition; every batch served passed its CRC.
   */
  check(reads: PartitionRead[], options: { maxProblems?: number } = {}): LedgerCheck {
    const max = options.maxProblems ?? 20;
    const result: LedgerCheck = {
      acknowledged: this.count,
      found: 0,
      lost: 0,
      duplicated: 0,
      unacknowledgedPresent: 0,
      problems: [],
    };
    const problem = (s: string) => {
      if (result.problems.length < max) result.problems.push(s);
    };
    reads.forEach((read, partition) => {
      const acked = this.acked.get(partition) ?? new Map<number, string>();
      if (read.errorCode !== 0)
        problem(`partition ${partition}: fetch error ${read.errorCode} at ${read.stoppedAt}`);
      if (read.badBatches > 0)
        problem(`partition ${partition}: ${read.badBatches} batches failed CRC`);
      const byValue = new Map<string, number>();
      const lastSeq = new Map<number, number>();
      let expected = Math.max(read.logStartOffset, 0);
      for (const r of read.records) {
        const value = r.value.split('|', 1)[0];
        result.found++;
        if (r.offset !== expected)
          problem(`partition ${partition}: offset ${r.offset} where ${expected} was expected`);
        expected = r.offset + 1;
        if (byValue.has(value)) {
          result.duplicated++;
          problem(`partition ${partition}: ${value} at ${byValue.get(value)} and ${r.offset}`);
        }
        byValue.set(value, r.offset);
        const v = parseValue(value);
        if (v.partition !== partition) problem(`partition ${partition}: holds ${value}`);
        const prev = lastSeq.get(v.producer) ?? -1;
        if (v.sequence <= prev)
          problem(
            `partition ${partition}: producer ${v.producer} sequence ${v.sequence} after ${prev}`,
          );
        lastSeq.set(v.producer, v.sequence);
        const ackedValue = acked.get(r.offset);
        if (ackedValue === undefined) result.unacknowledgedPresent++;
      }
      for (const [offset, value] of acked) {
        if (byValue.get(value) !== offset) {
          result.lost++;
          const at = byValue.get(value);
          problem(
            `partition ${partition}: acknowledged ${value} at ${offset} ${at === undefined ? 'is missing' : `found at ${at}`}`,
          );
        }
      }
    });
    for (const partition of this.acked.keys())
      if (partition >= reads.length) problem(`partition ${partition} acknowledged but not read`);
    return result;
  }
}
