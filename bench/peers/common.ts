/**
 * What every peer with a private server shares, so that each peer file holds only what is its
 * own (the server's command line and readiness check, its client, its durability): the server
 * process and temporary data directory and their cleanup, the start sequence that stops what it
 * started when the server does not come up, and the result with the parameters every figure
 * carries (server version, client, server start time).
 */
import { basename } from 'node:path';
import {
  findExecutable,
  firstLineOf,
  makeTempDir,
  missingNote,
  portOpen,
  removeDir,
  type RunningServer,
  ServerProcess,
  until,
} from './process.js';
import type { Peer, PeerResult, PeerStartOptions, PeerWorkload } from './types.js';
import { peerResult } from './workload.js';

/** A peer that runs its own server process (see {@link Peer} for the contract). */
export abstract class ServerPeer implements Peer {
  abstract readonly name: string;
  /** The running server, between a successful `launch` and `stop`. */
  protected server: ServerProcess | undefined;
  /** The temporary data directory of the current run. */
  protected dir: string | undefined;
  /** The start option in force. */
  protected fsync = false;
  /** The server's version banner, for the results. */
  protected version = '';
  #bootMillis = 0;
  /** How long `stop` lets the server shut down cleanly before killing it. */
  protected readonly stopGraceMs: number = 10000;

  abstract available(): Promise<string | null>;
  abstract start(options: PeerStartOptions): Promise<void>;
  abstract produce(workload: PeerWorkload): Promise<PeerResult>;
  abstract consume(workload: PeerWorkload): Promise<PeerResult>;

  /** Every port the server listens on (for checks that `stop()` closed them). */
  protected abstract ports(): number[];
  /** The durability in force, in the peer's own words. */
  protected abstract durability(): string;
  /** The client library the figures were measured with. */
  protected abstract clientName(): string;
  /** Whether every acknowledged write was fsynced before its ack. */
  protected fsyncPerWrite(): boolean {
    return false;
  }
  /** Parameters every figure of this peer carries besides server, client and start time. */
  protected serverParams(): Record<string, unknown> {
    return {};
  }
  /** Stops what the server left behind outside its process group (e.g. RabbitMQ's epmd). */
  protected afterServerStop(): void {}

  /** The server while started (for checks that stop() leaves nothing behind). */
  get running(): RunningServer | undefined {
    return this.server === undefined || this.dir === undefined
      ? undefined
      : { pid: this.server.pid, ports: this.ports(), dataDir: this.dir };
  }

  /**
   * Stops a previous run and keeps `options`; the caller then makes a data directory, picks
   * ports and calls {@link launch}.
   */
  protected async prepare(options: PeerStartOptions): Promise<void> {
    await this.stop();
    this.fsync = options.fsync;
  }

  /**
   * {@link prepare} for a server that is one executable of a Debian package: throws the install
   * note if `binary` is missing, reads its version banner (`--version`) and makes a fresh data
   * directory. Returns the executable's path and the directory.
   */
  protected async prepareExecutable(
    binary: string,
    debianPackage: string,
    options: PeerStartOptions,
  ): Promise<{ path: string; dir: string }> {
    const path = findExecutable(binary);
    if (path === null) throw new Error(missingNote(binary, debianPackage));
    await this.prepare(options);
    this.version = firstLineOf(path, ['--version']) ?? `${basename(path)} (version unknown)`;
    const dir = makeTempDir(this.name);
    this.dir = dir;
    return { path, dir };
  }

  /**
   * Starts the server and waits for `ready` (which also creates the stream); if either fails,
   * stops everything started so far and throws `<label> did not start: why` with the server's
   * last output. The time until ready is the figures' `serverStartSeconds`.
   */
  protected async launch(
    label: string,
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string },
    ready: () => Promise<void>,
  ): Promise<void> {
    const began = performance.now();
    const server = ServerProcess.start(command, args, options);
    this.server = server;
    try {
      await ready();
      this.#bootMillis = performance.now() - began;
    } catch (err) {
      const output = server.output;
      await this.stop();
      throw new Error(`${label} did not start: ${(err as Error).message}\n${output}`);
    }
  }

  /** Polls until `port` accepts connections, failing at once if the server exits. */
  protected untilListening(
    label: string,
    port: number,
    what: string,
    timeoutMs: number,
    intervalMs?: number,
  ): Promise<void> {
    return until(
      async () => {
        if (this.server?.running !== true) throw new Error(`${label} exited`);
        return portOpen(port);
      },
      what,
      timeoutMs,
      intervalMs,
    );
  }

  /** A result of this peer's current run: `params` after the ones every figure carries. */
  protected result(
    records: number,
    recordSize: number,
    millis: number,
    params: Readonly<Record<string, unknown>>,
  ): PeerResult {
    return peerResult(records, recordSize, millis, this.durability(), this.fsyncPerWrite(), {
      server: this.version,
      client: this.clientName(),
      ...this.serverParams(),
      serverStartSeconds: +(this.#bootMillis / 1000).toFixed(2),
      ...params,
    });
  }

  /** Stops the server and removes its data directory. Safe to call twice. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await server.stop(this.stopGraceMs);
    this.afterServerStop();
    removeDir(this.dir);
    this.dir = undefined;
  }
}
