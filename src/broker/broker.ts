import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { BrokerConfig } from './config.js';
import { LogManager } from '../storage/log-manager.js';
import { DataDirLock } from './data-dir-lock.js';
import { RequestDispatcher } from './dispatcher.js';
import { HANDLERS, HandlerRegistry } from './handlers/index.js';
import type { BrokerContext } from './handlers/types.js';
import { loadOrCreateMetaProperties } from './meta-properties.js';
import { BrokerMetrics } from './metrics.js';
import { BrokerServer } from './net/server.js';
import { AppendWatchers } from './fetch/append-watchers.js';
import { FetchSessionCache } from './fetch/fetch-sessions.js';
import { TopicRegistry } from './topics/topic-registry.js';
import { GroupCoordinator } from './groups/coordinator.js';
import { ProducerStateManager } from './producers/manager.js';

/** Where a started broker can be reached. */
export interface BrokerAddresses {
  /** Bound addresses of the Kafka listener. */
  listeners: { host: string; port: number }[];
  /** What clients are told (Metadata). */
  advertised: { host: string; port: number };
  /** Port of /metrics, or null when off. */
  metricsPort: number | null;
}

/**
 * A single-node Kafka broker: owns the data directory (lock, meta.properties), the listener,
 * the handler table and the metrics endpoint. {@link Broker.start} brings it up;
 * {@link Broker.stop} takes it down cleanly.
 */
export class Broker {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly context: BrokerContext;
  readonly addresses: BrokerAddresses;
  readonly #lock: DataDirLock;
  readonly #server: BrokerServer;
  readonly #metrics: BrokerMetrics;
  #stopping: Promise<void> | undefined;

  private constructor(
    config: BrokerConfig,
    log: Logger,
    context: BrokerContext,
    addresses: BrokerAddresses,
    lock: DataDirLock,
    server: BrokerServer,
    metrics: BrokerMetrics,
  ) {
    this.config = config;
    this.log = log;
    this.context = context;
    this.addresses = addresses;
    this.#lock = lock;
    this.#server = server;
    this.#metrics = metrics;
  }

  /** Opens the data directory, binds the listener and the metrics endpoint, and logs "ready". */
  static async start(config: BrokerConfig, log: Logger): Promise<Broker> {
    const dataDir = config.dataDir;
    mkdirSync(dataDir, { recursive: true });
    const lock = DataDirLock.acquire(dataDir, (msg, pid) =>
      log.warn({ stalePid: pid, dataDir }, msg),
    );
    let server: BrokerServer | undefined;
    let logs: LogManager | undefined;
    const metrics = new BrokerMetrics();
    try {
      const meta = loadOrCreateMetaProperties(dataDir, config.nodeId);
      logs = LogManager.open(dataDir, {
        retentionCheckIntervalMs: config.int('log.retention.check.interval.ms'),
        cleanerEnabled: config.bool('log.cleaner.enable'),
      });
      log.info(
        {
          logs: logs.logs().length,
          cleanShutdown: logs.hadCleanShutdown,
          segmentsScanned: logs.segmentsScanned,
          recoveredWithLoss: logs.recovered.length,
          ms: Math.round(logs.startupMs),
        },
        'partition logs loaded',
      );
      // What recovery cut, one line per partition: a crash's torn tail, or damage on disk.
      for (const r of logs.recovered) {
        log.warn(
          { event: 'log-recovered', ...r },
          `recovery of ${r.topic}-${r.partition} dropped ${r.truncatedBytes} bytes; log end offset now ${r.logEndOffset}${r.problem ? `: ${r.problem}` : ''}`,
        );
      }
      const topics = new TopicRegistry(dataDir, logs, config, log);
      const groups = new GroupCoordinator(topics, config, log);
      groups.start();
      const producers = new ProducerStateManager(dataDir, log);
      producers.start();
      logs.startScheduler();
      const openLogs = logs;
      metrics.watchPartitions(() => openLogs.sizes());
      const registry = new HandlerRegistry(HANDLERS);
      const listener = config.listener;
      // The advertised port depends on the bound one (port 0), so the context is completed after
      // binding; no request can arrive before listen() resolves.
      const context = {
        config,
        nodeId: config.nodeId,
        clusterId: meta.clusterId,
        advertised: { host: '', port: 0 },
        handlers: registry,
        log,
        topics,
        logs,
        appends: new AppendWatchers(),
        fetchSessions: new FetchSessionCache(
          config.int('max.incremental.fetch.session.cache.slots'),
        ),
        groups,
        producers,
      } satisfies BrokerContext;
      const dispatcher = new RequestDispatcher(registry, context, metrics);
      server = new BrokerServer(
        dispatcher,
        {
          maxRequestSize: config.int('socket.request.max.bytes'),
          maxPendingRequests: config.int('queued.max.requests'),
          idleMs: config.int('connections.max.idle.ms'),
        },
        log,
        metrics,
      );
      await server.listen(listener.host, listener.port);
      context.advertised = config.advertisedFor(server.port);
      const metricsPortConfig = config.int('metrics.port');
      const metricsPort =
        metricsPortConfig === 0
          ? null
          : await metrics.listen(config.string('metrics.host'), metricsPortConfig);
      const addresses: BrokerAddresses = {
        listeners: server.addresses,
        advertised: context.advertised,
        metricsPort,
      };
      const broker = new Broker(config, log, context, addresses, lock, server, metrics);
      log.info(
        {
          event: 'ready',
          nodeId: config.nodeId,
          clusterId: meta.clusterId,
          dataDir,
          listeners: server.addresses,
          port: server.port,
          advertised: `${context.advertised.host}:${context.advertised.port}`,
          metricsPort,
        },
        `broker ready on ${server.addresses.map((a) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)).join(', ')}`,
      );
      return broker;
    } catch (err) {
      await server?.close(0);
      await logs?.shutdown().catch(() => undefined);
      await metrics.close();
      lock.release();
      throw err;
    }
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.#server.connectionCount;
  }

  /**
   * Clean shutdown: stop accepting, let in-flight requests finish (up to shutdown.timeout.ms),
   * close storage, release the data directory. Idempotent.
   */
  stop(reason = 'stop requested'): Promise<void> {
    this.#stopping ??= (async () => {
      this.log.info({ event: 'stopping', reason }, 'broker stopping');
      const closing = this.#server.close(this.config.int('shutdown.timeout.ms'));
      // Long polls answer now with what they have, so that their connections can close.
      this.context.appends.wakeAll();
      // Waiting JoinGroup/SyncGroup calls answer now; group timers stop.
      this.context.groups.shutdown();
      await closing;
      try {
        this.context.producers.shutdown();
        await this.context.logs.shutdown();
        this.log.info({ event: 'storage-closed' }, 'partition logs flushed and closed cleanly');
      } catch (err) {
        this.log.error({ err }, 'storage did not shut down cleanly; the next start will recover');
      }
      await this.#metrics.close();
      this.#lock.release();
      this.log.info({ event: 'stopped' }, 'broker stopped');
    })();
    return this.#stopping;
  }
}
