/*
 * Starts a container's query server from its job config, once per process and job:
 * `query.port` (required to serve; 0 for any port), `query.host` (default 127.0.0.1) and
 * `query.peers` (comma-separated `host:port` of the job's other containers). With
 * `bootstrap.servers` (which `brook job run` sets), the server follows the job's serving alias
 * in `brook-job-aliases` and sends queries on to the version that serves now.
 */
import type { StreamsApp } from '../dsl/app.js';
import { localTasks } from '../dsl/task-registry.js';
import { ALIAS_CONFIG, planVersion, VERSION_CONFIG } from '../runtime/versioning.js';
import { AliasReader, type JobAlias } from './aliases.js';
import { QueryServer, type ServingOptions } from './server.js';

const started = new Map<string, QueryServer>();

/** How long an alias read is reused: queries do not each read the alias topic. */
const ALIAS_TTL_MS = 1000;
/** Older than this, a query waits (up to FIRST_READ_WAIT_MS) for a fresh read. */
const STALE_MS = 5000;
/** How long such a query waits for the read. */
const FIRST_READ_WAIT_MS = 2000;

/** The external output topics of `app` → as this container writes them (renamed for a version). */
function outputsOf(
  app: StreamsApp,
  config: Readonly<Record<string, string>>,
): Record<string, string> {
  const outputs: Record<string, { topic: string }> = {};
  for (const n of app.nodes) for (const o of n.outputs) outputs[o.name] = { topic: o.topic };
  const version = config[VERSION_CONFIG];
  const renamed =
    version === undefined
      ? new Map<string, string>()
      : planVersion({ id: app.options.id, outputs, config }, version).topics;
  const out: Record<string, string> = {};
  const internal = new Set(
    app.nodes.flatMap((n) => (n.input === undefined ? [] : [n.input.topic])),
  );
  for (const { topic } of Object.values(outputs)) {
    if (!internal.has(topic)) out[topic] = renamed.get(topic) ?? topic;
  }
  return out;
}

/** Alias-following for the server, when the config says which cluster to read it from. */
function servingOf(
  app: StreamsApp,
  jobId: string,
  config: Readonly<Record<string, string>>,
): ServingOptions | undefined {
  const bootstrap = config['bootstrap.servers'];
  if (bootstrap === undefined || bootstrap === '') return undefined;
  const alias = config[ALIAS_CONFIG] ?? jobId;
  const reader = new AliasReader(bootstrap);
  let readAt = 0;
  let last: JobAlias | undefined;
  let reading: Promise<void> | undefined;
  let everRead = false;
  const version = config[VERSION_CONFIG];
  return {
    alias,
    jobId,
    ...(version === undefined ? {} : { version }),
    outputs: outputsOf(app, config),
    // Queries never wait long for the alias: a value older than a second starts a read in the
    // background and the last known one answers; a query after a quiet spell (or the first)
    // waits briefly for that read, so it does not get a long-outdated answer.
    current: async () => {
      if (reading === undefined && Date.now() - readAt >= ALIAS_TTL_MS) {
        reading = reader
          .refresh()
          .then(
            (aliases) => {
              last = aliases.get(alias);
              everRead = true;
            },
            () => {
              // The broker is unreachable: keep answering with what was last known.
            },
          )
          .finally(() => {
            readAt = Date.now();
            reading = undefined;
          });
      }
      if (reading !== undefined && (!everRead || Date.now() - readAt > STALE_MS)) {
        await Promise.race([reading, new Promise((r) => setTimeout(r, FIRST_READ_WAIT_MS))]);
      }
      return last;
    },
  };
}

/** Starts the job's query server here if the config asks for one and none runs yet. */
export function startQueryServerFromConfig(
  app: StreamsApp,
  jobId: string,
  config: Readonly<Record<string, string>>,
): void {
  const port = config['query.port'];
  if (port === undefined || started.has(jobId)) return;
  const serving = servingOf(app, jobId, config);
  const server = new QueryServer({
    stores: app.materialized,
    tasks: () => localTasks(jobId),
    peers: (config['query.peers'] ?? '').split(',').filter((p) => p !== ''),
    host: config['query.host'] ?? '127.0.0.1',
    port: Number(port),
    ...(serving === undefined ? {} : { serving }),
  });
  started.set(jobId, server);
  server.start().then(
    (address) => {
      server.unref();
      process.stdout.write(
        `${JSON.stringify({ event: 'query-server-started', job: jobId, address })}\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`query server of ${jobId}: ${(error as Error).message}\n`);
    },
  );
}
