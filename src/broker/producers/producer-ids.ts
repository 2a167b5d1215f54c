/**
 * Producer id allocation: ids are unique for the life of the data directory, never reused after
 * a restart or crash. Like Kafka's controller, the broker reserves ids in blocks and persists the
 * end of the reserved block before handing any of it out; a restart starts a fresh block, so the
 * unused rest of the old one is skipped, never reissued.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../storage/fs-util.js';

export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block';
/** Kafka's block size (ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** The largest producer epoch; past it a producer gets a new id. */
export const MAX_PRODUCER_EPOCH = 32767;

export class ProducerIdManager {
  readonly #path: string;
  #next: number;
  #blockEnd: number;
  /** Latest epoch issued per producer id since start (re-init bumps it, older ones are fenced). */
  readonly #epochs = new Map<number, number>();

  constructor(dataDir: string) {
    this.#path = join(dataDir, PRODUCER_ID_BLOCK_FILE);
    let reserved = 0;
    if (existsSync(this.#path)) {
      const v = Number(readFileSync(this.#path, 'utf8').trim());
      if (!Number.isSafeInteger(v) || v < 0)
        throw new Error(`${this.#path}: bad producer id block end`);
      reserved = v;
    }
    this.#next = reserved;
    this.#blockEnd = reserved;
  }

  /** Ids below this were (possibly) handed out: anything at or above was never issued. */
  get reservedEnd(): number {
    return this.#blockEnd;
  }

  /** A new producer id at epoch 0. */
  allocate(): { producerId: number; producerEpoch: number } {
    if (this.#next >= this.#blockEnd) this.#reserve(this.#next + PRODUCER_ID_BLOCK_SIZE);
    const producerId = this.#next++;
    this.#epochs.set(producerId, 0);
    return { producerId, producerEpoch: 0 };
  }

  /**
   * KIP-360 re-initialisation of an existing producer: the same id with the next epoch (a new id
   * when the epoch is exhausted). Returns 'fenced' when a newer epoch was already issued.
   */
  bumpEpoch(
    producerId: number,
    producerEpoch: number,
  ): { producerId: number; producerEpoch: number } | 'fenced' | 'unknown' {
    if (producerId < 0 || producerId >= this.#blockEnd) return 'unknown';
    const latest = this.#epochs.get(producerId);
    if (latest !== undefined && producerEpoch !== latest) return 'fenced';
    if (producerEpoch + 1 > MAX_PRODUCER_EPOCH) return this.allocate();
    this.#epochs.set(producerId, producerEpoch + 1);
    return { producerId, producerEpoch: producerEpoch + 1 };
  }

  #reserve(end: number): void {
    writeFileAtomic(this.#path, `${end}\n`);
    this.#blockEnd = end;
  }
}
