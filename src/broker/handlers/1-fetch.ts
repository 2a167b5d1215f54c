import { ErrorCode } from '../../protocol/errors.js';
import type {
  FetchResponseFetchableTopicResponse,
  FetchResponsePartitionData,
} from '../../protocol/generated/index.js';
import { ZERO_UUID } from '../../protocol/codec-runtime.js';
import { CorruptRecordError, LogClosedError, OffsetOutOfRangeError } from '../../storage/errors.js';
import type { FileRange, Log } from '../../storage/log.js';
import { checkServedBatches } from '../../storage/served-batches.js';
import { AppendWatchers } from '../fetch/append-watchers.js';
import { FetchSession, type SessionPartition } from '../fetch/fetch-sessions.js';
import { readRange } from '../fetch/read-range.js';
import { noteError } from './partition-results.js';
import { specHandler } from './spec-handler.js';
import type { BrokerContext, RequestContext } from './types.js';

const EMPTY = Buffer.alloc(0);
/** Session epochs of KIP-227. */
const INITIAL_EPOCH = 0;
const FINAL_EPOCH = -1;

/** One partition to read, from the request or from its fetch session. */
interface FetchTarget {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  /** The session's record of this partition, when there is a session. */
  session?: SessionPartition;
}

interface Planned {
  target: FetchTarget;
  out: FetchResponsePartitionData;
  ranges: FileRange[];
  /** The log read, and the base offset of the first batch of `ranges`. */
  log?: Log;
  firstOffset?: number;
}

/** Reads what each target has (without touching the files yet): sizes, offsets, errors. */
function plan(
  broker: BrokerContext,
  ctx: RequestContext,
  targets: FetchTarget[],
  maxBytes: number,
) {
  let total = 0;
  let hasError = false;
  const planned: Planned[] = [];
  for (const target of targets) {
    const out: FetchResponsePartitionData = {
      partitionIndex: target.partition,
      errorCode: ErrorCode.NONE,
      highWatermark: -1n,
      lastStableOffset: -1n,
      logStartOffset: -1n,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: EMPTY,
    };
    const p: Planned = { target, out, ranges: [] };
    planned.push(p);
    const topic = broker.topics.get(target.topic);
    const log =
      topic && (target.topicId === ZERO_UUID || topic.topicId === target.topicId)
        ? broker.topics.log(topic, target.partition)
        : undefined;
    if (!log) {
      out.errorCode =
        target.topicId !== ZERO_UUID
          ? ErrorCode.UNKNOWN_TOPIC_ID
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      hasError = true;
      continue;
    }
    const hw = log.highWatermark;
    out.highWatermark = BigInt(hw);
    // Without transactions the last stable offset is the high watermark.
    out.lastStableOffset = BigInt(hw);
    out.logStartOffset = BigInt(log.logStartOffset);
    const room = Math.min(target.maxBytes, maxBytes - total);
    if (room <= 0 && total > 0) continue;
    try {
      const r = log.read(target.fetchOffset, Math.max(room, 0), {
        maxOffset: hw,
        // As Kafka: the first partition with data returns at least one whole batch, so that a
        // batch bigger than the limits cannot stall the consumer.
        minOneBatch: total === 0,
      });
      if (r.size > 0) {
        total += r.size;
        p.ranges = r.ranges;
        p.log = log;
        p.firstOffset = r.firstOffset;
      }
    } catch (err) {
      hasError = true;
      if (err instanceof OffsetOutOfRangeError) out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
      else if (err instanceof CorruptRecordError) out.errorCode = ErrorCode.CORRUPT_MESSAGE;
      // The topic was deleted while this request was under way.
      else if (err instanceof LogClosedError) out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else {
        ctx.log.error(
          { err, topic: target.topic, partition: target.partition },
          'fetch read failed',
        );
        out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
      }
    }
  }
  return { total, hasError, planned };
}

/**
 * Cuts `parts` (the bytes read for `p.ranges`) before the first batch that fails its CRC or
 * frame: damage that recovery did not rescan is never served. The log is marked corrupt from
 * there (later fetches at or past it get CORRUPT_MESSAGE) and the damage is logged once; a
 * fetch that finds it at its very first batch answers CORRUPT_MESSAGE itself.
 */
function servableOnly(ctx: RequestContext, p: Planned, parts: Buffer[]): void {
  if (!p.log) return;
  let expected = p.firstOffset;
  for (let i = 0; i < parts.length; i++) {
    const check = checkServedBatches(p.log, p.ranges[i], parts[i], expected);
    expected = check.nextOffset;
    if (check.validLength === parts[i].length) continue;
    parts[i] = parts[i].subarray(0, check.validLength);
    parts.length = i + 1;
    const damage = check.corruption;
    if (damage && check.newlyFound) {
      ctx.log.error(
        {
          event: 'corrupt-batch',
          topic: damage.topic,
          partition: damage.partition,
          offset: damage.offset,
          file: damage.file,
          position: damage.position,
          reason: damage.reason,
        },
        `refusing to serve ${damage.topic}-${damage.partition} from offset ${damage.offset}: ${damage.message}`,
      );
    }
    if (damage && i === 0 && check.validLength === 0) p.out.errorCode = ErrorCode.CORRUPT_MESSAGE;
    return;
  }
}

