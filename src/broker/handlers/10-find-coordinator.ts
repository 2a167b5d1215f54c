import { ErrorCode } from '../../protocol/errors.js';
import type { FindCoordinatorResponseCoordinator } from '../../protocol/generated/index.js';
import { specHandler } from './spec-handler.js';
import type { RequestContext } from './types.js';

/** Key types: 0 group, 1 transaction (KIP-98); share groups (2) are not served. */
function coordinatorFor(
  ctx: RequestContext,
  key: string,
  keyType: number,
): FindCoordinatorResponseCoordinator {
  const b = ctx.broker;
  if (keyType !== 0 && keyType !== 1) {
    return {
      key,
      nodeId: -1,
      host: '',
      port: -1,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unsupported key type ${keyType}`,
    };
  }
  // As in Kafka, looking up a group coordinator creates the offsets topic.
  if (keyType === 0) b.groups.ensureOffsetsTopic();
  return {
    key,
    nodeId: b.nodeId,
    host: b.advertised.host,
    port: b.advertised.port,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
}

/** FindCoordinator: this single broker coordinates every group and transactional id. */
export const findCoordinatorHandler = specHandler(10, {
  minVersion: 0,
  maxVersion: 6,
  handle(req, ctx) {
    const version = ctx.header.apiVersion;
    if (version >= 4) {
      const coordinators = req.coordinatorKeys.map((k) => coordinatorFor(ctx, k, req.keyType));
      return { throttleTimeMs: 0, coordinators };
    }
    const c = coordinatorFor(ctx, req.key, req.keyType);
    ctx.errorCode = c.errorCode;
    return {
      throttleTimeMs: 0,
      errorCode: c.errorCode,
      errorMessage: c.errorMessage,
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
    };
  },
});
