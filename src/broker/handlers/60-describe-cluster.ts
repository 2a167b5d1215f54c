import { ErrorCode } from '../../protocol/errors.js';
import { specHandler } from './spec-handler.js';

/** DescribeCluster endpoint types (KIP-919). */
const BROKERS = 1;

export const describeClusterHandler = specHandler(60, {
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx) {
    const broker = ctx.broker;
    const endpointType = req.endpointType ?? BROKERS;
    if (endpointType !== BROKERS) {
      ctx.errorCode = ErrorCode.UNSUPPORTED_ENDPOINT_TYPE;
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: 'Brook has no separate controller endpoints; ask for brokers',
        endpointType,
        clusterId: broker.clusterId,
        controllerId: -1,
        brokers: [],
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType,
      clusterId: broker.clusterId,
      controllerId: broker.nodeId,
      brokers: [
        {
          brokerId: broker.nodeId,
          host: broker.advertised.host,
          port: broker.advertised.port,
          rack: null,
          isFenced: false,
        },
      ],
      clusterAuthorizedOperations: -2147483648,
    };
  },
  errorResponse(_req, _version, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, clusterId: '', brokers: [] };
  },
});
