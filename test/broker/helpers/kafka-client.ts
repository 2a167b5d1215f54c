import type { ApiMessages, Complete } from '../../../src/protocol/generated/index.js';
import { encodeRequestFrame, readResponse } from '../../../src/protocol/messages.js';
import { RawClient } from './raw-client.js';

/**
 * A typed one-request-at-a-time client over {@link RawClient}, with the generated codecs: enough
 * to drive each handler at an exact API version.
 */
export class KafkaTestClient {
  readonly raw: RawClient;
  #correlationId = 1;

  private constructor(raw: RawClient) {
    this.raw = raw;
  }

  static async connect(port: number): Promise<KafkaTestClient> {
    return new KafkaTestClient(await RawClient.connect(port));
  }

  /** Sends one request and decodes its response (which must carry the same correlation id). */
  async request<K extends keyof ApiMessages>(
    apiKey: K,
    version: number,
    body: ApiMessages[K]['request'],
    timeoutMs = 10000,
  ): Promise<Complete<ApiMessages[K]['response']>> {
    const id = this.#correlationId++;
    this.raw.write(Buffer.from(encodeRequestFrame(apiKey, version, id, 'brook-test', body)));
    const frame = await this.raw.nextFrame(timeoutMs);
    const res = readResponse(frame, apiKey, version);
    if (res.correlationId !== id)
      throw new Error(`correlation id ${res.correlationId}, expected ${id}`);
    return res.body;
  }

  /** Sends a request that gets no response (Produce with acks=0). */
  send<K extends keyof ApiMessages>(
    apiKey: K,
    version: number,
    body: ApiMessages[K]['request'],
  ): void {
    this.raw.write(
      Buffer.from(encodeRequestFrame(apiKey, version, this.#correlationId++, 'brook-test', body)),
    );
  }

  close(): void {
    this.raw.close();
  }
}
