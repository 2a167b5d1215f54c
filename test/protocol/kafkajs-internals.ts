/**
 * kafkajs 2.2.4's own protocol modules (an independent, hand-written implementation), loaded by
 * path for the cross-check tests: its request encoders, response decoders and frame writer.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A kafkajs request: its API key and version, and its body encoder. */
export interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<{ buffer: Buffer }>;
}

/** A kafkajs request builder for one API version. */
export type KafkajsRequestFactory = (args: Record<string, unknown>) => KafkajsRequest;

/** A kafkajs response decoder for one API version. */
export interface KafkajsResponse {
  decode(payload: Buffer): Promise<Record<string, unknown>>;
  parse(decoded: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** kafkajs's frame writer: size prefix, request header and body. */
export const kafkajsFrame = require('kafkajs/src/protocol/request') as (args: {
  correlationId: number;
  clientId: string;
  request: KafkajsRequest;
}) => Promise<{ buffer: Buffer }>;

/** kafkajs's request builder and response decoder of `api` (its folder name) at `version`. */
export function kafkajs(
  api: string,
  version: number,
): { request: KafkajsRequestFactory; response: KafkajsResponse } {
  return {
    request: require(`kafkajs/src/protocol/requests/${api}/v${version}/request`),
    response: require(`kafkajs/src/protocol/requests/${api}/v${version}/response`),
  };
}
