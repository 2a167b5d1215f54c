/**
 * The Kafka error codes the broker's own machinery uses (dispatcher, ApiVersions). Handlers use
 * the protocol package's full table.
 */
export const ErrorCode = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  UNSUPPORTED_VERSION: 35,
  INVALID_REQUEST: 42,
} as const;
