/**
 * `brook groups list|describe|delete|reset-offsets`, like kafka-consumer-groups.sh.
 */
import { Command } from 'commander';
import { Admin, type ResetSpec } from '../client/index.js';
import {
  type CommonOptions,
  collect,
  printJson,
  printTable,
  runClientCommand,
  UsageError,
  withCommonOptions,
} from './client-common.js';

interface GroupOptions extends CommonOptions {
  group?: string;
  topic?: string[];
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  toDatetime?: string;
  shiftBy?: string;
  execute?: boolean;
  dryRun?: boolean;
}

function requireGroup(o: GroupOptions): string {
  if (!o.group) throw new UsageError('--group is required');
  return o.group;
}

async function withAdmin(
  name: string,
  o: GroupOptions,
  fn: (admin: Admin) => Promise<void>,
): Promise<void> {
  await runClientCommand(`groups ${name}`, o.bootstrapServer, async () => {
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
  action: (o: GroupOptions) => Promise<void>,
): Command {
  const cmd = new Command(name).description(description);
  withCommonOptions(cmd).option('--group <id>', 'consumer group id').action(action);
  return cmd;
}

function resetSpec(o: GroupOptions): ResetSpec {
  const chosen = [
    o.toEarliest,
    o.toLatest,
    o.toOffset !== undefined,
    o.toDatetime !== undefined,
    o.shiftBy !== undefined,
  ].filter(Boolean).length;
  if (chosen !== 1)
    throw new UsageError(
      'give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by',
    );
  if (o.toEarliest) return { to: 'earliest' };
  if (o.toLatest) return { to: 'latest' };
  if (o.toOffset !== undefined) {
    const offset = Number(o.toOffset);
    if (!Number.isInteger(offset) || offset < 0)
      throw new UsageError(`--to-offset must be a whole number, not "${o.toOffset}"`);
    return { to: 'offset', offset };
  }
  if (o.toDatetime !== undefined) {
    const timestamp = Date.parse(o.toDatetime);
    if (Number.isNaN(timestamp))
      throw new UsageError(
        `--to-datetime: cannot read "${o.toDatetime}" (use e.g. 2024-01-31T12:00:00Z)`,
      );
    return { to: 'timestamp', timestamp };
  }
  const by = Number(o.shiftBy);
  if (!Number.isInteger(by))
    throw new UsageError(`--shift-by must be a whole number, not "${o.shiftBy}"`);
  return { to: 'shift', by };
}

/** The `groups` command group. */
export function groupsCommand(): Command {
  const groups = new Command('groups').description(
    'list, describe, delete consumer groups and reset their offsets (like kafka-consumer-groups.sh)',
  );

  groups.addCommand(
    sub('list', 'list groups', (o) =>
      withAdmin('list', o, async (admin) => {
        const list = await admin.listGroups();
        if (o.json) printJson(list);
        else for (const g of list) process.stdout.write(`${g.groupId}\n`);
      }),
    ),
  );

  groups.addCommand(
    sub(
      'describe',
      "each partition's committed offset, log end offset and lag, with its owner",
      (o) =>
        withAdmin('describe', o, async (admin) => {
          const groupId = requireGroup(o);
          const { group, partitions } = await admin.groupLag(groupId);
          if (o.json) {
            printJson({
              group: groupId,
              state: group?.state ?? null,
              members: group?.members ?? [],
              partitions,
            });
            return;
          }
          if (partitions.length === 0 && (group === null || group.members.length === 0)) {
            process.stdout.write(
              `Consumer group '${groupId}' has no active members and no committed offsets.\n`,
            );
            return;
          }
          if (group && group.members.length === 0)
            process.stdout.write(`\nConsumer group '${groupId}' has no active members.\n`);
          process.stdout.write('\n');
          printTable([
            [
              'GROUP',
              'TOPIC',
              'PARTITION',
              'CURRENT-OFFSET',
              'LOG-END-OFFSET',
              'LAG',
              'CONSUMER-ID',
              'HOST',
              'CLIENT-ID',
            ],
            ...partitions.map((p) => [
              groupId,
              p.topic,
              p.partition,
              p.committedOffset >= 0 ? p.committedOffset : null,
              p.logEndOffset,
              p.lag,
              p.memberId,
              p.host,
              p.clientId,
            ]),
          ]);
        }),
    ),
  );

  groups.addCommand(
    sub('delete', 'delete a group (it must have no members)', (o) =>
      withAdmin('delete', o, async (admin) => {
        const groupId = requireGroup(o);
        await admin.deleteGroups([groupId]);
        if (o.json) printJson({ deleted: groupId });
        else
          process.stdout.write(
            `Deletion of requested consumer groups ('${groupId}') was successful.\n`,
          );
      }),
    ),
  );

  groups.addCommand(
    sub('reset-offsets', 'move committed offsets (prints the plan; --execute applies it)', (o) =>
      withAdmin('reset-offsets', o, async (admin) => {
        const groupId = requireGroup(o);
        if (!o.topic || o.topic.length === 0)
          throw new UsageError('--topic is required (repeatable)');
        const spec = resetSpec(o);
        const offsets = await admin.resetOffsets(groupId, { topics: o.topic }, spec, {
          dryRun: !o.execute,
        });
        if (o.json) {
          printJson({ group: groupId, executed: Boolean(o.execute), offsets });
          return;
        }
        printTable([
          ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
          ...offsets.map((x) => [groupId, x.topic, x.partition, x.offset]),
        ]);
        if (!o.execute)
          process.stderr.write('(dry run: nothing changed; add --execute to apply)\n');
      }),
    )
      .option('--topic <name>', 'topic whose partitions to reset (repeatable)', collect)
      .option('--to-earliest', 'to the log start offset')
      .option('--to-latest', 'to the log end offset')
      .option('--to-offset <n>', 'to an offset (clamped to the log)')
      .option('--to-datetime <iso>', 'to the first offset at or after a time')
      .option('--shift-by <n>', 'move by n (negative: back)')
      .option('--execute', 'apply the reset')
      .option('--dry-run', 'only print the plan (the default)'),
  );
  return groups;
}
