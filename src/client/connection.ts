/**
 * One TCP connection to one broker: Kafka framing, correlation ids, pipelining (responses come
 * back in request order on a connection, so pending requests are a FIFO), a bound on requests in
 * flight, per-request timeouts, and ApiVersions negotiation on connect.
 */
import { createConnection, type Socket } from 'node:net';
import { type ApiMessages, type Complete, apiSpec } from '../protocol/generated/index.js';
import { encodeRequestFrame, readResponse } from '../protocol/headers.js';
import { Writer } from '../protocol/primitives/index.js';
import {
  ClientClosedError,
  ConnectionError,
  connectFailureMessage,
  TimeoutError,
} from './errors.js';
import { API_VERSION_CAPS, pickVersion, type VersionTable } from './versions.js';

/** Options of a broker connection. */
export interface ConnectionOptions {
  host: string;
  port: number;
  clientId?: string;
  /** Milliseconds to establish the TCP connection and negotiate versions. Default 10000. */
  connectTimeoutMs?: number;
  /** Milliseconds a request may wait for its response. Default 30000. */
  requestTimeoutMs?: number;
  /** Requests sent and not yet answered; more wait in a queue. Default 5 (Kafka's default). */
  maxInFlight?: number;
}

/** Per-request options. */
export interface RequestOptions {
  /** Force this version instead of the negotiated one. */
  version?: number;
  /** False for Produce with acks=0: the broker sends no response. */
  expectResponse?: boolean;
  /** Overrides the connection's request timeout (e.g. long-poll fetches). */
  timeoutMs?: number;
}

interface Pending {
  correlationId: number;
  apiKey: number;
  version: number;
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

interface Queued {
  run: () => void;
  reject: (err: Error) => void;
}

const CLIENT_SOFTWARE_NAME = 'brook-client';
const CLIENT_SOFTWARE_VERSION = '0.1.0';
/** Refuse absurd frame sizes instead of buffering without bound (Kafka's own client caps at 100 MiB). */
const MAX_RESPONSE_SIZE = 256 * 1024 * 1024;

/**
 * A connection to one broker. Use {@link Connection.connect}; then {@link Connection.request}
 * with the generated message types.
 */
export class Connection {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  /** Versions agreed with the broker (API key → version); filled by negotiation. */
  versions: VersionTable = new Map();
  private socket: Socket | undefined;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxInFlight: number;
  private nextCorrelationId = 1;
  private readonly inFlight: Pending[] = [];
  private inFlightHead = 0;
  private readonly waiting: Queued[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedError: Error | undefined;
  private readonly closeListeners: Array<(err: Error) => void> = [];

  private constructor(opts: ConnectionOptions) {
    this.host = opts.host;
    this.port = opts.port;
    this.clientId = opts.clientId ?? 'brook';
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10000;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 5);
  }

  /** `host:port` of the broker. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** True until the connection fails or is closed. */
  get isOpen(): boolean {
    return this.closedError === undefined && this.socket !== undefined;
  }

  /** Requests sent and not yet answered plus requests queued. */
  get pendingCount(): number {
    return this.inFlight.length - this.inFlightHead + this.waiting.length;
  }

