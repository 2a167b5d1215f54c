/**
 * The broker's configuration keys: Kafka's own names and defaults wherever Kafka has the setting
 * (so that a Kafka `server.properties` reads the same here), Brook-only keys otherwise.
 */

/** The value types a key can hold; `long` is a JavaScript number (exact up to 2^53). */
export type ConfigType = 'int' | 'long' | 'boolean' | 'string' | 'list' | 'double';

/** A parsed configuration value; `null` means "not set" for keys without a default. */
export type ConfigValue = number | boolean | string | string[] | null;

/** One configuration key: its type, default, bounds and documentation. */
export interface ConfigDef {
  readonly key: string;
  readonly type: ConfigType;
  /** The default, already parsed; `null` for keys that are unset unless given. */
  readonly default: ConfigValue;
  readonly doc: string;
  readonly min?: number;
  readonly max?: number;
  /** For `string` and `list` keys: the allowed values (lower case). */
  readonly choices?: readonly string[];
  /** True for keys only Brook has (shown in the docs; Kafka users will not know them). */
  readonly brookOnly?: boolean;
}

const INT_MAX = 2147483647;
/** Kafka's Long.MAX_VALUE defaults ("never") held as the largest exact JavaScript integer. */
export const LONG_MAX = Number.MAX_SAFE_INTEGER;

