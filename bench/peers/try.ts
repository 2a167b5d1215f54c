/**
 * Runs the peers standalone and prints their figures:
 *   tsx bench/peers/try.ts [name] [--records N] [--size B] [--fsync]
 * `name` is a peer's name or a part of it (redis, nats, rabbitmq); without one, the peers the
 * suite runs (bench/peers/index.ts `peers`; `morePeers` run only when named).
 * Each peer starts its server, produces N records of B bytes, consumes them, and stops.
 */
import { parseArgs } from 'node:util';
import { machine } from '../common.js';
import { morePeers, peers } from './index.js';
import type { PeerResult } from './types.js';

const all = [...peers, ...morePeers];
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    records: { type: 'string', default: '200000' },
    size: { type: 'string', default: '100' },
    fsync: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: tsx bench/peers/try.ts [name] [--records N] [--size B] [--fsync]');
  console.log(`peers: ${all.map((p) => p.name).join(', ')}`);
  process.exit(0);
}
const records = Number(values.records);
const recordSize = Number(values.size);
if (!Number.isInteger(records) || records < 1 || !Number.isInteger(recordSize) || recordSize < 1) {
  console.error('--records and --size take positive integers');
  process.exit(2);
}
// A name picks every peer containing it; no name runs the suite's peers.
const chosen = (positionals.length === 0 ? peers : all).filter(
  (p) => positionals.length === 0 || positionals.some((n) => p.name.includes(n)),
);
if (chosen.length === 0) {
  console.error(
    `no peer matches ${positionals.join(' ')}; peers: ${all.map((p) => p.name).join(', ')}`,
  );
  process.exit(2);
}
// Ctrl-C: exit normally so the servers' exit hooks stop them.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

function line(kind: string, r: PeerResult): string {
  return `  ${kind.padEnd(8)} ${Math.round(r.recordsPerSec).toLocaleString('en-US').padStart(11)} records/s ${r.mbPerSec.toFixed(1).padStart(7)} MB/s  (${r.records} in ${r.seconds.toFixed(2)} s)`;
}

console.log(`machine: ${machine()}`);
console.log(`workload: ${records} records of ${recordSize} B, fsync case: ${values.fsync}`);
let failures = 0;
for (const peer of chosen) {
  const note = await peer.available();
  if (note !== null) {
    console.log(`${peer.name}: not run: ${note}`);
    continue;
  }
  try {
    await peer.start({ fsync: values.fsync });
    const produced = await peer.produce({ records, recordSize });
    const consumed = await peer.consume({ records, recordSize });
    console.log(`${peer.name}: ${produced.durability}`);
    console.log(line('produce', produced));
    console.log(line('consume', consumed));
    console.log(`  produce params ${JSON.stringify(produced.params)}`);
    console.log(`  consume params ${JSON.stringify(consumed.params)}`);
  } catch (err) {
    failures++;
    console.log(`${peer.name}: FAILED: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await peer.stop();
  }
}
process.exit(failures === 0 ? 0 : 1);
