/**
 * The idempotent producer's identity: the producer id and epoch from InitProducerId, obtained
 * once before the first send, and a new epoch (or id) after the broker lost this producer's
 * sequences (KIP-360 bump with the current id and epoch, InitProducerId v3+).
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { Cluster } from '../cluster.js';
import type { Connection } from '../connection.js';

/** What the identity needs of the producer's settings. */
export interface IdentityOptions {
  /** The user's `idempotent` option: undefined means "when the broker allows it". */
  readonly idempotent: boolean | undefined;
  /** -1, 0 or 1. Idempotence needs -1 (all). */
  readonly acks: number;
  readonly maxBlockMs: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
}

/** Producer id and epoch, and whether idempotence is in force. */
export class ProducerIdentity {
  /** -1 until InitProducerId answered, or when idempotence is off. */
  producerId = -1;
  producerEpoch = -1;
  private active = false;
  private settled = false;
  private ready: Promise<void> | undefined;
  private bumping: Promise<void> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: IdentityOptions,
  ) {}

  /** True once idempotence is in force (a producer id was obtained). */
  get isActive(): boolean {
    return this.active;
  }

  /** True once {@link ensure} has succeeded (idempotence on or decided off). */
  get isSettled(): boolean {
    return this.settled;
  }

  /** Obtains a producer id when idempotence applies; shared by concurrent callers, retried after a failure. */
  ensure(): Promise<void> {
    this.ready ??= this.init().then(
      () => {
        this.settled = true;
      },
      (err: unknown) => {
        this.ready = undefined;
        throw err;
      },
    );
    return this.ready;
  }

  private async init(): Promise<void> {
    if (this.options.idempotent === false || this.options.acks !== -1) return;
    const conn = await this.cluster.any();
    if (!conn.supports(22)) {
      if (this.options.idempotent === true) {
        throw new KafkaError(
          ErrorCode.UNSUPPORTED_VERSION,
          `(the broker at ${conn.address} does not serve InitProducerId, so idempotence is unavailable; set idempotent: false)`,
        );
      }
      return;
    }
    await this.request(conn);
    this.active = true;
  }

  /** InitProducerId, with the current id and epoch when bumping (v3+), retried with backoff. */
  private async request(conn: Connection): Promise<void> {
    const o = this.options;
    const deadline = Date.now() + o.maxBlockMs;
    let delay = o.retryBackoffMs;
    for (;;) {
      const bump = this.producerId >= 0 && conn.versionFor(22) >= 3;
      const res = await conn.request(22, {
        transactionalId: null,
        transactionTimeoutMs: 60000,
        producerId: bump ? BigInt(this.producerId) : -1n,
        producerEpoch: bump ? this.producerEpoch : -1,
      });
      if (res.errorCode === 0) {
        this.producerId = Number(res.producerId);
        this.producerEpoch = res.producerEpoch;
        return;
      }
      const err = new KafkaError(res.errorCode, '(InitProducerId)');
      if (!err.retriable || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, o.retryBackoffMaxMs);
    }
  }

  /**
   * After the broker lost track of this producer's sequences: a new epoch (or id), then
   * `onBumped` (restart sequences, rebuild unsent batches), then `always`. One bump at a time.
   */
  bump(onBumped: () => void, always: () => void): void {
    if (!this.active || this.bumping) return;
    this.bumping = (async () => {
      try {
        await this.request(await this.cluster.any());
        onBumped();
      } catch {
        // Left as is: the next batches fail with the broker's error and bump again.
      } finally {
        this.bumping = undefined;
        always();
      }
    })();
  }
}
