/*
 * `brook job describe job.ts`: the job's DAG in words. For a job compiled from the high-level
 * API, the operators as a tree with the topics and stores each uses; for any job, its inputs,
 * outputs, stores with their changelogs, and how tasks are formed. With a broker at hand, the
 * co-partitioning the joins need is checked against the topics' partition counts.
 */
import type { Admin } from '../../client/index.js';
import { CopartitioningError, notCopartitionedMessage } from '../errors.js';
import type { AnyJob, StoreSpec } from '../job.js';
import { changelogTopic } from '../stores/changelog.js';
import type { StreamsApp } from './app.js';
import type { OpNode } from './graph.js';

/** Where a compiled job carries its graph's description (a registered symbol: survives module copies). */
export const DESCRIPTION = Symbol.for('brook.streams.dsl.description');

/** One operator, as plain data. */
export interface OperatorDescription {
  readonly name: string;
  readonly kind: string;
  readonly reads?: string;
  readonly writes: string[];
  readonly stores: { name: string; role: string }[];
  readonly children: string[];
  readonly late: string[];
}

/** A high-level job's graph, as plain data. */
export interface GraphDescription {
  readonly operators: OperatorDescription[];
  /** Pairs of input topics a join needs co-partitioned. */
  readonly copartitioned: { operator: string; topics: [string, string] }[];
}

/** The plain description of an app's graph. */
export function describeGraph(app: StreamsApp): GraphDescription {
  const operators = app.nodes.map((n) => ({
    name: n.name,
    kind: n.kind,
    reads: n.input?.topic,
    writes: n.outputs.map((o) => o.topic),
    stores: n.stores.map((s) => ({ name: s.name, role: s.role })),
    children: n.children.map((c) => c.name),
    late: n.lateChildren.map((c) => c.name),
  }));
  const copartitioned = app.copartitions.map((c) => ({
    operator: c.operator,
    topics: [sourceTopic(app, c.a), sourceTopic(app, c.b)] as [string, string],
  }));
  return { operators, copartitioned };
}

/** The input topic a node's records come from (the first source above it). */
export function sourceTopic(app: StreamsApp, n: OpNode): string {
  const seen = new Set<OpNode>();
  const walk = (x: OpNode): string | undefined => {
    if (x.input !== undefined) return x.input.topic;
    if (seen.has(x)) return undefined;
    seen.add(x);
    for (const parent of app.nodes) {
      if (parent.children.includes(x) || parent.lateChildren.includes(x)) {
        const t = walk(parent);
        if (t !== undefined) return t;
      }
    }
    return undefined;
  };
  return walk(n) ?? '?';
}

/** Partition counts that break a join's co-partitioning, as messages saying the fix. */
export function copartitioningErrors(
  graph: GraphDescription,
  partitions: ReadonlyMap<string, number>,
): string[] {
  const out: string[] = [];
  for (const c of graph.copartitioned) {
    const [a, b] = c.topics;
    const pa = partitions.get(a);
    const pb = partitions.get(b);
    if (pa !== undefined && pb !== undefined && pa !== pb) {
      out.push(notCopartitionedMessage(c.operator, a, pa, b, pb));
    }
  }
  return out;
}

/** Checks a job's joins against the broker's partition counts; throws with the fix if broken. */
export async function checkCopartitioning(job: AnyJob, admin: Admin): Promise<void> {
  const graph = (job as { [DESCRIPTION]?: GraphDescription })[DESCRIPTION];
  if (graph === undefined) return;
  const topics = [...new Set(graph.copartitioned.flatMap((c) => c.topics))];
  const partitions = new Map<string, number>();
  for (const info of topics.length === 0 ? [] : await admin.describeTopics(topics)) {
    partitions.set(info.name, info.partitions.length);
  }
  const errors = copartitioningErrors(graph, partitions);
  if (errors.length > 0) throw new CopartitioningError(errors.join('\n'));
}

export { CopartitioningError };

/** The text `brook job describe` prints. */
export function describeJob(job: AnyJob, partitions?: ReadonlyMap<string, number>): string {
  const lines: string[] = [];
  const graph = (job as { [DESCRIPTION]?: GraphDescription })[DESCRIPTION];
  lines.push(`job ${job.id}${graph === undefined ? '' : ' (high-level API)'}`);
  const inputs = Object.entries(job.inputs).map(([name, s]) => [
    name,
    (s as { topic: string }).topic,
  ]);
  const counts = inputs.map(([, t]) => partitions?.get(t!)).filter((n) => n !== undefined);
  lines.push(
    counts.length > 0
      ? `tasks: ${Math.max(...counts)} (Partition 0..${Math.max(...counts) - 1}), one per input partition`
      : 'tasks: one per input partition (the largest partition count among the inputs)',
  );
  lines.push('inputs:');
  for (const [name, topic] of inputs) {
    const n = partitions?.get(topic!);
    lines.push(`  ${name}  ${topic}${n === undefined ? '' : `  (${n} partitions)`}`);
  }
  lines.push('outputs:');
  for (const [name, s] of Object.entries(job.outputs)) {
    const spec = s as { topic: string; partitions?: number | 'tasks' };
    const created =
      spec.partitions === undefined ? '' : '  (created by the job, one partition per task)';
    lines.push(`  ${name}  ${spec.topic}${created}`);
  }
  lines.push('stores:');
  const roles = new Map(
    graph?.operators.flatMap((o) => o.stores.map((s) => [s.name, s.role])) ?? [],
  );
  for (const [name, s] of Object.entries(
    job.stores as Record<string, StoreSpec<unknown, unknown>>,
  )) {
    const changelog =
      s.sourceTopic !== undefined
        ? `changelog ${s.sourceTopic} (its source topic, no copy)`
        : s.changelog === false
          ? 'no changelog'
          : `changelog ${changelogTopic(job.id, name)}`;
    const role =
      roles.get(name) ??
      (name === 'watermarks' && graph ? 'event-time watermarks per input partition' : '');
    lines.push(
      `  ${name}  ${s.engine ?? 'persistent'}, ${changelog}${role === '' ? '' : `  — ${role}`}`,
    );
  }
  if (graph !== undefined) {
    lines.push('operators (every task runs all of them on its partitions):');
    const byName = new Map(graph.operators.map((o) => [o.name, o]));
    const printed = new Set<string>();
    const print = (o: OperatorDescription, depth: number, prefix: string): void => {
      const uses = [
        o.reads === undefined ? '' : `reads ${o.reads}`,
        o.writes.length === 0 ? '' : `writes ${o.writes.join(', ')}`,
        o.stores.length === 0 ? '' : `store ${o.stores.map((s) => s.name).join(', ')}`,
      ].filter((x) => x !== '');
      const again = printed.has(o.name);
      lines.push(
        `${'  '.repeat(depth + 1)}${prefix}${o.name} [${o.kind}]${uses.length ? `  ${uses.join('; ')}` : ''}${again ? '  (see above)' : ''}`,
      );
      if (again) return;
      printed.add(o.name);
      for (const c of o.children) print(byName.get(c)!, depth + 1, '');
      for (const c of o.late) print(byName.get(c)!, depth + 1, 'late → ');
    };
    for (const o of graph.operators) if (o.kind === 'source') print(o, 0, '');
    if (graph.copartitioned.length > 0) {
      lines.push('co-partitioned inputs (same partition count and key partitioning):');
      for (const c of graph.copartitioned) lines.push(`  ${c.operator}: ${c.topics.join(' and ')}`);
    }
    if (partitions !== undefined) {
      for (const e of copartitioningErrors(graph, partitions)) lines.push(`error: ${e}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
