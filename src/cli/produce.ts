/**
 * `brook produce`: reads records from stdin, one per line, like kafka-console-producer.sh
 * (`--property parse.key=true --property key.separator=:` for keyed lines).
 */
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { type CompressionOption, Producer, type ProducerRecord } from '../client/index.js';
import {
  type CommonOptions,
  collect,
  parseCount,
  parsePairs,
  printJson,
  runClientCommand,
  UsageError,
  withCommonOptions,
} from './client-common.js';

interface ProduceOptions extends CommonOptions {
  topic?: string;
  property?: string[];
  compression?: string;
  acks?: string;
  partition?: string;
  lingerMs?: string;
  batchSize?: string;
}

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** Lines sent per `send` call: large enough for throughput, small enough to bound memory. */
const CHUNK = 1000;

async function runProduce(o: ProduceOptions): Promise<void> {
  if (!o.topic) throw new UsageError('--topic is required');
  const topic = o.topic;
  const props = parsePairs(o.property, '--property');
  const parseKey = props['parse.key'] === 'true';
  const separator = props['key.separator'] ?? '\t';
  const compression = o.compression ?? 'none';
  if (!CODECS.includes(compression))
    throw new UsageError(`--compression must be one of ${CODECS.join(', ')}`);
  const acksText = o.acks ?? 'all';
  const acks =
    acksText === 'all' || acksText === '-1'
      ? 'all'
      : acksText === '1'
        ? 1
        : acksText === '0'
          ? 0
          : undefined;
  if (acks === undefined) throw new UsageError('--acks must be 0, 1, all or -1');
  const partition = parseCount(o.partition, '--partition');
  const producer = new Producer({
    bootstrapServers: o.bootstrapServer,
    clientId: 'brook-console-producer',
    acks,
    compression: compression as CompressionOption,
    lingerMs: parseCount(o.lingerMs, '--linger-ms') ?? 5,
    batchSize: parseCount(o.batchSize, '--batch-size') ?? 16384,
    // Explicit idempotence is not forced: acks 0/1 simply turn it off.
    idempotent: acks === 'all' ? undefined : false,
  });
  let sent = 0;
  let acked = 0;
  const started = Date.now();
  const progress = process.stderr.isTTY
    ? setInterval(() => process.stderr.write(`\r${acked} records acknowledged…`), 1000)
    : undefined;
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  const flushChunk = (chunk: ProducerRecord[]): void => {
    sent += chunk.length;
    const p = producer.send(topic, chunk).then(
      (r) => {
        acked += r.length;
      },
      (err: unknown) => {
        failure ??= err;
      },
    );
    const tracked = p.finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  try {
    const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
    let chunk: ProducerRecord[] = [];
    for await (const line of lines) {
      if (failure) break;
      let record: ProducerRecord;
      if (parseKey) {
        const at = line.indexOf(separator);
        if (at < 0)
          throw new UsageError(
            `line ${sent + chunk.length + 1} has no key separator "${separator}" (parse.key=true)`,
          );
        record = { key: line.slice(0, at), value: line.slice(at + separator.length) };
      } else {
        record = { value: line };
      }
      if (partition !== undefined) record.partition = partition;
      chunk.push(record);
      if (chunk.length >= CHUNK) {
        flushChunk(chunk);
        chunk = [];
        // Stay within the producer's buffer: wait when many chunks are unacknowledged.
        if (pending.size >= 64) await Promise.race(pending);
      }
    }
    if (chunk.length > 0) flushChunk(chunk);
    await Promise.all(pending);
    await producer.flush();
    if (failure) throw failure;
  } finally {
    if (progress) {
      clearInterval(progress);
      process.stderr.write('\r');
    }
    await producer.close().catch(() => undefined);
  }
  const seconds = (Date.now() - started) / 1000;
  if (o.json) printJson({ topic, records: acked, seconds });
  else if (process.stderr.isTTY)
    process.stderr.write(`${acked} records produced to ${topic} in ${seconds.toFixed(1)} s\n`);
}

/** The `produce` command. */
export function produceCommand(): Command {
  const cmd = new Command('produce').description(
    'send lines from stdin as records (like kafka-console-producer.sh)',
  );
  withCommonOptions(cmd)
    .option('--topic <name>', 'topic to produce to')
    .option('--property <key=value>', 'parse.key=true, key.separator=<sep> (default tab)', collect)
    .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
    .option('--acks <acks>', '0, 1 or all', 'all')
    .option('--partition <n>', 'send every record to this partition')
    .option('--linger-ms <ms>', 'how long a batch waits for more records')
    .option('--batch-size <bytes>', 'bytes per partition batch')
    .action((o: ProduceOptions) =>
      runClientCommand('produce', o.bootstrapServer, () => runProduce(o)),
    );
  return cmd;
}
