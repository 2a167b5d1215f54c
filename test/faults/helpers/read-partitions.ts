/**
 * Reads partitions to their high watermark with raw Fetch requests and checks every batch the
 * broker serves: its frame and its CRC-32C (Brook's consumer trusts the broker; this reader
 * does not). What a scenario compares against what it acknowledged.
 */
import { LOG_OVERHEAD } from '../../../src/protocol/record-batch/header.js';
import {
  checkBatchFrame,
  decodeRecordBatch,
  verifyBatchCrc,
} from '../../../src/protocol/record-batch/batch.js';
import { KafkaTestClient } from '../../broker/helpers/kafka-client.js';

/** One record as read back. */
export interface ReadRecord {
  offset: number;
  key: string | null;
  value: string;
}

/** What was read from one partition. */
export interface PartitionRead {
  records: ReadRecord[];
  /** Batches served, and those that failed their frame or CRC check (must stay 0). */
  batches: number;
  badBatches: number;
  highWatermark: number;
  logStartOffset: number;
  /**
   * A partition-level error code that stopped the read (0 when it reached the high watermark;
   * -1 when the broker served a batch that cannot even be framed).
   */
  errorCode: number;
  /** The offset the read stopped at. */
  stoppedAt: number;
}

function fetchBody(topic: string, partition: number, offset: number) {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 4 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [{ partition, fetchOffset: BigInt(offset), partitionMaxBytes: 4 << 20 }],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

/**
 * Reads `topic`/`partition` from `from` to the high watermark (Fetch v11). Batches that fail
 * their checks are counted and skipped; a partition error (e.g. KAFKA_STORAGE_ERROR at a
 * damaged offset) ends the read and is returned.
 */
export async function readPartition(
  client: KafkaTestClient,
  topic: string,
  partition: number,
  from = 0,
): Promise<PartitionRead> {
  const out: PartitionRead = {
    records: [],
    batches: 0,
    badBatches: 0,
    highWatermark: -1,
    logStartOffset: -1,
    errorCode: 0,
    stoppedAt: from,
  };
  let offset = from;
  for (;;) {
    const res = await client.request(1, 11, fetchBody(topic, partition, offset), 30000);
    const p = res.responses[0].partitions[0];
    out.highWatermark = Number(p.highWatermark);
    out.logStartOffset = Number(p.logStartOffset ?? -1n);
    if (p.errorCode !== 0) {
      out.errorCode = p.errorCode;
      break;
    }
    const buf = p.records ?? Buffer.alloc(0);
    let at = 0;
    let progressed = false;
    while (buf.length - at >= LOG_OVERHEAD) {
      let size: number;
      try {
        size = checkBatchFrame(buf, at);
      } catch {
        // A partial batch at the end of a response is normal (Kafka may cut one); the next fetch
        // starts with it. A batch that cannot be framed even at the start of a response is
        // damage served to the client.
        if (at === 0) {
          out.batches++;
          out.badBatches++;
          out.errorCode = -1;
          out.stoppedAt = offset;
          return out;
        }
        break;
      }
      out.batches++;
      try {
        verifyBatchCrc(buf, at, size);
      } catch {
        // Counted (the scenario fails on it) and stepped over by its header's offsets.
        out.badBatches++;
        const next = Number(buf.readBigInt64BE(at)) + buf.readInt32BE(at + 23) + 1;
        if (next > offset) {
          offset = next;
          progressed = true;
        }
        at += size;
        continue;
      }
      const batch = decodeRecordBatch(buf, at);
      if (batch.lastOffset >= offset) {
        if (!batch.isControl) {
          for (const r of batch.recordsIterator()) {
            if (r.offset < offset) continue;
            out.records.push({
              offset: r.offset,
              key: r.key === null ? null : r.key.toString(),
              value: r.value === null ? '' : r.value.toString(),
            });
          }
        }
        offset = batch.nextOffset;
        progressed = true;
      }
      at += size;
    }
    if (offset >= out.highWatermark) break;
    if (!progressed)
      throw new Error(`fetch of ${topic}-${partition} at ${offset} made no progress`);
  }
  out.stoppedAt = offset;
  return out;
}

/** Reads every partition `0..partitions-1` of `topic` on a fresh connection to `port`. */
export async function readTopic(
  port: number,
  topic: string,
  partitions: number,
): Promise<PartitionRead[]> {
  const client = await KafkaTestClient.connect(port);
  try {
    const out: PartitionRead[] = [];
    for (let p = 0; p < partitions; p++) out.push(await readPartition(client, topic, p));
    return out;
  } finally {
    client.close();
  }
}
