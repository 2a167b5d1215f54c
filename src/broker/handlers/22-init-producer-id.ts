import { ErrorCode } from '../../protocol/errors.js';
import { specHandler } from './spec-handler.js';

/**
 * InitProducerId for idempotent producers: a new producer id, or (v3+, KIP-360) the same id with
 * a bumped epoch. Transactional ids are refused until transactions are implemented.
 */
export const initProducerIdHandler = specHandler(22, {
  minVersion: 0,
  maxVersion: 6,
  handle(req, ctx) {
    if (req.transactionalId !== null) {
      ctx.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      ctx.log.info(
        { transactionalId: req.transactionalId },
        'refused a transactional producer: transactions are not supported yet',
      );
      return { throttleTimeMs: 0, errorCode: ctx.errorCode, producerId: -1n, producerEpoch: -1 };
    }
    const version = ctx.header.apiVersion;
    const r = ctx.broker.producers.initProducerId(
      version >= 3 ? Number(req.producerId) : -1,
      version >= 3 ? req.producerEpoch : -1,
    );
    ctx.errorCode = r.errorCode;
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      producerId: BigInt(r.producerId),
      producerEpoch: r.producerEpoch,
    };
  },
});
