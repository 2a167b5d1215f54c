/**
 * Stream processing throughput: bench/streams.ts's runStreamsBench (stateless, stateful count,
 * windowed aggregate, stream-table join), one call per run of the suite.
 */
import { type BenchCase, type CaseContext, repeat } from '../context.js';
import { importExport } from '../optional.js';

/** The signature bench/streams.ts exports. */
type RunStreamsBench = (opts: {
  cases?: string[];
  messages?: number;
}) => Promise<Array<{ case: string; messagesPerSec: number; params: Record<string, unknown> }>>;

/** The jobs of issue 10; a full run adds bench/streams.ts's hand-made kafkajs loops beside them. */
export const STREAM_CASES = ['stateless', 'stateful', 'windowed', 'join'];
const KAFKAJS_LOOPS = ['stateless-kafkajs', 'stateful-kafkajs'];

async function run(ctx: CaseContext): Promise<void> {
  const runStreamsBench = await importExport<RunStreamsBench>('streams', 'runStreamsBench');
  if (typeof runStreamsBench === 'string') {
    ctx.skip('stream processing', runStreamsBench);
    return;
  }
  const messages = ctx.sizes.streamMessages;
  const cases = ctx.quick ? STREAM_CASES : [...STREAM_CASES, ...KAFKAJS_LOOPS];
  const rounds = await repeat(ctx, `stream jobs (${cases.join(', ')}), ${messages} messages`, () =>
    runStreamsBench({ cases, messages }),
  );
  const byCase = new Map<string, { runs: number[]; params: Record<string, unknown> }>();
  for (const results of rounds) {
    for (const r of results) {
      const entry = byCase.get(r.case) ?? { runs: [], params: r.params };
      entry.runs.push(r.messagesPerSec);
      byCase.set(r.case, entry);
    }
  }
  for (const name of cases) {
    if (!byCase.has(name))
      ctx.skip(`stream job ${name}`, 'runStreamsBench returned no figure for it');
  }
  for (const [name, { runs, params }] of byCase) {
    ctx.figure({
      name: `stream job: ${name}`,
      system: 'brook',
      unit: 'messages/s',
      runs,
      params: { messages, ...params },
      note: 'bench/streams.ts starts its own Brook broker per run (TypeScript sources through tsx)',
    });
  }
}

export const streamsCase: BenchCase = {
  name: 'streams',
  title: 'Stream processing (Brook)',
  summary: 'stateless, stateful count, windowed aggregate, stream-table join (bench/streams.ts)',
  run,
};
