import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  Connection,
  type ConnectionLimits,
  type ConnectionObserver,
  type FrameHandler,
} from './connection.js';

/** An address the server is bound to. */
export interface BoundAddress {
  host: string;
  port: number;
}

/** Observer of connection counts, plus the per-connection byte counters. */
export interface ServerObserver extends ConnectionObserver {
  connectionOpened(): void;
  connectionClosed(): void;
}

/** The hosts to bind for a configured listener host. */
function bindHosts(host: string): { host: string | undefined; optional: boolean }[] {
  // "localhost" is both loopback families: a client that resolves it to ::1 first (Node 18+ does)
  // must find us there too. ::1 is optional: containers often have IPv6 off.
  if (host === 'localhost') {
    return [
      { host: '127.0.0.1', optional: false },
      { host: '::1', optional: true },
    ];
  }
  // An empty host means every interface (Kafka's meaning).
  return [{ host: host === '' ? undefined : host, optional: false }];
}

function listen(server: Server, host: string | undefined, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The TCP side of the broker: binds the listener (one server per address), wraps each socket in
 * a {@link Connection}, and on shutdown stops accepting and lets connections drain.
 */
export class BrokerServer {
  readonly #handler: FrameHandler;
  readonly #limits: ConnectionLimits;
  readonly #log: Logger;
  readonly #observer: ServerObserver | undefined;
  readonly #servers: Server[] = [];
  readonly #connections = new Set<Connection>();
  #nextId = 1;
  /** Where the listener is bound; the port is the real one when 0 was asked for. */
  readonly addresses: BoundAddress[] = [];

  constructor(
    handler: FrameHandler,
    limits: ConnectionLimits,
    log: Logger,
    observer?: ServerObserver,
  ) {
    this.#handler = handler;
    this.#limits = limits;
    this.#log = log;
    this.#observer = observer;
  }

  /** The bound port (the same on every address). */
  get port(): number {
    return this.addresses[0]?.port ?? 0;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Binds `host:port`; with port 0 the first address picks the port and the others reuse it. */
  async listen(host: string, port: number): Promise<void> {
    for (const target of bindHosts(host)) {
      const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
      server.maxConnections = 1_000_000;
      try {
        await listen(server, target.host, this.addresses.length > 0 ? this.port : port);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (
          target.optional &&
          (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT' || code === 'EADDRINUSE')
        ) {
          this.#log.debug({ host: target.host, code }, 'optional listener address not bound');
          continue;
        }
        await this.close(0);
        throw err;
      }
      const a = server.address();
      if (a && typeof a === 'object') this.addresses.push({ host: a.address, port: a.port });
      this.#servers.push(server);
    }
  }

  #accept(socket: Socket): void {
    const conn = new Connection(
      this.#nextId++,
      socket,
      this.#handler,
      this.#limits,
      this.#log,
      this.#observer,
    );
    this.#connections.add(conn);
    this.#observer?.connectionOpened();
    conn.log.debug('connection opened');
    void conn.whenClosed().then(() => {
      this.#connections.delete(conn);
      this.#observer?.connectionClosed();
      conn.log.debug('connection closed');
    });
  }

  /**
   * Stops accepting, then gives every connection up to `timeoutMs` to finish its in-flight
   * requests and write their responses; connections still open after that are cut.
   */
  async close(timeoutMs: number): Promise<void> {
    const closed = Promise.all(
      this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    const conns = [...this.#connections];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const drained = Promise.all(conns.map((c) => c.drainAndClose())).then(() => false);
    if (await Promise.race([drained, timedOut])) {
      const left = [...this.#connections];
      this.#log.warn(
        { connections: left.length, timeoutMs },
        'cutting connections still busy at shutdown',
      );
      for (const c of left) c.destroy();
      await Promise.all(left.map((c) => c.whenClosed()));
    }
    clearTimeout(timer);
    await closed;
  }
}
