/**
 * `brook consume`: prints records, one per line, like kafka-console-consumer.sh.
 * `--max-messages` and `--timeout-ms` make it exit; otherwise it runs until interrupted.
 */
import { Command } from 'commander';
import { Consumer, type ConsumerRecord, type TopicPartition } from '../client/index.js';
import {
  type CommonOptions,
  collect,
  parseCount,
  parsePairs,
  runClientCommand,
  UsageError,
  withCommonOptions,
} from './client-common.js';

interface ConsumeOptions extends CommonOptions {
  topic?: string;
  group?: string;
  fromBeginning?: boolean;
  maxMessages?: string;
  offset?: string;
  partition?: string;
  property?: string[];
  timeoutMs?: string;
  isolationLevel?: string;
}

function formatter(o: ConsumeOptions): (r: ConsumerRecord) => string {
  const props = parsePairs(o.property, '--property');
  const printKey = props['print.key'] === 'true';
  const printTimestamp = props['print.timestamp'] === 'true';
  const printPartition = props['print.partition'] === 'true';
  const printOffset = props['print.offset'] === 'true';
  const sep = props['key.separator'] ?? '\t';
  const text = (b: Buffer | null): string => (b === null ? 'null' : b.toString('utf8'));
  if (o.json) {
    return (r) =>
      JSON.stringify({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: r.key === null ? null : r.key.toString('utf8'),
        value: r.value === null ? null : r.value.toString('utf8'),
        headers: Object.fromEntries(
          r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString('utf8')]),
        ),
      });
  }
  return (r) => {
    let line = '';
    if (printTimestamp) line += `CreateTime:${r.timestamp}${sep}`;
    if (printPartition) line += `Partition:${r.partition}${sep}`;
    if (printOffset) line += `Offset:${r.offset}${sep}`;
    if (printKey) line += `${text(r.key)}${sep}`;
    return line + text(r.value);
  };
}

async function runConsume(o: ConsumeOptions): Promise<void> {
  if (!o.topic) throw new UsageError('--topic is required');
  const topic = o.topic;
  const maxMessages = parseCount(o.maxMessages, '--max-messages');
  const timeoutMs = parseCount(o.timeoutMs, '--timeout-ms');
  const partition = parseCount(o.partition, '--partition');
  if (o.offset !== undefined && partition === undefined)
    throw new UsageError('--offset needs --partition');
  if (o.group && (o.offset !== undefined || partition !== undefined)) {
    throw new UsageError(
      '--group cannot be combined with --partition/--offset (they assign partitions by hand)',
    );
  }
  const format = formatter(o);
  const consumer = new Consumer({
    bootstrapServers: o.bootstrapServer,
    clientId: 'brook-console-consumer',
    groupId: o.group,
    autoOffsetReset: o.fromBeginning ? 'earliest' : 'latest',
    isolationLevel: o.isolationLevel === 'read_committed' ? 'read_committed' : 'read_uncommitted',
  });
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let count = 0;
  try {
    if (o.group) {
      consumer.subscribe([topic]);
    } else {
      const info = await consumer.cluster.waitForTopic(topic, 10000);
      const tps: TopicPartition[] =
        partition !== undefined
          ? [{ topic, partition }]
          : info.partitions.map((p) => ({ topic, partition: p.partition }));
      consumer.assign(tps);
      if (o.offset !== undefined) {
        if (o.offset === 'earliest') await consumer.seekToBeginning();
        else if (o.offset === 'latest') await consumer.seekToEnd();
        else {
          const offset = parseCount(o.offset, '--offset');
          if (offset !== undefined) for (const tp of tps) consumer.seek(tp, offset);
        }
      }
    }
    let lastRecordAt = Date.now();
    const out: string[] = [];
    while (!stop && (maxMessages === undefined || count < maxMessages)) {
      const wait =
        timeoutMs === undefined
          ? 500
          : Math.max(0, Math.min(500, lastRecordAt + timeoutMs - Date.now()));
      const batch = await consumer.poll(wait);
      if (!batch) {
        if (timeoutMs !== undefined && Date.now() - lastRecordAt >= timeoutMs) break;
        continue;
      }
      lastRecordAt = Date.now();
      let last = -1;
      for (const r of batch) {
        out.push(format(r));
        count++;
        last = r.offset;
        if (maxMessages !== undefined && count >= maxMessages) break;
      }
      process.stdout.write(`${out.join('\n')}\n`);
      out.length = 0;
      if (maxMessages !== undefined && count >= maxMessages) {
        // Only what was printed counts as consumed (close() commits positions in a group).
        consumer.seek({ topic: batch.topic, partition: batch.partition }, last + 1);
        break;
      }
      consumer.markProcessed(batch);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await consumer.close();
  }
  if (o.json) return;
  process.stderr.write(`Processed a total of ${count} messages\n`);
}

/** The `consume` command. */
export function consumeCommand(): Command {
  const cmd = new Command('consume').description(
    'print records, one per line (like kafka-console-consumer.sh)',
  );
  withCommonOptions(cmd)
    .option('--topic <name>', 'topic to consume')
    .option('--group <id>', 'consumer group (offsets are committed)')
    .option('--from-beginning', 'start at the earliest offset when there is no committed one')
    .option('--max-messages <n>', 'exit after this many records')
    .option('--partition <n>', 'read only this partition')
    .option('--offset <n|earliest|latest>', 'start offset (with --partition)')
    .option(
      '--property <key=value>',
      'print.key, print.timestamp, print.partition, print.offset, key.separator',
      collect,
    )
    .option('--timeout-ms <ms>', 'exit when no record arrives for this long')
    .option('--isolation-level <level>', 'read_uncommitted or read_committed', 'read_uncommitted')
    .action((o: ConsumeOptions) =>
      runClientCommand('consume', o.bootstrapServer, () => runConsume(o)),
    );
  return cmd;
}
