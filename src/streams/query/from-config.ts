/*
 * Starts a container's query server from its job config, once per process and job:
 * `query.port` (required to serve; 0 for any port), `query.host` (default 127.0.0.1) and
 * `query.peers` (comma-separated `host:port` of the job's other containers).
 */
import type { StreamsApp } from '../dsl/app.js';
import { localTasks } from '../dsl/task-registry.js';
import { QueryServer } from './server.js';

const started = new Map<string, QueryServer>();

/** Starts the job's query server here if the config asks for one and none runs yet. */
export function startQueryServerFromConfig(
  app: StreamsApp,
  jobId: string,
  config: Readonly<Record<string, string>>,
): void {
  const port = config['query.port'];
  if (port === undefined || started.has(jobId)) return;
  const server = new QueryServer({
    stores: app.materialized,
    tasks: () => localTasks(jobId),
    peers: (config['query.peers'] ?? '').split(',').filter((p) => p !== ''),
    host: config['query.host'] ?? '127.0.0.1',
    port: Number(port),
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
