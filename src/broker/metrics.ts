import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ServerObserver } from './net/server.js';

/**
 * brook_requests_total, with the child counter of each (api, error code) kept: prom-client would
 * otherwise build and hash a label key on every request. Both label sets are small and bounded
 * (the handler table, Kafka's error codes).
 */
class RequestCounter {
  readonly #counter: Counter<'api' | 'error_code'>;
  readonly #children = new Map<string, Map<number, Counter.Internal>>();

  constructor(counter: Counter<'api' | 'error_code'>) {
    this.#counter = counter;
  }

  /** Counts one request of `api` answered with `error_code`. */
  inc(labels: { api: string; error_code: number }): void {
    let byCode = this.#children.get(labels.api);
    if (byCode === undefined) this.#children.set(labels.api, (byCode = new Map()));
    let child = byCode.get(labels.error_code);
    if (child === undefined) {
      child = this.#counter.labels(labels.api, String(labels.error_code));
      byCode.set(labels.error_code, child);
    }
    child.inc();
  }
}

/** brook_request_duration_seconds, with the child histogram of each API kept (see above). */
class RequestHistogram {
  readonly #histogram: Histogram<'api'>;
  readonly #children = new Map<string, Histogram.Internal<'api'>>();

  constructor(histogram: Histogram<'api'>) {
    this.#histogram = histogram;
  }

  /** Records one request of `api` that took `seconds`. */
  observe(labels: { api: string }, seconds: number): void {
    let child = this.#children.get(labels.api);
    if (child === undefined) {
      child = this.#histogram.labels(labels.api);
      this.#children.set(labels.api, child);
    }
    child.observe(seconds);
  }
}

/**
 * The broker's Prometheus metrics, in a registry of its own (so that several brokers in one
 * process, as in tests, do not share counters).
 */
export class BrokerMetrics implements ServerObserver {
  readonly registry = new Registry();
  readonly requests = new RequestCounter(
    new Counter({
      name: 'brook_requests_total',
      help: 'Requests handled, by API and error code (0: none).',
      labelNames: ['api', 'error_code'] as const,
      registers: [this.registry],
    }),
  );
  readonly requestSeconds = new RequestHistogram(
    new Histogram({
      name: 'brook_request_duration_seconds',
      help: 'Time from a request being read to its response being ready, by API.',
      labelNames: ['api'] as const,
      buckets: [
        0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
      ],
      registers: [this.registry],
    }),
  );
  readonly closedForProtocolError = new Counter({
    name: 'brook_connections_closed_for_protocol_error_total',
    help: 'Connections closed because of a malformed, oversized or unsupported request.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #bytesIn = new Counter({
    name: 'brook_network_received_bytes_total',
    help: 'Bytes received from clients.',
    registers: [this.registry],
  });
  readonly #bytesOut = new Counter({
    name: 'brook_network_sent_bytes_total',
    help: 'Bytes sent to clients.',
    registers: [this.registry],
  });
  readonly #connections = new Gauge({
    name: 'brook_connections',
    help: 'Open client connections.',
    registers: [this.registry],
  });
  readonly #connectionsOpened = new Counter({
    name: 'brook_connections_opened_total',
    help: 'Client connections accepted.',
    registers: [this.registry],
  });
  #http: Server | undefined;
  #partitions:
    | (() => { topic: string; partition: number; size: number; logEndOffset: number }[])
    | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'brook_' });
  }

  /** Reports partition sizes and log end offsets from `source` at each scrape. */
  watchPartitions(
    source: () => { topic: string; partition: number; size: number; logEndOffset: number }[],
  ): void {
    this.#partitions = source;
    const partitions = () => this.#partitions?.() ?? [];
    new Gauge({
      name: 'brook_partition_size_bytes',
      help: 'Bytes on disk of each partition log.',
      labelNames: ['topic', 'partition'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of partitions()) this.set({ topic: p.topic, partition: p.partition }, p.size);
      },
    });
    new Gauge({
      name: 'brook_partition_log_end_offset',
      help: 'Log end offset of each partition.',
      labelNames: ['topic', 'partition'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of partitions())
          this.set({ topic: p.topic, partition: p.partition }, p.logEndOffset);
      },
    });
  }

  bytesIn(n: number): void {
    this.#bytesIn.inc(n);
  }

  bytesOut(n: number): void {
    if (n > 0) this.#bytesOut.inc(n);
  }

  connectionOpened(): void {
    this.#connections.inc();
    this.#connectionsOpened.inc();
  }

  connectionClosed(): void {
    this.#connections.dec();
  }

  /** Serves GET /metrics on `host:port`; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) =>
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
    });
    this.#http = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        const a = server.address();
        resolve(a && typeof a === 'object' ? a.port : port);
      });
    });
  }

  /** Stops the HTTP endpoint. */
  async close(): Promise<void> {
    const s = this.#http;
    this.#http = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}
