/**
 * The benchmark suite's smoke run (`npm run bench -- --quick`), as CI can afford it: checks that
 * the JSON it writes is complete and well formed (every case present with figures or an explicit
 * skip reason, the machine, the versions, every figure's parameters) and that the report and its
 * charts exist. The figures themselves are not judged: this machine is shared and noisy.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CASES } from '../../bench/suite/cases/index.js';
import { RESULT_SCHEMA, type SuiteResult } from '../../bench/suite/types.js';

const root = new URL('../../', import.meta.url).pathname;

/** Runs the suite; resolves with its exit code and output. */
function runSuite(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/run.ts'), ...args],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => {
      // SIGTERM: the suite stops its brokers and peers and removes its temp dirs before exiting.
      child.kill('SIGTERM');
      reject(
        new Error(`the quick suite did not finish in ${timeoutMs / 1000} s:\n${out.slice(-3000)}`),
      );
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('npm run bench -- --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'brook-bench-test-'));
  let result: SuiteResult;
  let files: string[];
  let log = '';
  let seconds = 0;

  before(async () => {
    const started = performance.now();
    const run = await runSuite(
      ['--quick', '--out', out, '--note', 'test/bench/quick.test.ts'],
      290000,
    );
    seconds = (performance.now() - started) / 1000;
    log = run.out;
    files = readdirSync(out);
    const json = files.find((f) => f.endsWith('.json'));
    assert.ok(json, `no JSON written (exit ${run.code}):\n${log.slice(-3000)}`);
    result = JSON.parse(readFileSync(join(out, json), 'utf8')) as SuiteResult;
  });

  after(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('names the run, the machine, the versions and the broker', () => {
    assert.equal(result.schema, RESULT_SCHEMA);
    assert.equal(result.mode, 'quick');
    assert.equal(result.note, 'test/bench/quick.test.ts');
    assert.ok(!Number.isNaN(Date.parse(result.startedAt)));
    assert.ok(Date.parse(result.finishedAt) >= Date.parse(result.startedAt));
    const m = result.machine;
    assert.ok(Number.isInteger(m.nproc) && m.nproc >= 1);
    assert.ok(m.cpuModel.length > 0);
    assert.ok(m.memoryMb > 0);
    assert.equal(m.loadAverageStart.length, 3);
    assert.equal(m.loadAverageEnd.length, 3);
    for (const key of [
      'node',
      'brook',
      'kcat',
      'librdkafka (kcat)',
      'redis-server',
      'nats-server',
      'rabbitmq-server',
    ]) {
      assert.equal(typeof result.versions[key], 'string', `version of ${key}`);
    }
    assert.ok(result.broker.runtime.length > 0);
    assert.ok(result.broker.settings.length > 0);
  });

  it('has every case, each with figures or an explicit reason', () => {
    assert.deepEqual(
      result.cases.map((c) => c.name),
      CASES.map((c) => c.name),
    );
    for (const c of result.cases) {
      const detail = `${c.name}: ${c.status} ${c.reason ?? ''}`;
      assert.notEqual(c.status, 'failed', detail);
      if (c.status === 'skipped') {
        assert.equal(c.figures.length, 0, detail);
        assert.ok((c.reason ?? '').length > 0, detail);
      } else assert.ok(c.figures.length > 0, detail);
      if (c.status === 'partial') assert.ok(c.skips.length > 0, detail);
      for (const s of c.skips) assert.ok(s.name.length > 0 && s.reason.length > 0, detail);
      assert.ok(c.seconds >= 0);
    }
    // The cases that need nothing but Brook, kcat and the machine always measure something.
    for (const name of ['limits', 'produce', 'consume', 'latency', 'scale', 'durability']) {
      const c = result.cases.find((x) => x.name === name);
      assert.ok(c && c.figures.length > 0, `${name} has figures`);
    }
  });

  it('gives every figure a median within min..max of its runs, a unit and its parameters', () => {
    for (const c of result.cases) {
      for (const f of c.figures) {
        const what = `${c.name} / ${f.name}`;
        assert.ok(f.name.length > 0 && f.unit.length > 0 && f.system.length > 0, what);
        assert.ok(f.runs.length >= 1, what);
        for (const v of [f.median, f.min, f.max, ...f.runs]) assert.ok(Number.isFinite(v), what);
        assert.equal(f.min, Math.min(...f.runs), what);
        assert.equal(f.max, Math.max(...f.runs), what);
        assert.ok(f.min <= f.median && f.median <= f.max, what);
        assert.ok(Object.keys(f.params).length > 0, `${what}: params`);
        if (f.unit === 'records/s' && f.system === 'brook' && f.params.recordSize !== undefined) {
          assert.ok(f.mbPerSec !== undefined && f.mbPerSec > 0, `${what}: MB/s`);
        }
      }
    }
  });

  it('names every parameter of the throughput figures', () => {
    const produce = result.cases.find((c) => c.name === 'produce');
    assert.ok(produce);
    for (const f of produce.figures) {
      for (const key of ['recordSize', 'records', 'partitions', 'acks', 'compression', 'client']) {
        assert.ok(f.params[key] !== undefined, `${f.name}: ${key}`);
      }
      assert.ok(f.params.batchSize !== undefined || f.params['batch.size'] !== undefined, f.name);
      assert.ok(f.params.lingerMs !== undefined || f.params['linger.ms'] !== undefined, f.name);
      assert.ok((f.durability ?? '').includes('flush'), `${f.name}: flush policy`);
      assert.ok(typeof f.brokerRssMb === 'number' && f.brokerRssMb > 0, `${f.name}: broker RSS`);
    }
    const latency = result.cases.find((c) => c.name === 'latency');
    assert.ok(latency);
    for (const rate of [1000, 10_000, 100_000]) {
      for (const p of ['p50', 'p99', 'p99.9', 'max']) {
        assert.ok(
          latency.figures.some((f) => f.params.rate === rate && f.params.percentile === p),
          `latency ${p} at ${rate}/s`,
        );
      }
    }
  });

  it('reports every goal of the issue beside the figures', () => {
    assert.equal(result.goals.length, 6);
    for (const g of result.goals) {
      assert.ok(g.goal.length > 0 && g.target.length > 0 && g.detail.length > 0);
      assert.ok(g.met === null || typeof g.met === 'boolean');
      if (g.met !== null) assert.ok(g.actual !== null);
    }
  });

  it('writes the markdown report with its SVG charts', () => {
    const md = files.find((f) => f.endsWith('.md'));
    assert.ok(md);
    const text = readFileSync(join(out, md), 'utf8');
    const charts = [...text.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1] as string);
    assert.ok(charts.length > 0, 'the report shows charts');
    for (const svg of charts) {
      assert.ok(existsSync(join(out, svg)), svg);
      assert.match(
        readFileSync(join(out, svg), 'utf8'),
        /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
      );
    }
    for (const c of result.cases) assert.ok(text.includes(`--case ${c.name}`), c.name);
  });

  it('prints a table as it goes and finishes within the quick budget', () => {
    assert.match(log, /## \[1\/\d+\] /);
    assert.match(log, /» /, 'progress lines');
    assert.match(log, /wrote .*\.json/);
    // Three minutes is the budget on an idle pair of cores; the CI machine may be busier.
    assert.ok(seconds < 290, `took ${seconds.toFixed(0)} s`);
  });
});
