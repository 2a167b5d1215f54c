/**
 * The default partitioner, compatible with the Java client: a keyed record goes to
 * `toPositive(murmur2(keyBytes)) % numPartitions`; records without a key stick to one partition
 * until a batch of that partition is sent, then move on (KIP-480 sticky partitioning).
 */

/** Kafka's murmur2 (seed 0x9747b28c), as `Utils.murmur2` in the Java client: a signed int32. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  // The tail bytes, folded in as the Java code's fall-through switch does.
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's `Utils.toPositive`: clears the sign bit (not Math.abs, which differs for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition of a key among `numPartitions`, as the Java client's default partitioner. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

/**
 * Chooses partitions for records. `partition` is called for each record; `onNewBatch` when the
 * producer closes a batch for the sticky partition of a topic, so that keyless records move on.
 */
export interface Partitioner {
  partition(topic: string, key: Uint8Array | null, numPartitions: number): number;
  onNewBatch?(topic: string, partition: number, numPartitions: number): void;
}

/** Murmur2 for keyed records, sticky for keyless ones. */
export class DefaultPartitioner implements Partitioner {
  private readonly sticky = new Map<string, number>();

  partition(topic: string, key: Uint8Array | null, numPartitions: number): number {
    if (key !== null) return partitionForKey(key, numPartitions);
    let p = this.sticky.get(topic);
    if (p === undefined || p >= numPartitions) {
      p = Math.floor(Math.random() * numPartitions);
      this.sticky.set(topic, p);
    }
    return p;
  }

  onNewBatch(topic: string, partition: number, numPartitions: number): void {
    if (this.sticky.get(topic) !== partition || numPartitions <= 1) return;
    // Move to a different partition, chosen at random among the others.
    let next = Math.floor(Math.random() * (numPartitions - 1));
    if (next >= partition) next++;
    this.sticky.set(topic, next);
  }
}
