import { connect, type Socket } from 'node:net';
import { Writer } from '../../../src/protocol/primitives/index.js';

/** Encodes a request frame (size prefix + header v1, or v2 when `flexible`, + body). */
export function requestFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: Buffer = Buffer.alloc(0),
  opts: { flexible?: boolean; clientId?: string | null } = {},
): Buffer {
  const w = new Writer(64 + body.length);
  w.int32(0).int16(apiKey).int16(apiVersion).int32(correlationId);
  w.nullableString(opts.clientId === undefined ? 'brook-test' : opts.clientId);
  if (opts.flexible) w.uvarint(0);
  w.raw(body);
  const frame = Buffer.from(w.finish());
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

/**
 * A bare Kafka-protocol client for tests: writes raw bytes, reads whole response frames in
 * arrival order, and notices when the broker closes the connection.
 */
export class RawClient {
  readonly socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  readonly #frames: Buffer[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      while (this.#buf.length >= 4) {
        const size = this.#buf.readInt32BE(0);
        if (this.#buf.length < 4 + size) break;
        this.#frames.push(this.#buf.subarray(4, 4 + size));
        this.#buf = this.#buf.subarray(4 + size);
      }
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => {
        s.off('error', reject);
        resolve(new RawClient(s));
      });
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits until `pred` holds, or throws after `timeoutMs`. */
  async #until(pred: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The next response frame (without its size prefix). Throws if the connection closes first. */
  async nextFrame(timeoutMs = 5000): Promise<Buffer> {
    await this.#until(() => this.#frames.length > 0 || this.#closed, 'a response', timeoutMs);
    const f = this.#frames.shift();
    if (!f) throw new Error('connection closed before a response arrived');
    return f;
  }

  /** Resolves when the broker has closed the connection; throws after `timeoutMs`. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.#until(() => this.#closed, 'the connection to close', timeoutMs);
  }

  /** Frames received and not yet taken. */
  get queued(): number {
    return this.#frames.length;
  }

  close(): void {
    this.socket.destroy();
  }
}
