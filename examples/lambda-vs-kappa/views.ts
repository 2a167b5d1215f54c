/**
 * Reading what the comparison needs from the cluster: a topic's latest value per key (a view as
 * its serving layer holds it), end offsets, and how many records a group has read.
 */
import { Admin, Consumer } from '../../src/client/index.js';

/** Latest value per key of `topic` up to its current end, values parsed as numbers. */
export async function readView(bootstrap: string, topic: string): Promise<Map<string, number>> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  let ends: Map<string, number>;
  let partitions: number;
  try {
    const [info] = await admin.describeTopics([topic]);
    partitions = info?.partitions.length ?? 0;
    const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    ends = await admin.listOffsets(tps, -1);
  } finally {
    await admin.close();
  }
  const view = new Map<string, number>();
  const consumer = new Consumer({ bootstrapServers: bootstrap, fetchMaxWaitMs: 50 });
  try {
    for (let partition = 0; partition < partitions; partition++) {
      const end = ends.get(`${topic}\0${partition}`) ?? 0;
      if (end === 0) continue;
      const tp = { topic, partition };
      consumer.assign([tp]);
      consumer.seek(tp, 0);
      const deadline = Date.now() + 30_000;
      for (let next = 0; next < end; ) {
        if (Date.now() > deadline) throw new Error(`reading ${topic} timed out`);
        const batch = await consumer.poll(200);
        if (batch === undefined) continue;
        for (const r of batch) {
          if (r.offset >= end) break;
          next = r.offset + 1;
          if (r.key === null) continue;
          const key = r.key.toString('utf8');
          if (r.value === null) view.delete(key);
          else view.set(key, Number(r.value.toString('utf8')));
        }
        next = Math.max(next, Math.min(batch.nextOffset, end));
      }
    }
  } finally {
    await consumer.close();
  }
  return view;
}

/** Summed end offsets of `topics` (records in them, none deleted). */
export async function endOffsets(bootstrap: string, topics: readonly string[]): Promise<number> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    let sum = 0;
    for (const topic of topics) {
      const [info] = await admin.describeTopics([topic]);
      const tps = (info?.partitions ?? []).map((_, partition) => ({ topic, partition }));
      for (const end of (await admin.listOffsets(tps, -1)).values()) sum += end;
    }
    return sum;
  } finally {
    await admin.close();
  }
}

/** Summed committed offsets of `group` on `topics` (0 where it has none). */
export async function committed(
  bootstrap: string,
  group: string,
  topics: readonly string[],
): Promise<number> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const wanted = new Set(topics);
    return (await admin.fetchOffsets(group))
      .filter((c) => wanted.has(c.topic) && c.offset > 0)
      .reduce((n, c) => n + c.offset, 0);
  } finally {
    await admin.close();
  }
}
