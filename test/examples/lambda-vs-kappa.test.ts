/**
 * The Lambda vs Kappa comparison (examples/lambda-vs-kappa/run.ts) on a broker of its own: the
 * batch view equals a plain count of the views it saw, Lambda's batch + speed views merged at
 * query time equal the Kappa job's view and the count of every view, and the records each way
 * read are what its runs had to read.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  compareLambdaKappa,
  formatComparison,
  stopComparison,
} from '../../examples/lambda-vs-kappa/run.js';
import type { BrokerProcess } from '../broker/helpers/broker-process.js';
import { startStreamsBroker, tempFolder } from '../streams/runtime-helpers.js';

let broker: BrokerProcess | undefined;
const folder = tempFolder('brook-lambda-kappa-');

after(async () => {
  await stopComparison();
  await broker?.cleanup();
  folder.remove();
});

test('Lambda (batch + speed merged at query time) and Kappa give the same page counts', async () => {
  let bootstrap: string;
  ({ broker, bootstrap } = await startStreamsBroker());
  const views = 600;
  const first = 360; // batchShare 0.6
  const result = await compareLambdaKappa({
    bootstrapServers: bootstrap,
    stateDir: folder.path,
    views,
    batchShare: 0.6,
    seed: 5,
  });
  const table = formatComparison(result);
  const [batch, lambda, kappa] = result.ways;
  assert.equal(batch?.name, 'batch');
  assert.ok(batch.correct, table);
  assert.ok(lambda?.correct, table);
  assert.ok(kappa?.correct, table);
  assert.ok(result.lambdaEqualsKappa, table);
  // The batch view is stale: it lacks what arrived after its run.
  assert.ok(
    batch.view.size < kappa.view.size || [...batch.view.values()].reduce((a, b) => a + b) < views,
  );
  // Each view counts every view it covers once.
  const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  assert.equal(sum(batch.view), first);
  assert.equal(sum(kappa.view), views);
  // Records read: every view once from the input and once from the repartition topic.
  assert.equal(batch.recordsRead, 2 * first);
  assert.equal(lambda.recordsRead, 2 * views);
  assert.equal(kappa.recordsRead, 2 * views);
});
