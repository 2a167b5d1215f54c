/**
 * `brook topics create|list|describe|delete|alter`, with kafka-topics.sh's options.
 */
import { Command } from 'commander';
import { Admin, KafkaError } from '../client/index.js';
import {
  type CommonOptions,
  collect,
  parseCount,
  parsePairs,
  printJson,
  runClientCommand,
  UsageError,
  withCommonOptions,
} from './client-common.js';

interface TopicOptions extends CommonOptions {
  topic?: string;
  partitions?: string;
  replicationFactor?: string;
  config?: string[];
  deleteConfig?: string[];
  ifNotExists?: boolean;
  ifExists?: boolean;
}

function requireTopic(o: TopicOptions): string {
  if (!o.topic) throw new UsageError('--topic is required');
  return o.topic;
}

async function withAdmin(
  name: string,
  o: TopicOptions,
  fn: (admin: Admin) => Promise<void>,
): Promise<void> {
  await runClientCommand(`topics ${name}`, o.bootstrapServer, async () => {
    const admin = new Admin({ bootstrapServers: o.bootstrapServer });
    try {
      await fn(admin);
    } finally {
      await admin.close();
    }
  });
}

function sub(
  name: string,
  description: string,
  action: (o: TopicOptions) => Promise<void>,
): Command {
  const cmd = new Command(name).description(description);
  withCommonOptions(cmd)
    .option('--topic <name>', 'topic name')
    .option('--partitions <n>', 'number of partitions')
    .option('--replication-factor <n>', 'replicas per partition')
    .option('--config <key=value>', 'topic config (repeatable)', collect)
    .action(action);
  return cmd;
}

/** The `topics` command group. */
export function topicsCommand(): Command {
  const topics = new Command('topics').description(
    'create, list, describe, alter and delete topics (like kafka-topics.sh)',
  );

  topics.addCommand(
    sub('create', 'create a topic', (o) =>
      withAdmin('create', o, async (admin) => {
        const topic = requireTopic(o);
        try {
          await admin.createTopics([
            {
              topic,
              numPartitions: parseCount(o.partitions, '--partitions') ?? -1,
              replicationFactor: parseCount(o.replicationFactor, '--replication-factor') ?? -1,
              configs: parsePairs(o.config, '--config'),
            },
          ]);
        } catch (err) {
          if (o.ifNotExists && err instanceof KafkaError && err.name === 'TOPIC_ALREADY_EXISTS')
            return;
          throw err;
        }
        if (o.json) printJson({ created: topic });
        else process.stdout.write(`Created topic ${topic}.\n`);
      }),
    ).option('--if-not-exists', 'succeed if the topic already exists'),
  );

  topics.addCommand(
    sub('list', 'list topics', (o) =>
      withAdmin('list', o, async (admin) => {
        const names = await admin.listTopics();
        if (o.json) printJson(names);
        else for (const n of names) process.stdout.write(`${n}\n`);
      }),
    ),
  );

  topics.addCommand(
    sub(
      'describe',
      'partitions, leaders, replicas and configs of topics (all without --topic)',
      (o) =>
        withAdmin('describe', o, async (admin) => {
          const names = o.topic ? [o.topic] : await admin.listTopics();
          for (const t of await admin.describeTopics(names)) {
            let configs: Array<{ name: string; value: string | null }> = [];
            try {
              configs = (await admin.describeConfigs(t.name)).filter((c) => !c.isDefault);
            } catch {
              // DescribeConfigs is optional for this view.
            }
            const rf = t.partitions[0]?.replicas.length ?? 0;
            if (o.json) {
              printJson({
                topic: t.name,
                topicId: t.topicId,
                partitionCount: t.partitions.length,
                replicationFactor: rf,
                configs,
                partitions: t.partitions,
              });
              continue;
            }
            const cfg = configs.map((c) => `${c.name}=${c.value}`).join(',');
            process.stdout.write(
              `Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${cfg}\n`,
            );
            for (const p of t.partitions) {
              process.stdout.write(
                `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\n`,
              );
            }
          }
        }),
    ),
  );

  topics.addCommand(
    sub('delete', 'delete a topic', (o) =>
      withAdmin('delete', o, async (admin) => {
        const topic = requireTopic(o);
        try {
          await admin.deleteTopics([topic]);
        } catch (err) {
          if (o.ifExists && err instanceof KafkaError && err.name === 'UNKNOWN_TOPIC_OR_PARTITION')
            return;
          throw err;
        }
        if (o.json) printJson({ deleted: topic });
        else process.stdout.write(`Deleted topic ${topic}.\n`);
      }),
    ).option('--if-exists', 'succeed if the topic does not exist'),
  );

  topics.addCommand(
    sub('alter', 'add partitions or change configs of a topic', (o) =>
      withAdmin('alter', o, async (admin) => {
        const topic = requireTopic(o);
        const partitions = parseCount(o.partitions, '--partitions');
        const configs = parsePairs(o.config, '--config');
        const deletes = o.deleteConfig ?? [];
        if (partitions === undefined && Object.keys(configs).length === 0 && deletes.length === 0) {
          throw new UsageError('nothing to alter: pass --partitions, --config or --delete-config');
        }
        if (partitions !== undefined) await admin.createPartitions([{ topic, count: partitions }]);
        if (Object.keys(configs).length > 0 || deletes.length > 0) {
          await admin.incrementalAlterConfigs(topic, [
            ...Object.entries(configs).map(([name, value]) => ({
              name,
              value,
              op: 'set' as const,
            })),
            ...deletes.map((name) => ({ name, op: 'delete' as const })),
          ]);
        }
        if (o.json) printJson({ altered: topic });
        else process.stdout.write(`Altered topic ${topic}.\n`);
      }),
    ).option('--delete-config <key>', 'config to return to its default (repeatable)', collect),
  );
  return topics;
}
