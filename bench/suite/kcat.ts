/**
 * kcat (librdkafka) as a load generator: it reads records from a file (`kcat -P -l`), so the C
 * client is never the bottleneck and the broker is, and reads them back to the end (`kcat -C -e`).
 * The same load runs against Brook and against librdkafka's mock cluster.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kcatInstalled } from '../../test/broker/helpers/kcat.js';

export { kcatInstalled };

/** Producer settings for kcat, librdkafka's names. */
export interface KcatProduceOptions {
  readonly acks: 1 | 'all';
  readonly compression: 'none' | 'lz4';
  readonly lingerMs: number;
  readonly batchSize: number;
}

/** The parameters of a kcat figure, as the results record them. */
export function kcatParams(o: KcatProduceOptions): Record<string, unknown> {
  return {
    client: 'kcat -P -l (librdkafka)',
    acks: o.acks,
    compression: o.compression,
    'linger.ms': o.lingerMs,
    'batch.size': o.batchSize,
    'enable.idempotence': false,
    partitioner: 'librdkafka default (consistent_random: keyless records spread at random)',
  };
}

/**
 * Writes `records` lines of `recordSize` bytes (newline excluded) to a file in `dir`: kcat -l
 * sends each line as one record of exactly `recordSize` bytes.
 */
export function recordFile(dir: string, records: number, recordSize: number): string {
  const file = join(dir, `records-${recordSize}-${records}.txt`);
  const line = `${'x'.repeat(recordSize)}\n`;
  const chunk = line.repeat(Math.min(records, 1000));
  const parts: string[] = [];
  for (let n = 0; n < records; n += 1000) {
    parts.push(n + 1000 <= records ? chunk : line.repeat(records - n));
  }
  writeFileSync(file, parts.join(''));
  return file;
}

/** Runs kcat; resolves with its stdout byte count, rejects with its stderr on failure. */
function kcat(args: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.length;
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 4000) err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`kcat ${args.join(' ')} exited ${code ?? signal}: ${err.trim()}`));
    });
  });
}

/** Seconds for `kcat -P -l file` to deliver every record (process start-up included). */
export async function kcatProduce(
  bootstrap: string,
  topic: string,
  file: string,
  o: KcatProduceOptions,
): Promise<number> {
  const started = performance.now();
  await kcat(
    [
      '-b',
      bootstrap,
      '-P',
      '-t',
      topic,
      '-X',
      `acks=${o.acks === 'all' ? 'all' : '1'}`,
      '-X',
      `linger.ms=${o.lingerMs}`,
      '-X',
      `batch.size=${o.batchSize}`,
      '-X',
      'enable.idempotence=false',
      '-z',
      o.compression,
      '-l',
      file,
    ],
    300000,
  );
  return (performance.now() - started) / 1000;
}

/**
 * Seconds for `kcat -C -o beginning -e` to read a topic to its end (start-up included); checks
 * that it printed one byte per record, `expected` in all.
 */
export async function kcatConsume(
  bootstrap: string,
  topic: string,
  expected: number,
): Promise<number> {
  const { seconds, records } = await kcatConsumeAll(bootstrap, topic);
  if (records !== expected) {
    throw new Error(`kcat read ${records} records of ${topic}, expected ${expected}`);
  }
  return seconds;
}

/** Reads a topic from the beginning to its end with kcat: seconds and records read. */
export async function kcatConsumeAll(
  bootstrap: string,
  topic: string,
): Promise<{ seconds: number; records: number }> {
  const started = performance.now();
  const n = await kcat(
    ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '.'],
    300000,
  );
  return { seconds: (performance.now() - started) / 1000, records: n };
}
