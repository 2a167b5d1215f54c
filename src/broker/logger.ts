import { type Logger, pino } from 'pino';

/**
 * The broker's logger: JSON lines on stdout, written synchronously so that nothing is lost when
 * the process exits right after a line (a broker logs little; the cost is negligible).
 */
export function createBrokerLogger(level: string, destination: number | string = 1): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: destination, sync: true }),
  );
}
