/**
 * The machine and the software versions every figure of a run is taken with.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { BROOK_VERSION } from '../../src/version.js';
import type { MachineInfo } from './types.js';

const run = promisify(execFile);

/** Output of a command, or null when it is missing or fails. */
async function output(cmd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 10000 });
    return `${stdout}${stderr}`.trim();
  } catch {
    return null;
  }
}

/** The 1, 5 and 15 minute load averages, rounded to 0.01. */
export function loadAverage(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

/** The machine now; `loadAverageEnd` is filled in when the run ends. */
export async function machineInfo(): Promise<MachineInfo> {
  const nproc = Number(await output('nproc', [])) || cpus().length;
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel =
      readFileSync('/proc/cpuinfo', 'utf8')
        .match(/model name\s*:\s*(.*)/)?.[1]
        ?.trim() ?? cpuModel;
  } catch {
    // not Linux: os.cpus() has the model
  }
  const df = await output('df', ['-T', tmpdir()]);
  const fsLine = df?.split('\n')[1]?.split(/\s+/);
  return {
    nproc,
    cpuModel,
    memoryMb: Math.round(totalmem() / 1e6),
    kernel: release(),
    platform: `${process.platform}-${process.arch}`,
    loadAverageStart: loadAverage(),
    loadAverageEnd: [],
    tmpFilesystem: fsLine ? `${tmpdir()} on ${fsLine[0]} (${fsLine[1]})` : tmpdir(),
  };
}

/** The version of a Debian package, or null when it is not installed. */
async function debianVersion(pkg: string): Promise<string | null> {
  const v = await output('dpkg-query', ['-W', '-f', `\${Version}`, pkg]);
  return v === null || v === '' ? null : v;
}

function npmVersion(pkg: string): string | null {
  try {
    const url = new URL(`../../node_modules/${pkg}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/**
 * Node, Brook, kcat and its librdkafka, the peers and the JavaScript clients; "not installed"
 * where absent, so a reader sees what could not have been measured.
 */
export async function versions(): Promise<Record<string, string>> {
  const kcat = await output('kcat', ['-V']);
  const kcatVersion = kcat?.match(/Version (\S+)/)?.[1];
  const librdkafka = kcat?.match(/librdkafka (\d\S*)/)?.[1];
  const redis = await output('redis-server', ['--version']);
  const nats = await output('nats-server', ['--version']);
  const missing = 'not installed';
  return {
    node: process.version,
    brook: BROOK_VERSION,
    kcat: kcatVersion ?? missing,
    'librdkafka (kcat)': librdkafka ?? missing,
    'librdkafka (mock cluster)': (await debianVersion('librdkafka1')) ?? missing,
    'redis-server': redis?.match(/v=(\S+)/)?.[1] ?? missing,
    'nats-server': nats?.replace(/^nats-server:\s*/, '') ?? missing,
    'rabbitmq-server': (await debianVersion('rabbitmq-server')) ?? missing,
    kafkajs: npmVersion('kafkajs') ?? missing,
    'node-rdkafka': npmVersion('node-rdkafka') ?? missing,
  };
}
