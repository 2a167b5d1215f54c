import { decodeConsumerProtocolSubscription } from '../../protocol/generated/index.js';
import { Reader } from '../../protocol/primitives/index.js';
import type { ConsumerGroup } from './group.js';

/**
 * Does any member of a "consumer" group subscribe to `topic`? (OffsetDelete refuses to delete
 * offsets a live consumer still uses.) Reads each member's ConsumerProtocolSubscription for the
 * group's protocol; unreadable metadata counts as not subscribed.
 */
export function groupSubscribesTo(group: ConsumerGroup, topic: string): boolean {
  if (group.protocolType !== 'consumer') return false;
  for (const m of group.members.values()) {
    const metadata = group.metadataFor(m);
    if (metadata.length < 2) continue;
    try {
      const r = new Reader(metadata);
      const version = Math.min(r.int16(), 3);
      if (decodeConsumerProtocolSubscription(r, version).topics.includes(topic)) return true;
    } catch {
      // Not a consumer subscription this broker can read.
    }
  }
  return false;
}
