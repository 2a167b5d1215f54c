/*
 * A container's metrics in Prometheus form (prom-client), labelled by job and task: messages
 * processed and their rate, input lag per partition, commit latency, restore progress, store
 * size, and counters/gauges tasks add themselves. `startMetricsServer` serves them on /metrics.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RestoreProgress } from '../stores/restore.js';

/** The metric families of one container. */
export class ContainerMetrics {
  readonly registry = new Registry();
  readonly processed: Counter<'job' | 'task'>;
  readonly processRate: Gauge<'job' | 'task'>;
  readonly inputLag: Gauge<'job' | 'task' | 'topic' | 'partition'>;
  readonly commitLatency: Histogram<'job' | 'task'>;
  readonly restoreRecords: Gauge<'job' | 'task' | 'store'>;
  readonly restoreTotal: Gauge<'job' | 'task' | 'store'>;
  readonly restoreRate: Gauge<'job' | 'task' | 'store'>;
  readonly restoreEta: Gauge<'job' | 'task' | 'store'>;
  readonly storeSize: Gauge<'job' | 'task' | 'store'>;
  readonly tasks: Gauge<'job'>;
  readonly taskCounter: Counter<'job' | 'task' | 'name'>;
  readonly taskGauge: Gauge<'job' | 'task' | 'name'>;
  readonly #job: string;

  constructor(job: string) {
    this.#job = job;
    const registers = [this.registry];
    const task = ['job', 'task'] as const;
    const store = ['job', 'task', 'store'] as const;
    this.processed = new Counter({
      name: 'brook_streams_messages_processed_total',
      help: 'Messages given to process(), per task.',
      labelNames: task,
      registers,
    });
    this.processRate = new Gauge({
      name: 'brook_streams_process_rate',
      help: 'Messages processed per second over the last commit interval, per task.',
      labelNames: task,
      registers,
    });
    this.inputLag = new Gauge({
      name: 'brook_streams_input_lag',
      help: 'High watermark minus the next offset to process, per input partition.',
      labelNames: ['job', 'task', 'topic', 'partition'],
      registers,
    });
    this.commitLatency = new Histogram({
      name: 'brook_streams_commit_latency_seconds',
      help: 'Time of a commit: store flush, changelog and output acknowledgements, offset commit.',
      labelNames: task,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.restoreRecords = new Gauge({
      name: 'brook_streams_restore_records',
      help: 'Changelog records applied by the current or last restore.',
      labelNames: store,
      registers,
    });
    this.restoreTotal = new Gauge({
      name: 'brook_streams_restore_total_records',
      help: 'Changelog records the restore has to apply (upper bound).',
      labelNames: store,
      registers,
    });
    this.restoreRate = new Gauge({
      name: 'brook_streams_restore_records_per_second',
      help: 'Restore speed.',
      labelNames: store,
      registers,
    });
    this.restoreEta = new Gauge({
      name: 'brook_streams_restore_eta_seconds',
      help: 'Estimated seconds until the restore completes (0 when done).',
      labelNames: store,
      registers,
    });
    this.storeSize = new Gauge({
      name: 'brook_streams_store_size',
      help: 'Approximate number of keys in a store, taken at each commit.',
      labelNames: store,
      registers,
    });
    this.tasks = new Gauge({
      name: 'brook_streams_tasks',
      help: 'Tasks this container runs.',
      labelNames: ['job'],
      registers,
    });
    this.taskCounter = new Counter({
      name: 'brook_streams_task_counter_total',
      help: 'Counters tasks add to through context.metrics.inc().',
      labelNames: ['job', 'task', 'name'],
      registers,
    });
    this.taskGauge = new Gauge({
      name: 'brook_streams_task_gauge',
      help: 'Gauges tasks set through context.metrics.set().',
      labelNames: ['job', 'task', 'name'],
      registers,
    });
  }

  get job(): string {
    return this.#job;
  }

  /** Records a restore progress report. */
  restore(task: string, progress: RestoreProgress): void {
    const labels = { job: this.#job, task, store: progress.store };
    this.restoreRecords.set(labels, progress.records);
    this.restoreTotal.set(labels, progress.totalRecords);
    this.restoreRate.set(labels, progress.recordsPerSecond);
    this.restoreEta.set(labels, progress.etaSeconds ?? -1);
  }
}

/** Serves the registry on `http://host:port/metrics`; resolves with the bound port. */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = '127.0.0.1',
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : port };
}
