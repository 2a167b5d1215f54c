/**
 * The brokers client tests run against: librdkafka's mock cluster (an independent implementation)
 * and Brook itself (`brook start` from the sources), behind one small interface.
 */
import { Admin } from '../../../src/client/index.js';
import { startBroker } from '../../broker/helpers/broker-process.js';
import { startMockCluster } from './mock-cluster.js';

/** A running broker (or cluster) for a test file. */
export interface Target {
  name: string;
  bootstrap: string;
  createTopic(name: string, partitions: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startMock(brokers = 3): Promise<Target> {
  const m = await startMockCluster(brokers);
  return {
    name: 'kafka-mock',
    bootstrap: m.bootstrap,
    createTopic: (name, partitions) => m.createTopic(name, partitions, Math.min(3, brokers)),
    stop: () => m.stop(),
  };
}

export async function startBrook(): Promise<Target> {
  const b = await startBroker();
  const bootstrap = `127.0.0.1:${b.port}`;
  return {
    name: 'brook',
    bootstrap,
    async createTopic(name, partitions) {
      const admin = new Admin({ bootstrapServers: bootstrap });
      try {
        await admin.createTopics([
          { topic: name, numPartitions: partitions, replicationFactor: 1 },
        ]);
      } finally {
        await admin.close();
      }
    },
    stop: () => b.cleanup(),
  };
}

/** Both targets, by name. */
export const TARGETS: Record<string, () => Promise<Target>> = {
  'kafka-mock': () => startMock(3),
  brook: () => startBrook(),
};

/** Polls `pred` until it holds or `timeoutMs` passes. */
export async function waitUntil(
  pred: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
