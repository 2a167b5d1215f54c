import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ChangelogOffset,
  ChangelogReader,
  ChangelogRecord,
  ChangelogWriter,
} from '../../src/streams/stores/changelog.js';
import type { BytesStore } from '../../src/streams/stores/key-value-store.js';

/** A temporary folder, removed by the returned function. */
export function tempDir(prefix = 'brook-streams-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * An in-memory stand-in for one changelog partition (the Kafka topic the runtime will write
 * through the client's producer): the external boundary the store layers talk to. Appends are
 * buffered and get offsets on flush, like a producer's records get offsets on acknowledgement.
 */
export class MemoryChangelog implements ChangelogWriter, ChangelogReader {
  readonly records: ChangelogRecord[] = [];
  #pending: { key: Buffer; value: Buffer | null }[] = [];
  #next = 0;

  append(key: Buffer, value: Buffer | null): void {
    // Copied, as a producer serializes the record at send time.
    this.#pending.push({
      key: Buffer.from(key),
      value: value === null ? null : Buffer.from(value),
    });
  }

  async flush(): Promise<ChangelogOffset | null> {
    for (const { key, value } of this.#pending) {
      this.records.push({ offset: this.#next++, key, value });
    }
    this.#pending = [];
    return this.#next === 0 ? null : this.#next - 1;
  }

  /** Appends not yet flushed (lost if the process "crashes" now). */
  get pending(): number {
    return this.#pending.length;
  }

  /** Drops unflushed appends, as a crash of the producer would. */
  dropPending(): void {
    this.#pending = [];
  }

  async endOffset(): Promise<number> {
    return this.#next;
  }

  async *readFrom(from: number): AsyncIterable<ChangelogRecord> {
    const end = this.#next;
    for (const record of this.records) {
      if (record.offset >= from && record.offset < end) yield record;
    }
  }

  /** Kafka's compaction: keeps the last record per key below `end`, and everything from `end`. */
  compact(end = this.#next): void {
    const last = new Map<string, number>();
    for (const r of this.records) if (r.offset < end) last.set(r.key.toString('latin1'), r.offset);
    const kept = this.records.filter(
      (r) => r.offset >= end || last.get(r.key.toString('latin1')) === r.offset,
    );
    this.records.length = 0;
    this.records.push(...kept);
  }
}

/** Every entry of a bytes store, as [latin1 key, hex value] pairs in scan order. */
export function dump(store: BytesStore): [string, string][] {
  return [...store.all()].map(({ key, value }) => [key.toString('latin1'), value.toString('hex')]);
}
