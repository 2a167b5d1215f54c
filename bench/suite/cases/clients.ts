/**
 * Clients against the same Brook broker: Brook's client, kafkajs and node-rdkafka (when it
 * builds), from bench/client.ts's runClientBench, one call per run of the suite.
 */
import type { BenchCase, CaseContext } from '../context.js';
import { importExport } from '../optional.js';

/** The signature bench/client.ts exports. */
type RunClientBench = (opts: {
  records?: number;
  rounds?: number;
  log?: (line: string) => void;
}) => Promise<
  Array<{
    client: string;
    op: 'produce' | 'consume';
    recordsPerSec: number;
    params: Record<string, unknown>;
  }>
>;

async function run(ctx: CaseContext): Promise<void> {
  const runClientBench = await importExport<RunClientBench>('client', 'runClientBench');
  if (typeof runClientBench === 'string') {
    ctx.skip('client comparison', runClientBench);
    return;
  }
  const records = ctx.sizes.clientRecords;
  const rounds = ctx.sizes.rounds;
  ctx.progress(`clients: ${records} records per client, ${rounds} round(s)`);
  // runClientBench runs the rounds itself (rotating which client goes first) and reports each.
  const rows = await runClientBench({
    records,
    rounds,
    log: (line) => ctx.progress(`clients: ${line}`),
  });
  if (rows.length === 0) ctx.skip('client comparison', 'runClientBench returned no figures');
  for (const { client, op, recordsPerSec, params } of rows) {
    const each = params.roundsRecordsPerSec;
    const runs =
      Array.isArray(each) && each.length > 0 && each.every((x) => typeof x === 'number')
        ? (each as number[])
        : [recordsPerSec];
    const size = params.valueBytes ?? params.recordSize;
    const { machine: _machine, ...rest } = params;
    ctx.figure({
      name: `${client} ${op}`,
      system: 'brook',
      unit: 'records/s',
      runs,
      recordSize: typeof size === 'number' ? size : undefined,
      params: { client, op, recordSize: size, ...rest, clientId: client },
      note: 'bench/client.ts starts its own Brook broker (TypeScript sources through tsx)',
    });
  }
}

export const clientsCase: BenchCase = {
  name: 'clients',
  title: 'Clients against the same Brook broker',
  summary: "Brook's client vs kafkajs (and node-rdkafka if it builds), bench/client.ts",
  run,
};
