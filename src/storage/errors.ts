/**
 * Typed storage errors. The broker maps them to Kafka error codes:
 * `OffsetOutOfRangeError` → OFFSET_OUT_OF_RANGE, `StorageError` → KAFKA_STORAGE_ERROR,
 * `CorruptRecordError` → CORRUPT_MESSAGE (on produce) or KAFKA_STORAGE_ERROR (on fetch).
 */

/** A fetch or look-up asked for an offset outside [logStartOffset, logEndOffset]. */
export class OffsetOutOfRangeError extends Error {
  override readonly name = 'OffsetOutOfRangeError';
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(
      `offset ${offset} is out of range for ${topic}-${partition}: ` +
        `log start offset ${logStartOffset}, log end offset ${logEndOffset}`,
    );
  }
}

/**
 * An I/O failure (disk full, EIO, a missing file...). `code` is the errno code when there is one.
 * The log stays consistent: a failed append leaves nothing behind and may be retried.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown }) {
    const cause = options?.cause;
    const code =
      cause && typeof cause === 'object' && 'code' in cause ? String(cause.code) : undefined;
    const why =
      code === 'ENOSPC'
        ? ' (no space left on the device)'
        : code === 'EIO'
          ? ' (I/O error from the device)'
          : code === 'EDQUOT'
            ? ' (disk quota exceeded)'
            : '';
    super(`${message}${why}${cause instanceof Error ? `: ${cause.message}` : ''}`, options);
    this.code = code;
  }
}

/** A batch on disk failed validation (length, magic, offsets or CRC). */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
  constructor(
    readonly topic: string,
    readonly partition: number,
    /** The offset at which the damage starts (the first offset that cannot be read). */
    readonly offset: number,
    readonly file: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(
      `corrupt record batch in ${topic}-${partition} at offset ${offset} ` +
        `(${file} position ${position}): ${reason}`,
    );
  }
}

/** The log was closed or deleted while in use. */
export class LogClosedError extends Error {
  override readonly name = 'LogClosedError';
}

/** Wraps an fs failure as a StorageError, keeping typed storage errors as they are. */
export function storageError(what: string, err: unknown): Error {
  if (
    err instanceof StorageError ||
    err instanceof CorruptRecordError ||
    err instanceof OffsetOutOfRangeError ||
    err instanceof LogClosedError
  )
    return err;
  return new StorageError(what, { cause: err });
}
