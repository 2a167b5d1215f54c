import { Command } from 'commander';
import { Broker } from '../broker/broker.js';
import { ConfigError, loadBrokerConfig } from '../broker/config.js';
import { DataDirLockedError } from '../broker/data-dir-lock.js';
import { createBrokerLogger, type LogFormat } from '../broker/logger.js';
import { MetaPropertiesError } from '../broker/meta-properties.js';

interface StartOptions {
  dataDir?: string;
  port?: string;
  host?: string;
  advertisedHost?: string;
  metricsPort?: string;
  logLevel?: string;
  logFormat?: string;
  config?: string;
  set: string[];
}

function fail(message: string, code = 1): never {
  process.stderr.write(`brook start: ${message}\n`);
  process.exit(code);
}

/** Runs the broker in the foreground until SIGINT/SIGTERM. */
async function runStart(opts: StartOptions): Promise<void> {
  const warnings: string[] = [];
  let config: ReturnType<typeof loadBrokerConfig>;
  const sets =
    opts.logFormat === undefined ? opts.set : [...opts.set, `logger.format=${opts.logFormat}`];
  try {
    config = loadBrokerConfig({
      file: opts.config,
      sets,
      env: process.env,
      flags: {
        dataDir: opts.dataDir,
        port: opts.port,
        host: opts.host,
        advertisedHost: opts.advertisedHost,
        metricsPort: opts.metricsPort,
        logLevel: opts.logLevel,
      },
      warn: (m) => warnings.push(m),
    });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
  const log = createBrokerLogger(
    config.string('logger.level'),
    config.string('logger.format').toLowerCase() as LogFormat,
  );
  for (const w of warnings) log.warn(w);

  // Signal handlers go in before the broker starts: a SIGTERM that arrives while it starts (or
  // right after its ready line) must still get a clean shutdown, not the default instant death.
  let broker: Broker | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let signals = 0;
  const shutdown = (b: Broker, signal: NodeJS.Signals) => {
    b.stop(`received ${signal}`).then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting without a clean shutdown');
      process.exit(130);
    }
    if (broker) shutdown(broker, signal);
    else stopRequested = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    broker = await Broker.start(config, log);
  } catch (err) {
    if (
      err instanceof DataDirLockedError ||
      err instanceof MetaPropertiesError ||
      err instanceof ConfigError
    ) {
      log.error({ err: err.message }, 'broker did not start');
      fail(err.message);
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      log.error({ err: e.message }, 'broker did not start');
      fail(`cannot listen: ${e.message}`);
    }
    // Anything else (a storage failure opening the data directory, say): say so and stop.
    log.error({ err }, 'broker did not start');
    fail(`broker did not start: ${(err as Error).message}`);
  }
  if (stopRequested) shutdown(broker, stopRequested);
}

/** The `brook start` sub-command. */
export function startCommand(): Command {
  return new Command('start')
    .description('run the broker in the foreground (Ctrl-C stops it cleanly)')
    .option('--data-dir <dir>', 'data directory (default ./brook-data; env BROOK_DATA_DIR)')
    .option('--port <n>', 'listener port, 0 for any free port (default 9092; env BROOK_PORT)')
    .option('--host <host>', 'listener host; localhost binds 127.0.0.1 and ::1 (env BROOK_HOST)')
    .option(
      '--advertised-host <host>',
      'host given to clients in Metadata (env BROOK_ADVERTISED_HOST)',
    )
    .option(
      '--metrics-port <n>',
      'port of /metrics, 0 for off (default 9404; env BROOK_METRICS_PORT)',
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error (env BROOK_LOG_LEVEL)')
    .option('--log-format <format>', 'json (default) or pretty (env BROOK_LOGGER_FORMAT)')
    .option('--config <file>', 'a Kafka-style server.properties file')
    .option(
      '--set <key=value>',
      'set one configuration key (repeatable); BROOK_<KEY> env vars work too, e.g. BROOK_LOG_RETENTION_MS',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .action(runStart);
}
