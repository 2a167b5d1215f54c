import { ErrorCode } from '../../protocol/errors.js';
import { specHandler } from './spec-handler.js';

/**
 * InitProducerId for idempotent producers. As in Kafka, a request without a transactional id is
 * always answered with a new producer id at epoch 0, whatever producer id and epoch it carries:
 * idempotent producers bump their epoch on the client side (KIP-360), and clients fill those
 * fields differently (@platformatic/kafka sends 0/0 on its first request, which must not bump or
 * fence producer id 0 of someone else). Transactional ids are refused until transactions are
 * implemented; an empty one is INVALID_REQUEST, as Kafka answers it.
 */
export const initProducerIdHandler = specHandler(22, {
  minVersion: 0,
  maxVersion: 6,
  handle(req, ctx) {
    if (req.transactionalId !== null) {
      ctx.errorCode =
        req.transactionalId === ''
          ? ErrorCode.INVALID_REQUEST
          : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      ctx.log.info(
        { transactionalId: req.transactionalId },
        'refused a transactional producer: transactions are not supported yet',
      );
      return { throttleTimeMs: 0, errorCode: ctx.errorCode, producerId: -1n, producerEpoch: -1 };
    }
    const r = ctx.broker.producers.initProducerId(-1, -1);
    ctx.errorCode = r.errorCode;
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      producerId: BigInt(r.producerId),
      producerEpoch: r.producerEpoch,
    };
  },
});
