/**
 * Protocol micro-benchmarks: record batch encode/decode, CRC-32C, compression codecs.
 * Run with `npm run bench:protocol` (add `-- --seconds 2` to measure longer per case).
 * Records are 100-byte values with no key and no headers (Kafka's benchmark records), in batches
 * of ~16 KiB; every figure is the median of several short rounds on one core. Each part runs
 * in its own process, so that the JIT's view of one record shape does not slow another.
 */
import { spawnSync } from 'node:child_process';
import { codecs } from '../src/protocol/compression/index.js';
import { crc32c } from '../src/protocol/crc32c.js';
import {
  CompressionType,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
  RecordCursor,
} from '../src/protocol/record-batch/index.js';
import { machine } from './common.js';

const args = process.argv.slice(2);
const secondsArg = args.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 0.6;
const onlyArg = args.indexOf('--only');
const ONLY = onlyArg >= 0 ? args[onlyArg + 1] : undefined;
const PARTS = ['plain', 'keyed', 'crc', 'codecs', 'batches'] as const;
const ROUNDS = 5;
const RECORD_SIZE = 100;
const BATCH_BYTES = 16 * 1024;

/** Best round of the last `measure` (on a shared machine, the closest to the code's own speed). */
let lastBest = 0;

/** Runs `fn` repeatedly for SECONDS per round; returns the median operations per second. */
function measure(fn: () => number): number {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let units = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round((SECONDS / ROUNDS) * 1e9));
    let now = start;
    do {
      for (let i = 0; i < 20; i++) units += fn();
      now = process.hrtime.bigint();
    } while (now < deadline);
    rates.push(units / (Number(now - start) / 1e9));
  }
  rates.sort((a, b) => a - b);
  lastBest = rates[rates.length - 1];
  return rates[Math.floor(rates.length / 2)];
}

