/**
 * The goals of issue 10, judged on the figures of one run (never across runs). A goal whose
 * figures were not measured in this run is reported with met: null and says which are missing.
 */
import type { CaseResult, Figure, GoalResult } from './types.js';

/** Figures of `caseName` whose params include every entry of `where`. */
function find(
  cases: readonly CaseResult[],
  caseName: string,
  where: Record<string, unknown>,
): Figure[] {
  const c = cases.find((x) => x.name === caseName);
  if (!c) return [];
  return c.figures.filter((f) => Object.entries(where).every(([k, v]) => f.params[k] === v));
}

function best(figures: Figure[]): Figure | undefined {
  return figures.reduce<Figure | undefined>(
    (b, f) => (b === undefined || f.median > b.median ? f : b),
    undefined,
  );
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const ms = (x: number): string => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;

function missing(goal: string, target: string, what: string): GoalResult {
  return { goal, target, actual: null, met: null, detail: `not measured in this run: ${what}` };
}

/** Every goal of issue 10 against `cases`. */
export function judgeGoals(cases: readonly CaseResult[]): GoalResult[] {
  const goals: GoalResult[] = [];
  const shape = { recordSize: 100, partitions: 6, acks: 1, compression: 'none' };
  const produce = best(find(cases, 'produce', shape));
  {
    const goal = 'Produce, 100 B records, acks=1, 6 partitions';
    const target = '>= 1,000,000 records/s (Kafka 2014: 821,557/s)';
    goals.push(
      produce
        ? {
            goal,
            target,
            actual: `${n(produce.median)} records/s`,
            met: produce.median >= 1_000_000,
            detail: `best client: ${produce.name}`,
          }
        : missing(goal, target, 'the produce case'),
    );
  }
  {
    const goal = 'Produce vs Redis Streams pipelined XADD, 100 B';
    const target = '>= 2x';
    // The fastest Redis client measured (redis-benchmark's C pipeline when its peer ran).
    const redis = best(
      find(cases, 'peers', { recordSize: 100, op: 'produce' }).filter((f) =>
        f.system.startsWith('redis-streams'),
      ),
    );
    goals.push(
      produce && redis
        ? {
            goal,
            target,
            actual: `${(produce.median / redis.median).toFixed(2)}x`,
            met: produce.median >= 2 * redis.median,
            detail: `${n(produce.median)} (${produce.name}) vs ${n(redis.median)} records/s (${redis.name}, ${String(redis.params.client ?? '')}, ${redis.durability ?? ''})`,
          }
        : missing(goal, target, produce ? 'redis-streams in the peers case' : 'the produce case'),
    );
  }
  {
    const goal = 'Consume, 100 B records, 6 partitions';
    const target = '>= 2,000,000 records/s (Kafka 2014: 940,521/s)';
    const consume = best(
      find(cases, 'consume', { recordSize: 100, partitions: 6, compression: 'none' }),
    );
    goals.push(
      consume
        ? {
            goal,
            target,
            actual: `${n(consume.median)} records/s`,
            met: consume.median >= 2_000_000,
            detail: `best client: ${consume.name}`,
          }
        : missing(goal, target, 'the consume case'),
    );
  }
  {
    const goal = 'End-to-end latency at 10,000 records/s';
    const target = 'p99 <= 3 ms and p99.9 <= 10 ms (Kafka 2014: 3 ms / 14 ms)';
    const p99 = find(cases, 'latency', { rate: 10_000, percentile: 'p99' })[0];
    const p999 = find(cases, 'latency', { rate: 10_000, percentile: 'p99.9' })[0];
    goals.push(
      p99 && p999
        ? {
            goal,
            target,
            actual: `p99 ${ms(p99.median)}, p99.9 ${ms(p999.median)}`,
            met: p99.median <= 3 && p999.median <= 10,
            detail: 'medians of the runs; coordinated-omission safe',
          }
        : missing(goal, target, 'the latency case at 10,000 records/s'),
    );
  }
  {
    const goal =
      "Brook vs librdkafka's mock cluster, same kcat produce load (100 B, 6 partitions, acks=1)";
    const target = '>= 80%';
    const brook = find(cases, 'produce', { ...shape, clientId: 'kcat' })[0];
    const mock = find(cases, 'kafka-mock', {
      recordSize: 100,
      partitions: 6,
      clientId: 'kcat',
    }).find((f) => f.params.op === undefined && String(f.params.client).startsWith('kcat -P'));
    goals.push(
      brook && mock
        ? {
            goal,
            target,
            actual: `${((100 * brook.median) / mock.median).toFixed(0)}%`,
            met: brook.median >= 0.8 * mock.median,
            detail: `${n(brook.median)} vs ${n(mock.median)} records/s`,
          }
        : missing(goal, target, brook ? 'the kafka-mock case' : 'kcat in the produce case'),
    );
  }
  {
    const goal = 'Broker resident memory while serving 100 MB/s';
    const target = '<= 150 MB';
    const sampled = (cases.find((c) => c.name === 'produce')?.figures ?? []).filter(
      (f) => f.brokerRssMb !== undefined && f.mbPerSec !== undefined,
    );
    const loaded = sampled.filter((f) => (f.mbPerSec as number) >= 100);
    if (sampled.length === 0) goals.push(missing(goal, target, 'the produce case'));
    else if (loaded.length > 0) {
      const peak = Math.max(...loaded.map((f) => f.brokerRssMb as number));
      goals.push({
        goal,
        target,
        actual: `${peak.toFixed(0)} MB`,
        met: peak <= 150,
        detail: `peak VmRSS over the ${loaded.length} produce figure(s) at >= 100 MB/s`,
      });
    } else {
      const fastest = sampled.reduce((b, f) =>
        (f.mbPerSec as number) > (b.mbPerSec as number) ? f : b,
      );
      const peak = Math.max(...sampled.map((f) => f.brokerRssMb as number));
      goals.push({
        goal,
        target,
        actual: `${peak.toFixed(0)} MB`,
        met: null,
        detail: `no produce figure reached 100 MB/s here (fastest ${(fastest.mbPerSec as number).toFixed(0)} MB/s: ${fastest.name}); peak VmRSS over all produce runs`,
      });
    }
  }
  return goals;
}
