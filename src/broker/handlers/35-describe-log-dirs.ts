import { statfsSync } from 'node:fs';
import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeLogDirsResponseDescribeLogDirsTopic } from '../../protocol/generated/index.js';
import { specHandler } from './spec-handler.js';

export const describeLogDirsHandler = specHandler(35, {
  minVersion: 1,
  maxVersion: 5,
  handle(req, ctx) {
    const broker = ctx.broker;
    const sizes = broker.logs.sizes();
    // null asks for every partition; a list narrows it.
    const wanted =
      req.topics === null ? null : new Map(req.topics.map((t) => [t.topic, new Set(t.partitions)]));
    const byTopic = new Map<string, DescribeLogDirsResponseDescribeLogDirsTopic>();
    for (const s of sizes) {
      if (wanted && !wanted.get(s.topic)?.has(s.partition)) continue;
      let t = byTopic.get(s.topic);
      if (!t) byTopic.set(s.topic, (t = { name: s.topic, partitions: [] }));
      t.partitions.push({
        partitionIndex: s.partition,
        partitionSize: BigInt(s.size),
        offsetLag: 0n,
        isFutureKey: false,
      });
    }
    let totalBytes = -1n;
    let usableBytes = -1n;
    try {
      const fs = statfsSync(broker.config.dataDir, { bigint: true });
      totalBytes = fs.blocks * fs.bsize;
      usableBytes = fs.bavail * fs.bsize;
    } catch {
      // Unknown sizes are -1, as Kafka reports them.
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [
        {
          errorCode: ErrorCode.NONE,
          logDir: broker.config.dataDir,
          topics: [...byTopic.values()],
          totalBytes,
          usableBytes,
        },
      ],
    };
  },
  errorResponse(_req, _version, errorCode) {
    return { throttleTimeMs: 0, errorCode, results: [] };
  },
});