const fmt = (n: number, digits = 1) =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(digits)} M`
    : n >= 1e3
      ? `${(n / 1e3).toFixed(digits)} k`
      : n.toFixed(digits);

// Records: 100-byte values, a little text so that codecs have something realistic to chew on.
// `keyed` adds a 16-byte key and two headers (16 + 8 bytes) per record.
function makeRecords(n: number, keyed = false): RecordInput[] {
  const now = Date.now();
  const out: RecordInput[] = [];
  for (let i = 0; i < n; i++) {
    const text = `{"id":${i},"user":"user-${i % 977}","event":"page_view","path":"/item/${(i * 7919) % 100000}"}`;
    const value = Buffer.alloc(RECORD_SIZE, 32);
    value.write(text.slice(0, RECORD_SIZE));
    out.push(
      keyed
        ? {
            key: Buffer.from(`user-${String(i % 977).padStart(11, '0')}`),
            value,
            timestamp: now + i,
            headers: [
              { key: 'trace-id', value: Buffer.alloc(16, i) },
              { key: 'source', value: Buffer.from('web-0001') },
            ],
          }
        : { key: null, value, timestamp: now + i },
    );
  }
  return out;
}

/** As many records as fit in 16 KiB, like a producer with batch.size=16384. */
function fill(keyed: boolean): RecordInput[] {
  let n = 1;
  while (encodeRecordBatch({ records: makeRecords(n + 1, keyed) }).length <= BATCH_BYTES) n++;
  return makeRecords(n, keyed);
}

const records = fill(false);
const recordsPerBatch = records.length;
const batch = encodeRecordBatch({ records });
const keyedRecords = fill(true);
const keyedBatch = encodeRecordBatch({ records: keyedRecords });

if (ONLY === undefined) {
  console.log(`machine: ${machine()}`);
  console.log(
    `params: ${RECORD_SIZE}-byte values, null keys, no headers: ${recordsPerBatch} records per batch (${batch.length} bytes); ` +
      `keyed: + 16-byte key and 2 headers: ${keyedRecords.length} records per batch (${keyedBatch.length} bytes); ` +
      `${ROUNDS} rounds x ${(SECONDS / ROUNDS).toFixed(2)} s, median`,
  );
  console.log(
    'note: the machine is shared with other work; figures are noisy and indicative only\n',
  );
}

/**
 * One line per case: median records/s and MB/s over the rounds, and the best round's records/s
 * (on a shared machine the best round is the closest to what the code does on an idle core).
 * `batchesPerSec` is the median that `measure` returned for batches of `records` and `bytes`.
 */
function row(name: string, batchesPerSec: number, records: number, bytes: number): void {
  console.log(
    `${name.padEnd(32)} ${fmt(batchesPerSec * records).padStart(9)} records/s ${((batchesPerSec * bytes) / 1e6).toFixed(0).padStart(6)} MB/s   best round ${fmt(lastBest * records).padStart(9)} records/s`,
  );
}

function batchRows(label: string, input: RecordInput[], encoded: Buffer): void {
  const n = input.length;
  const enc = measure(() => {
    encodeRecordBatch({ records: input, baseOffset: 1000 });
    return 1;
  });
  row(`encode${label}`, enc, n, encoded.length);

  // The zero-allocation cursor (CRC checked), reading every record's offset, value and headers.
  const cursor = new RecordCursor();
  let sink = 0;
  const dec = measure(() => {
    const c = decodeRecordBatch(encoded).cursor(cursor);
    while (c.next()) {
      sink += c.offset + c.valueLength;
      while (c.nextHeader()) sink += c.headerValueLength;
    }
    return 1;
  });
  row(`decode, cursor${label}`, dec, n, encoded.length);

  // The iterator that yields record objects (views for key/value, header objects).
  const obj = measure(() => {
    for (const r of decodeRecordBatch(encoded)) sink += r.offset + r.headers.length;
    return 1;
  });
  row(`decode, record objects${label}`, obj, n, encoded.length);
  if (sink === 42) console.log('');
}

function crcPart(): void {
  const data = Buffer.alloc(1024 * 1024, 7);
  const rate = measure(() => {
    crc32c(data);
    return 1;
  });
  console.log(
    `${'crc32c (1 MiB buffers)'.padEnd(40)} ${((rate * data.length) / 1e9).toFixed(2)} GB/s`,
  );
  const rate16 = measure(() => {
    crc32c(batch);
    return 1;
  });
  console.log(
    `${'crc32c (16 KiB batches)'.padEnd(40)} ${((rate16 * batch.length) / 1e9).toFixed(2)} GB/s`,
  );
}

function codecsPart(): void {
  console.log(
    '\ncodec over the 16 KiB records section: compress / decompress (uncompressed MB/s), ratio',
  );
  const section = batch.subarray(61);
  for (const codec of codecs) {
    if (codec.type === CompressionType.None) continue;
    const compressed = codec.compress(section);
    const c = measure(() => {
      codec.compress(section);
      return 1;
    });
    const d = measure(() => {
      codec.decompress(compressed);
      return 1;
    });
    console.log(
      `${codec.name.padEnd(8)} ${((c * section.length) / 1e6).toFixed(0).padStart(6)} MB/s ${((d * section.length) / 1e6).toFixed(0).padStart(6)} MB/s   ${(section.length / compressed.length).toFixed(2)}x`,
    );
  }
}

function batchesPart(): void {
  console.log('\nbatch encode / decode with compression (records/s)');
  for (const codec of codecs) {
    if (codec.type === CompressionType.None) continue;
    const encoded = encodeRecordBatch({ records, compression: codec.type });
    const e = measure(() => {
      encodeRecordBatch({ records, compression: codec.type });
      return 1;
    });
    const cursor = new RecordCursor();
    const d = measure(() => {
      const cur = decodeRecordBatch(encoded).cursor(cursor);
      while (cur.next()) {}
      return 1;
    });
    console.log(
      `${codec.name.padEnd(8)} encode ${fmt(e * recordsPerBatch).padStart(9)} records/s   decode ${fmt(d * recordsPerBatch).padStart(9)} records/s`,
    );
  }
}

function runPart(part: string): void {
  if (part === 'plain') batchRows('', records, batch);
  else if (part === 'keyed') batchRows(' (keyed)', keyedRecords, keyedBatch);
  else if (part === 'crc') crcPart();
  else if (part === 'codecs') codecsPart();
  else if (part === 'batches') batchesPart();
  else throw new Error(`unknown part ${part}; parts: ${PARTS.join(', ')}`);
}

if (ONLY !== undefined) {
  runPart(ONLY);
} else {
  for (const part of PARTS) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, process.argv[1], '--only', part, '--seconds', String(SECONDS)],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
}
