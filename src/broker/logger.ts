import { writeSync } from 'node:fs';
import { type DestinationStream, type Logger, pino } from 'pino';

/** How log lines are written: JSON lines (for machines) or one readable line each (for people). */
export type LogFormat = 'json' | 'pretty';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Renders one pino JSON line as `time LEVEL message key=value ...`. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, pid: _pid, ...rest } = entry;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const name = LEVEL_NAMES[level as number] ?? String(level);
  return `${String(time ?? '')} ${name.padEnd(5)} ${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
}

/** A synchronous destination that re-renders JSON lines readably. */
function prettyDestination(fd: number): DestinationStream {
  return {
    write(line: string) {
      writeSync(fd, prettyLine(line));
    },
  };
}

/**
 * The broker's logger on stdout, written synchronously so that nothing is lost when the process
 * exits right after a line (a broker logs little; the cost is negligible).
 */
export function createBrokerLogger(level: string, format: LogFormat = 'json', fd = 1): Logger {
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'pretty') return pino(options, prettyDestination(fd));
  return pino(options, pino.destination({ dest: fd, sync: true }));
}