/** Groups partition results by topic, in the order the targets came. */
function group(planned: Planned[]): FetchResponseFetchableTopicResponse[] {
  const topics: FetchResponseFetchableTopicResponse[] = [];
  let last: FetchResponseFetchableTopicResponse | undefined;
  for (const { target, out } of planned) {
    if (!last || last.topic !== target.topic || last.topicId !== target.topicId) {
      last = { topic: target.topic, topicId: target.topicId, partitions: [] };
      topics.push(last);
    }
    last.partitions.push(out);
  }
  return topics;
}

function sessionError(ctx: RequestContext, errorCode: number) {
  ctx.errorCode = errorCode;
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [] };
}

export const fetchHandler = specHandler(1, {
  minVersion: 4,
  maxVersion: 18,
  spliceRecords: true,
  async handle(req, ctx) {
    const broker = ctx.broker;
    const version = ctx.header.apiVersion;
    const byId = version >= 13;
    const resolveName = (topic: string | undefined, topicId: string | undefined) =>
      byId ? (broker.topics.byId(topicId ?? ZERO_UUID)?.name ?? '') : (topic ?? '');
    const requested: FetchTarget[] = [];
    for (const t of req.topics) {
      const topicId = byId ? (t.topicId ?? ZERO_UUID) : ZERO_UUID;
      const topic = resolveName(t.topic, t.topicId);
      for (const p of t.partitions) {
        requested.push({
          topic,
          topicId,
          partition: p.partition,
          fetchOffset: Number(p.fetchOffset),
          maxBytes: p.partitionMaxBytes,
        });
      }
    }

    // KIP-227 fetch sessions: (0, -1) sessionless; (0, 0) new full session; (id, -1) close;
    // (id, 0) close and start a new one; (id, n>0) incremental.
    const sessionId = req.sessionId ?? 0;
    const epoch = req.sessionEpoch ?? FINAL_EPOCH;
    const cache = broker.fetchSessions;
    let session: FetchSession | undefined;
    let incremental = false;
    let targets = requested;
    if (sessionId !== 0 && epoch > INITIAL_EPOCH) {
      session = cache.get(sessionId);
      if (!session) return sessionError(ctx, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
      if (session.nextEpoch !== epoch)
        return sessionError(ctx, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
      incremental = true;
      for (const f of req.forgottenTopicsData ?? []) {
        const topicId = byId ? (f.topicId ?? ZERO_UUID) : ZERO_UUID;
        const topic = resolveName(f.topic, f.topicId);
        for (const p of f.partitions)
          session.partitions.delete(FetchSession.key(topicId, topic, p));
      }
      for (const t of requested) {
        const key = FetchSession.key(t.topicId, t.topic, t.partition);
        const known = session.partitions.get(key);
        if (known) {
          known.fetchOffset = t.fetchOffset;
          known.maxBytes = t.maxBytes;
        } else {
          session.partitions.set(key, { ...t, lastHighWatermark: -2, lastLogStartOffset: -2 });
        }
      }
      targets = [...session.partitions.values()].map((s) => ({ ...s, session: s }));
    } else {
      if (sessionId !== 0) cache.remove(sessionId);
      if (epoch === INITIAL_EPOCH) {
        session = cache.create();
        if (session) {
          targets = requested.map((t) => {
            const s = { ...t, lastHighWatermark: -2, lastLogStartOffset: -2 };
            session?.partitions.set(FetchSession.key(t.topicId, t.topic, t.partition), s);
            return { ...t, session: s };
          });
        }
      }
    }

    const readCommitted = req.isolationLevel === 1;
    // The client's limit, within the broker's (Kafka's fetch.max.bytes).
    const maxBytes = Math.min(req.maxBytes ?? 0x7fffffff, broker.config.int('fetch.max.bytes'));
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    const keys = targets.map((t) => AppendWatchers.key(t.topic, t.partition));
    let result = plan(broker, ctx, targets, maxBytes);
    // Long poll: wait for data until min_bytes is reached or max_wait passes.
    while (
      !result.hasError &&
      result.total < req.minBytes &&
      Date.now() < deadline &&
      !broker.appends.closed
    ) {
      await broker.appends.wait(keys, deadline - Date.now());
      result = plan(broker, ctx, targets, maxBytes);
    }
    await Promise.all(
      result.planned.map(async (p) => {
        if (readCommitted) p.out.abortedTransactions = [];
        if (p.ranges.length === 0) return;
        const parts = await Promise.all(p.ranges.map(readRange));
        servableOnly(ctx, p, parts);
        p.out.records = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      }),
    );
    let answered = result.planned;
    if (incremental) {
      // Only partitions with news: records, an error, or offsets the client has not seen.
      answered = answered.filter(({ target, out }) => {
        const s = target.session;
        return (
          (out.records as Buffer).length > 0 ||
          out.errorCode !== 0 ||
          !s ||
          s.lastHighWatermark !== Number(out.highWatermark) ||
          s.lastLogStartOffset !== Number(out.logStartOffset)
        );
      });
    }
    for (const { target, out } of answered) {
      if (target.session) {
        target.session.lastHighWatermark = Number(out.highWatermark);
        target.session.lastLogStartOffset = Number(out.logStartOffset);
      }
      noteError(ctx, out.errorCode);
    }
    if (session) session.nextEpoch = incremental ? epoch + 1 : 1;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId: session?.id ?? 0,
      responses: group(answered),
    };
  },
  errorResponse(req, _version, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      sessionId: 0,
      responses: req.topics.map((t) => ({
        topic: t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition,
          errorCode,
          highWatermark: -1n,
          abortedTransactions: null,
          records: EMPTY,
        })),
      })),
    };
  },
});
