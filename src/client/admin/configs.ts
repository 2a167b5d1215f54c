/**
 * Config operations of the admin client: DescribeConfigs, AlterConfigs (whole config) and
 * IncrementalAlterConfigs (single keys), for topics by default.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { AdminContext } from './context.js';
import { throwOnError } from './response-errors.js';

/** Config resource types (Kafka's ConfigResource.Type ids). */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, GROUP: 32 } as const;

/** IncrementalAlterConfigs operations. */
export type ConfigOp = 'set' | 'delete' | 'append' | 'subtract';
const CONFIG_OPS: Record<ConfigOp, number> = { set: 0, delete: 1, append: 2, subtract: 3 };

/** One config entry as described. */
export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  source: number;
}

/** Configs of a resource (a topic by default). */
export async function describeConfigs(
  ctx: AdminContext,
  name: string,
  type: number = ConfigResourceType.TOPIC,
  keys: string[] | null = null,
): Promise<ConfigEntry[]> {
  const conn =
    type === ConfigResourceType.BROKER
      ? await ctx.cluster.broker(Number(name))
      : await ctx.cluster.any();
  const res = await conn.request(32, {
    resources: [{ resourceType: type, resourceName: name, configurationKeys: keys }],
    includeSynonyms: false,
  });
  const r = res.results[0];
  if (!r) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, '(empty DescribeConfigs response)');
  throwOnError(r.errorCode, r.errorMessage, `config of "${name}"`);
  return r.configs.map((c) => ({
    name: c.name,
    value: c.value,
    readOnly: c.readOnly,
    isDefault: c.configSource === 5,
    isSensitive: c.isSensitive,
    source: c.configSource,
  }));
}

/** Replaces a resource's whole config (AlterConfigs; keys left out return to defaults). */
export async function alterConfigs(
  ctx: AdminContext,
  name: string,
  configs: Record<string, string>,
  type: number = ConfigResourceType.TOPIC,
): Promise<void> {
  const conn = await ctx.cluster.any();
  const res = await conn.request(33, {
    resources: [
      {
        resourceType: type,
        resourceName: name,
        configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
      },
    ],
    validateOnly: false,
  });
  for (const r of res.responses) throwOnError(r.errorCode, r.errorMessage, `config of "${name}"`);
}

/** Changes single config keys (IncrementalAlterConfigs). */
export async function incrementalAlterConfigs(
  ctx: AdminContext,
  name: string,
  changes: Array<{ name: string; op?: ConfigOp; value?: string | null }>,
  type: number = ConfigResourceType.TOPIC,
): Promise<void> {
  const conn = await ctx.cluster.any();
  const res = await conn.request(44, {
    resources: [
      {
        resourceType: type,
        resourceName: name,
        configs: changes.map((c) => ({
          name: c.name,
          configOperation: CONFIG_OPS[c.op ?? 'set'],
          value: c.value ?? null,
        })),
      },
    ],
    validateOnly: false,
  });
  for (const r of res.responses) throwOnError(r.errorCode, r.errorMessage, `config of "${name}"`);
}
