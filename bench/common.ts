/**
 * What the benchmarks share: a description of the machine to print beside every figure, the
 * median of rounds, and a bare pipelining protocol client for the broker benchmarks.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import type { ApiMessages, Complete } from '../src/protocol/generated/index.js';
import { encodeRequestFrame, readResponse } from '../src/protocol/messages.js';

/**
 * Cores, CPU model, Node version and load average (figures are only comparable within one run on
 * these shared machines), with `extra` (e.g. the disk) appended.
 */
export function machine(extra?: string): string {
  const nproc = execSync('nproc').toString().trim();
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?';
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const base = `${nproc} cores (nproc), ${cpu}, Node ${process.version}, load average ${load}`;
  return extra === undefined ? base : `${base}, ${extra}`;
}

/** The median of `xs` (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** A pipelining protocol client on one connection: responses resolve in request order. */
export class PipeClient {
  readonly #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  readonly #waiting: ((frame: Buffer) => void)[] = [];
  #id = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      while (this.#buf.length >= 4) {
        const size = this.#buf.readInt32BE(0);
        if (this.#buf.length < 4 + size) break;
        const frame = this.#buf.subarray(4, 4 + size);
        this.#buf = this.#buf.subarray(4 + size);
        this.#waiting.shift()?.(frame);
      }
    });
  }

  /** Connects to a broker on 127.0.0.1. */
  static open(port: number): Promise<PipeClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => resolve(new PipeClient(s)));
      s.once('error', reject);
    });
  }

  /** Sends a request; resolves with the raw response frame (header and body, no size). */
  send<K extends keyof ApiMessages>(
    key: K,
    version: number,
    body: ApiMessages[K]['request'],
  ): Promise<Buffer> {
    const frame = encodeRequestFrame(key, version, ++this.#id, 'bench', body);
    return this.sendRaw(Buffer.from(frame));
  }

  /** Sends a request; resolves with the decoded response body. */
  async request<K extends keyof ApiMessages>(
    key: K,
    version: number,
    body: ApiMessages[K]['request'],
  ): Promise<Complete<ApiMessages[K]['response']>> {
    return readResponse(await this.send(key, version, body), key, version).body;
  }

  /** Sends an already encoded request frame (with its size prefix). */
  sendRaw(frame: Buffer): Promise<Buffer> {
    const p = new Promise<Buffer>((resolve) => this.#waiting.push(resolve));
    this.#socket.write(frame);
    return p;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** User and system CPU seconds a process has used so far (/proc/<pid>/stat, clock ticks). */
export function cpuSeconds(pid: number): { user: number; sys: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const hz = Number(execSync('getconf CLK_TCK').toString().trim());
  return { user: Number(fields[11]) / hz, sys: Number(fields[12]) / hz };
}
