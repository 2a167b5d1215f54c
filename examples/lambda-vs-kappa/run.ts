/**
 * Lambda vs Kappa, side by side: example 1's per-page minute counts (the activity-tracking job)
 * computed three ways over the same page-view log, with what each costs.
 *
 * 1. **Batch** (Lambda's batch layer): `brook job run … --version batch --until-end` over the
 *    log as it is when the run starts (the first part of the views); it exits when done. Its
 *    view is complete up to those end offsets and stale after them.
 * 2. **Lambda**: the batch view plus a **speed** job (`--version speed`, a streaming run whose
 *    group starts at the batch run's end offsets) over the views that arrive afterwards, the two
 *    merged at query time (counts add up per page and window: `mergeViews`).
 * 3. **Kappa**: one streaming job (`--version kappa`) from the earliest offsets over everything.
 *
 * All three are the same job module; `--version` gives each its own group, changelogs,
 * repartition topic and outputs (`page-view-counts-batch`, `-speed`, `-kappa`). The result
 * compares each view with a count made here without the streams API, and reports per way the
 * code paths, runs, wall time and records read (input plus repartition records, from the
 * groups' committed offsets).
 *
 *   node --import tsx examples/lambda-vs-kappa/run.ts [--views 2000] [--batch-share 0.7]
 *
 * starts its own broker in a temporary folder, runs the comparison, prints it and cleans up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Admin } from '../../src/client/index.js';
import { brook, children, onSignal, stop } from './children.js';
import { compareLambdaKappa, formatComparison } from './compare.js';

export { stopComparison } from './children.js';
export {
  type Comparison,
  type ComparisonOptions,
  compareLambdaKappa,
  countViews,
  formatComparison,
  mergeViews,
  type Way,
} from './compare.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** One command: a broker of its own, the comparison, the table. */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const folder = mkdtempSync(join(tmpdir(), 'brook-lambda-kappa-'));
  const port = await freePort();
  const bootstrap = `127.0.0.1:${port}`;
  process.stdout.write(`starting a broker on ${bootstrap} (data in ${folder})\n`);
  const broker = brook([
    'start',
    '--data-dir',
    join(folder, 'data'),
    '--port',
    String(port),
    '--log-level',
    'warn',
    '--set',
    'group.initial.rebalance.delay.ms=0',
  ]);
  try {
    for (let ready = false; !ready; ) {
      if (broker.proc.exitCode !== null) throw new Error(`the broker exited: ${broker.err()}`);
      const admin = new Admin({ bootstrapServers: bootstrap });
      ready = await admin.listTopics().then(
        () => true,
        () => false,
      );
      await admin.close().catch(() => {});
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    const views = arg('--views');
    const share = arg('--batch-share');
    const result = await compareLambdaKappa({
      bootstrapServers: bootstrap,
      stateDir: join(folder, 'state'),
      ...(views === undefined ? {} : { views: Number(views) }),
      ...(share === undefined ? {} : { batchShare: Number(share) }),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`\n${formatComparison(result)}\n`);
    if (!result.lambdaEqualsKappa || result.ways.some((w) => !w.correct)) process.exitCode = 1;
  } finally {
    // Jobs before the broker they commit to.
    await Promise.all([...children].filter((c) => c !== broker).map((c) => stop(c)));
    await stop(broker);
    rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await main(process.argv.slice(2));
}
