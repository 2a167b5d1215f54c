import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProperties } from './config/properties.js';

/** Kafka's name for the file that identifies a data directory's cluster and node. */
export const META_PROPERTIES = 'meta.properties';

/** What meta.properties records. */
export interface MetaProperties {
  clusterId: string;
  nodeId: number;
  directoryId: string;
}

/** Raised when the data directory belongs to another node id or is unreadable. */
export class MetaPropertiesError extends Error {
  override readonly name = 'MetaPropertiesError';
}

/** A Kafka-style id: a random UUID as 22 characters of URL-safe base64. */
export function randomKafkaId(): string {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
}

/**
 * Reads `meta.properties` from the data directory, or writes a new one (a fresh cluster id) on
 * first start. As in Kafka, a directory written by another node id is refused.
 */
export function loadOrCreateMetaProperties(dataDir: string, nodeId: number): MetaProperties {
  const path = join(dataDir, META_PROPERTIES);
  if (existsSync(path)) {
    const entries = new Map(
      parseProperties(readFileSync(path, 'utf8')).map((e) => [e.key, e.value]),
    );
    const clusterId = entries.get('cluster.id');
    const stored = Number(entries.get('node.id'));
    if (!clusterId || !Number.isInteger(stored)) {
      throw new MetaPropertiesError(
        `${path} lacks cluster.id or node.id; move it away to start afresh`,
      );
    }
    if (stored !== nodeId) {
      throw new MetaPropertiesError(
        `stored node id ${stored} in ${path} does not match node.id=${nodeId}; start with node.id=${stored} or use another data directory`,
      );
    }
    return { clusterId, nodeId, directoryId: entries.get('directory.id') ?? '' };
  }
  const meta = { clusterId: randomKafkaId(), nodeId, directoryId: randomKafkaId() };
  const text =
    `#\n#${new Date().toString()}\ncluster.id=${meta.clusterId}\ndirectory.id=${meta.directoryId}\n` +
    `node.id=${nodeId}\nversion=1\n`;
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  return meta;
}
