/** What every admin operation needs: the cluster and the time it may wait for the brokers. */
import type { Cluster } from '../cluster.js';

/** The admin client's state, shared by its operation modules. */
export interface AdminContext {
  readonly cluster: Cluster;
  /** Request timeout sent to the brokers, and how long to wait for metadata to catch up. */
  readonly timeoutMs: number;
}