const defs: ConfigDef[] = [
  // Identity and storage location.
  { key: 'node.id', type: 'int', default: 0, min: 0, doc: 'The id of this broker.' },
  {
    key: 'log.dirs',
    type: 'string',
    default: null,
    doc: 'The data directory (one directory; overrides log.dir). Flag --data-dir, env BROOK_DATA_DIR.',
  },
  {
    key: 'log.dir',
    type: 'string',
    default: './brook-data',
    doc: 'The data directory when log.dirs is unset.',
  },
  // Listeners.
  {
    key: 'listeners',
    type: 'string',
    default: 'PLAINTEXT://localhost:9092',
    doc: 'The one listener, PLAINTEXT://host:port. Host "localhost" binds 127.0.0.1 and ::1; an empty host binds every interface. Flags --host/--port override its parts.',
  },
  {
    key: 'advertised.listeners',
    type: 'string',
    default: null,
    doc: 'The address given to clients in Metadata; defaults to the listener (with the bound port when port 0). Flag --advertised-host overrides its host.',
  },
  {
    key: 'advertised.host.name',
    type: 'string',
    default: null,
    doc: "Overrides only the host of the advertised address (Kafka's pre-3.0 key). Flag --advertised-host, env BROOK_ADVERTISED_HOST.",
  },
  // Topics.
  {
    key: 'num.partitions',
    type: 'int',
    default: 1,
    min: 1,
    doc: 'Partitions of an auto-created topic.',
  },
  {
    key: 'default.replication.factor',
    type: 'int',
    default: 1,
    min: 1,
    max: 32767,
    doc: 'Replication factor of an auto-created topic (a single broker serves 1 only).',
  },
  {
    key: 'auto.create.topics.enable',
    type: 'boolean',
    default: true,
    doc: 'Create a topic when Metadata asks for one that does not exist.',
  },
  { key: 'delete.topic.enable', type: 'boolean', default: true, doc: 'Allow DeleteTopics.' },
  // Log (storage) defaults; topics may override the matching topic-level keys.
  { key: 'log.retention.hours', type: 'int', default: 168, doc: 'Retention by time, in hours.' },
  {
    key: 'log.retention.minutes',
    type: 'int',
    default: null,
    doc: 'Retention by time, in minutes; wins over log.retention.hours.',
  },
  {
    key: 'log.retention.ms',
    type: 'long',
    default: null,
    min: -1,
    doc: 'Retention by time, in ms (-1: forever); wins over minutes and hours.',
  },
  {
    key: 'log.retention.bytes',
    type: 'long',
    default: -1,
    min: -1,
    doc: 'Retention by size per partition (-1: unbounded).',
  },
  {
    key: 'log.retention.check.interval.ms',
    type: 'long',
    default: 300000,
    min: 1,
    doc: 'How often retention is enforced.',
  },
  {
    key: 'log.segment.bytes',
    type: 'int',
    default: 1073741824,
    min: 14,
    doc: 'The size at which a segment is rolled.',
  },
  {
    key: 'log.roll.hours',
    type: 'int',
    default: 168,
    min: 1,
    doc: 'Roll a segment after this age, in hours.',
  },
  {
    key: 'log.roll.ms',
    type: 'long',
    default: null,
    min: 1,
    doc: 'Roll age in ms; wins over log.roll.hours.',
  },
  {
    key: 'log.segment.delete.delay.ms',
    type: 'long',
    default: 60000,
    min: 0,
    doc: 'Delay before a deleted segment file is removed.',
  },
  {
    key: 'log.index.interval.bytes',
    type: 'int',
    default: 4096,
    min: 0,
    doc: 'Bytes between offset index entries.',
  },
  {
    key: 'log.index.size.max.bytes',
    type: 'int',
    default: 10485760,
    min: 4,
    doc: 'Maximum size of an offset or time index file.',
  },
  {
    key: 'log.cleanup.policy',
    type: 'list',
    default: ['delete'],
    choices: ['delete', 'compact'],
    doc: 'delete, compact, or both.',
  },
  {
    key: 'log.cleaner.enable',
    type: 'boolean',
    default: true,
    doc: 'Run the log cleaner (compaction).',
  },
  {
    key: 'log.flush.interval.messages',
    type: 'long',
    default: LONG_MAX,
    min: 1,
    doc: 'fsync a partition after this many records.',
  },
  {
    key: 'log.flush.interval.ms',
    type: 'long',
    default: null,
    min: 0,
    doc: 'fsync a partition after data has waited this long (unset: log.flush.scheduler.interval.ms).',
  },
  {
    key: 'log.flush.scheduler.interval.ms',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'How often the flusher checks for partitions to fsync.',
  },
  {
    key: 'log.message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    choices: ['createtime', 'logappendtime'],
    doc: 'CreateTime or LogAppendTime.',
  },
  {
    key: 'log.message.timestamp.before.max.ms',
    type: 'long',
    default: LONG_MAX,
    min: 0,
    doc: 'How far in the past a record timestamp may be.',
  },
  {
    key: 'log.message.timestamp.after.max.ms',
    type: 'long',
    default: 3600000,
    min: 0,
    doc: 'How far in the future a record timestamp may be.',
  },
  {
    key: 'compression.type',
    type: 'string',
    default: 'producer',
    choices: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    doc: 'Compression of stored batches; producer keeps what the producer sent.',
  },
  {
    key: 'message.max.bytes',
    type: 'int',
    default: 1048588,
    min: 0,
    doc: 'The largest record batch a topic accepts.',
  },
  {
    key: 'min.insync.replicas',
    type: 'int',
    default: 1,
    min: 1,
    doc: 'Minimum in-sync replicas for acks=-1.',
  },
  // Network.
  {
    key: 'socket.request.max.bytes',
    type: 'int',
    default: 104857600,
    min: 1,
    doc: 'The largest request frame; a bigger size prefix closes the connection before any allocation.',
  },
  {
    key: 'connections.max.idle.ms',
    type: 'long',
    default: 600000,
    min: 1,
    doc: 'Close connections idle this long.',
  },
  {
    key: 'queued.max.requests',
    type: 'int',
    default: 500,
    min: 1,
    doc: 'Per connection (Kafka: per broker), the pipelined requests in flight before the connection stops being read.',
  },
  {
    key: 'socket.send.buffer.bytes',
    type: 'int',
    default: 102400,
    min: -1,
    doc: 'Accepted for compatibility; the OS sizes socket buffers.',
  },
  {
    key: 'socket.receive.buffer.bytes',
    type: 'int',
    default: 102400,
    min: -1,
    doc: 'Accepted for compatibility; the OS sizes socket buffers.',
  },
  {
    key: 'num.network.threads',
    type: 'int',
    default: 3,
    min: 1,
    doc: 'Accepted for compatibility; Brook is single-threaded.',
  },
  {
    key: 'num.io.threads',
    type: 'int',
    default: 8,
    min: 1,
    doc: 'Accepted for compatibility; Brook is single-threaded.',
  },
  {
    key: 'fetch.max.bytes',
    type: 'int',
    default: 57671680,
    min: 1024,
    doc: 'The most record bytes one Fetch response carries, whatever the client asks for.',
  },
  {
    key: 'max.incremental.fetch.session.cache.slots',
    type: 'int',
    default: 1000,
    min: 0,
    doc: 'Fetch sessions (KIP-227) kept at once; the least recently used is evicted.',
  },
  // Groups and offsets.
  {
    key: 'offsets.topic.num.partitions',
    type: 'int',
    default: 50,
    min: 1,
    doc: 'Partitions of __consumer_offsets.',
  },
  {
    key: 'offsets.topic.replication.factor',
    type: 'int',
    default: 1,
    min: 1,
    max: 32767,
    doc: 'Replication factor of __consumer_offsets (Kafka: 3; one broker here).',
  },
  {
    key: 'offsets.topic.segment.bytes',
    type: 'int',
    default: 104857600,
    min: 1,
    doc: 'Segment size of __consumer_offsets.',
  },
  {
    key: 'offsets.retention.minutes',
    type: 'int',
    default: 10080,
    min: 1,
    doc: 'How long committed offsets of an empty group are kept.',
  },
  {
    key: 'offsets.retention.check.interval.ms',
    type: 'int',
    default: 600000,
    min: 1,
    doc: 'How often expired committed offsets are removed.',
  },
  {
    key: 'offset.metadata.max.bytes',
    type: 'int',
    default: 4096,
    min: 0,
    doc: 'Longest metadata string an OffsetCommit may carry (OFFSET_METADATA_TOO_LARGE beyond).',
  },
  {
    key: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: 3000,
    min: 0,
    doc: 'Delay of the first rebalance of a new group, to let more members join.',
  },
  {
    key: 'group.min.session.timeout.ms',
    type: 'int',
    default: 6000,
    min: 0,
    doc: 'Smallest session timeout a member may ask for.',
  },
  {
    key: 'group.max.session.timeout.ms',
    type: 'int',
    default: 1800000,
    min: 0,
    doc: 'Largest session timeout a member may ask for.',
  },
  {
    key: 'group.max.size',
    type: 'int',
    default: INT_MAX,
    min: 1,
    doc: 'Most members in one group.',
  },
  // Transactions.
  {
    key: 'transaction.state.log.num.partitions',
    type: 'int',
    default: 50,
    min: 1,
    doc: 'Partitions of __transaction_state.',
  },
  {
    key: 'transaction.state.log.replication.factor',
    type: 'int',
    default: 1,
    min: 1,
    max: 32767,
    doc: 'Replication factor of __transaction_state (Kafka: 3; one broker here).',
  },
  {
    key: 'transaction.max.timeout.ms',
    type: 'int',
    default: 900000,
    min: 1,
    doc: 'Largest transaction timeout a producer may ask for.',
  },
  {
    key: 'transactional.id.expiration.ms',
    type: 'int',
    default: 604800000,
    min: 1,
    doc: 'Expire a transactional id idle this long.',
  },
  // Brook-only.
  {
    key: 'metrics.port',
    type: 'int',
    default: 9404,
    min: 0,
    max: 65535,
    brookOnly: true,
    doc: 'Port of the Prometheus /metrics endpoint (0: off). Flag --metrics-port.',
  },
  {
    key: 'metrics.host',
    type: 'string',
    default: '127.0.0.1',
    brookOnly: true,
    doc: 'Address the /metrics endpoint binds.',
  },
  {
    key: 'logger.level',
    type: 'string',
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    brookOnly: true,
    doc: 'Level of the broker log (JSON lines on stdout). Flag --log-level.',
  },
  {
    key: 'logger.format',
    type: 'string',
    default: 'json',
    choices: ['json', 'pretty'],
    brookOnly: true,
    doc: 'json: one JSON object per line (pino); pretty: one readable line per entry. Flag --log-format.',
  },
  {
    key: 'shutdown.timeout.ms',
    type: 'int',
    default: 30000,
    min: 0,
    brookOnly: true,
    doc: 'On SIGINT/SIGTERM, how long in-flight requests may take before connections are cut.',
  },
];

/** Every key the broker accepts, by name. */
export const CONFIG_DEFS: ReadonlyMap<string, ConfigDef> = new Map(defs.map((d) => [d.key, d]));