  /** Opens a connection and negotiates API versions. Throws {@link ConnectionError}. */
  static async connect(opts: ConnectionOptions): Promise<Connection> {
    const c = new Connection(opts);
    await c.open();
    try {
      await c.negotiate();
    } catch (err) {
      c.close(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    return c;
  }

  /** Calls `fn` once when the connection closes or fails. */
  onClose(fn: (err: Error) => void): void {
    if (this.closedError) fn(this.closedError);
    else this.closeListeners.push(fn);
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: this.host, port: this.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new ConnectionError(
            this.address,
            `cannot reach ${this.address} — no connection within ${this.connectTimeoutMs} ms; is the broker running and the address right?`,
          ),
        );
      }, this.connectTimeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new ConnectionError(this.address, connectFailureMessage(this.address, err), {
            cause: err,
          }),
        );
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        this.socket = socket;
        socket.on('data', (d: Buffer) => this.onData(d));
        socket.on('error', (err) =>
          this.close(
            new ConnectionError(
              this.address,
              `connection to ${this.address} failed: ${err.message}`,
              { cause: err },
            ),
          ),
        );
        socket.on('close', () =>
          this.close(
            new ConnectionError(
              this.address,
              `connection to ${this.address} was closed by the broker`,
            ),
          ),
        );
        resolve();
      });
    });
  }

  /**
   * ApiVersions: try v3 (flexible, sends our name); a broker that does not know v3 answers with
   * error 35 in v0 format, so fall back to v0.
   */
  private async negotiate(): Promise<void> {
    let res: Complete<ApiMessages[18]['response']>;
    try {
      res = await this.request(
        18,
        {
          clientSoftwareName: CLIENT_SOFTWARE_NAME,
          clientSoftwareVersion: CLIENT_SOFTWARE_VERSION,
        },
        { version: 3, timeoutMs: this.connectTimeoutMs },
      );
      if (res.errorCode === 35) throw new Error('ApiVersions v3 unsupported');
    } catch (err) {
      if (err instanceof ConnectionError || err instanceof TimeoutError) throw err;
      res = await this.request(18, {}, { version: 0, timeoutMs: this.connectTimeoutMs });
    }
    if (res.errorCode !== 0) {
      throw new ConnectionError(
        this.address,
        `${this.address} refused ApiVersions (error ${res.errorCode})`,
      );
    }
    const table: VersionTable = new Map();
    for (const k of res.apiKeys) {
      const v = pickVersion(k.apiKey, k.minVersion, k.maxVersion);
      if (v !== undefined) table.set(k.apiKey, v);
    }
    this.versions = table;
  }

  /** The negotiated version for an API, or throws a clear error when the broker lacks it. */
  versionFor(apiKey: number): number {
    const v = this.versions.get(apiKey);
    if (v === undefined) {
      const name = apiSpec(apiKey)?.name ?? `API ${apiKey}`;
      throw new ConnectionError(
        this.address,
        `the broker at ${this.address} does not support ${name} in any version this client speaks`,
      );
    }
    return v;
  }

  /** True when the broker serves the API in a version this client speaks. */
  supports(apiKey: number): boolean {
    return this.versions.has(apiKey);
  }

  /**
   * Sends a request and resolves with the decoded response. Rejects with {@link ConnectionError}
   * when the connection fails, {@link TimeoutError} after the request timeout. Broker error codes
   * are in the response; this does not interpret them.
   */
  request<K extends keyof ApiMessages>(
    apiKey: K,
    body: ApiMessages[K]['request'],
    opts: RequestOptions = {},
  ): Promise<Complete<ApiMessages[K]['response']>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const version = opts.version ?? this.versionFor(apiKey);
    return new Promise((resolve, reject) => {
      const run = (): void =>
        this.send(apiKey, version, body, opts, resolve as (b: unknown) => void, reject);
      if (this.inFlight.length - this.inFlightHead >= this.maxInFlight) {
        this.waiting.push({ run, reject });
      } else {
        run();
      }
    });
  }

  private send<K extends keyof ApiMessages>(
    apiKey: K,
    version: number,
    body: ApiMessages[K]['request'],
    opts: RequestOptions,
    resolve: (b: unknown) => void,
    reject: (err: Error) => void,
  ): void {
    const socket = this.socket;
    if (!socket || this.closedError) {
      reject(this.closedError ?? new ClientClosedError('connection'));
      return;
    }
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    let frame: Buffer;
    try {
      frame = encodeRequestFrame(
        apiKey,
        version,
        correlationId,
        this.clientId,
        body,
        new Writer(estimateSize(body)),
      );
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      this.pump();
      return;
    }
    if (opts.expectResponse === false) {
      socket.write(frame);
      resolve(undefined);
      return;
    }
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    const p: Pending = { correlationId, apiKey, version, resolve, reject, timer: undefined };
    p.timer = setTimeout(() => {
      // Responses are ordered: a lost one makes the rest of the pipeline useless.
      this.close(
        new TimeoutError(
          `${apiSpec(apiKey)?.name ?? apiKey} request to ${this.address} got no response within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    this.inFlight.push(p);
    socket.write(frame);
  }

  /** Starts queued requests while there is room in flight. */
  private pump(): void {
    while (this.waiting.length > 0 && this.inFlight.length - this.inFlightHead < this.maxInFlight) {
      const q = this.waiting.shift();
      q?.run();
    }
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    while (this.buffered >= 4) {
      let head = this.chunks[0];
      if (head.length < 4) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const size = head.readInt32BE(0);
      if (size < 0 || size > MAX_RESPONSE_SIZE) {
        this.close(
          new ConnectionError(this.address, `${this.address} sent an invalid frame size ${size}`),
        );
        return;
      }
      if (this.buffered < size + 4) return;
      let frame: Buffer;
      if (head.length >= size + 4) {
        frame = head.subarray(4, size + 4);
        if (head.length === size + 4) this.chunks.shift();
        else this.chunks[0] = head.subarray(size + 4);
      } else {
        const all = Buffer.concat(this.chunks, this.buffered);
        frame = all.subarray(4, size + 4);
        this.chunks = all.length > size + 4 ? [all.subarray(size + 4)] : [];
      }
      this.buffered -= size + 4;
      this.onFrame(frame);
      if (this.closedError) return;
    }
  }

  private onFrame(frame: Buffer): void {
    const p = this.inFlight[this.inFlightHead];
    if (!p) {
      this.close(
        new ConnectionError(this.address, `${this.address} sent a response to no request`),
      );
      return;
    }
    this.inFlight[this.inFlightHead] = undefined as unknown as Pending;
    this.inFlightHead++;
    if (this.inFlightHead > 1024 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.inFlightHead);
      this.inFlightHead = 0;
    }
    clearTimeout(p.timer);
    const id = frame.length >= 4 ? frame.readInt32BE(0) : -1;
    if (id !== p.correlationId) {
      p.reject(new ConnectionError(this.address, `${this.address} answered out of order`));
      this.close(
        new ConnectionError(
          this.address,
          `${this.address} answered out of order (correlation id ${id}, expected ${p.correlationId})`,
        ),
      );
      return;
    }
    try {
      const { body } = readResponse(frame, p.apiKey as keyof ApiMessages, p.version);
      p.resolve(body);
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.pump();
  }

  /** Closes the connection; pending and queued requests fail with `err`. */
  close(err: Error = new ClientClosedError('connection')): void {
    if (this.closedError) return;
    this.closedError = err;
    this.socket?.destroy();
    for (let i = this.inFlightHead; i < this.inFlight.length; i++) {
      const p = this.inFlight[i];
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.inFlight.length = 0;
    this.inFlightHead = 0;
    for (const q of this.waiting.splice(0)) q.reject(err);
    for (const fn of this.closeListeners.splice(0)) fn(err);
  }
}

/** A first guess of the frame size, so that big produce requests do not grow the writer often. */
function estimateSize(body: object): number {
  const td = (body as { topicData?: { partitionData: { records: Buffer | null }[] }[] }).topicData;
  if (!td) return 256;
  let n = 256;
  for (const t of td) for (const p of t.partitionData) n += (p.records?.length ?? 0) + 32;
  return n;
}

export { API_VERSION_CAPS };
