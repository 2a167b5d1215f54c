/**
 * Shared pieces of the client sub-commands (topics, produce, consume, groups): Kafka's console
 * tool options, error messages that name the cause and the fix, and output for humans or JSON.
 */
import type { Command } from 'commander';
import { ConnectionError, KafkaError, TimeoutError } from '../client/index.js';

/** Options every client command takes. */
export interface CommonOptions {
  bootstrapServer: string;
  json?: boolean;
  commandConfig?: string;
}

/** Adds --bootstrap-server and --json. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option(
      '--bootstrap-server <host:port>',
      'broker(s) to connect to, comma-separated',
      process.env.BROOK_BOOTSTRAP_SERVER ?? 'localhost:9092',
    )
    .option('--json', 'print JSON (one object per line) for scripts instead of text for humans');
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses `k=v` pairs (--config, --property). */
export function parsePairs(pairs: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const at = p.indexOf('=');
    if (at <= 0) throw new UsageError(`${what} "${p}": expected key=value`);
    out[p.slice(0, at)] = p.slice(at + 1);
  }
  return out;
}

/** Parses a non-negative integer option. */
export function parseCount(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${what} must be a whole number, not "${value}"`);
  return n;
}

/** A mistake in the command line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Text for an error: cause, then what to do. */
export function describeError(err: unknown, bootstrap: string): string {
  if (err instanceof ConnectionError) return err.message;
  if (err instanceof TimeoutError) return `${err.message} (broker ${bootstrap})`;
  if (err instanceof KafkaError) {
    const hints: Record<string, string> = {
      UNKNOWN_TOPIC_OR_PARTITION: 'check the name with `brook topics list`',
      TOPIC_ALREADY_EXISTS: 'pick another name, or pass --if-not-exists',
      GROUP_ID_NOT_FOUND: 'check the name with `brook groups list`',
      NON_EMPTY_GROUP: 'stop the group\u2019s consumers first',
      UNSUPPORTED_VERSION: 'the broker does not serve this API',
      INVALID_PARTITIONS: 'the partition count must be positive (and can only grow)',
      INVALID_REPLICATION_FACTOR: 'the replication factor cannot exceed the number of brokers',
    };
    const hint = hints[err.name];
    return `${err.name}: ${err.message}${hint ? ` — ${hint}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Runs a command body; prints errors as `brook <name>: …` and sets the exit code. */
export async function runClientCommand(
  name: string,
  bootstrap: string,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (err) {
    process.stderr.write(`brook ${name}: ${describeError(err, bootstrap)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}

/** Prints rows as aligned columns (the first row is the header). */
export function printTable(rows: Array<Array<string | number | null>>): void {
  const text = rows.map((r) => r.map((c) => (c === null ? '-' : String(c))));
  const widths: number[] = [];
  for (const r of text) {
    for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i] ?? 0, r[i].length);
  }
  for (const r of text) {
    process.stdout.write(
      `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}\n`,
    );
  }
}

/** Writes one JSON line. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
