/**
 * The Kafka message codecs: every request, response, header and data message of the protocol,
 * generated from Kafka's JSON by scripts/codegen.ts (see docs/protocol-codegen.md), plus the
 * frame helpers. Import message types and codecs from here.
 */
export * from './api-keys.js';
export * from './generated/index.js';
export * from './headers.js';
export { DecodeError, Reader, type TaggedFields, Writer } from './primitives/index.js';
