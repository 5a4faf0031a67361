/** Configuration of the PostgreSQL CDC connector: Debezium's keys and defaults, plus a few Tributary-specific ones. */
import { tmpdir } from 'node:os';
import type { ConfigKey, ConfigSpec, ResolvedConfig } from '../../sdk/config.js';
import { validateSlotName } from './replication/connection.js';
import { resolveConfig, configError } from '../../runtime/config.js';
import { commonConnectorSpec } from '../../runtime/common-spec.js';

const regexList = (v: unknown): string | undefined => {
  for (const r of v as string[]) {
    try {
      new RegExp(`^(?:${r})$`);
    } catch (e) {
      return `'${r}' is not a valid regular expression: ${(e as Error).message}`;
    }
  }
  return undefined;
};

const keys: ConfigKey[] = [
  { name: 'database.hostname', type: 'string', doc: 'PostgreSQL host name or address.', importance: 'high', group: 'connection' },
  { name: 'database.port', type: 'int', default: 5432, min: 1, max: 65535, doc: 'PostgreSQL port.', group: 'connection' },
  { name: 'database.user', type: 'string', doc: 'Role used to connect; needs REPLICATION and SELECT on the captured tables.', importance: 'high', group: 'connection' },
  { name: 'database.password', type: 'password', default: null, required: false, secret: true, doc: 'Password of the role.', group: 'connection' },
  { name: 'database.dbname', type: 'string', doc: 'Database to capture.', importance: 'high', group: 'connection' },
  {
    name: 'database.sslmode', type: 'string', default: 'prefer', oneOf: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'],
    doc: 'TLS mode, as libpq: disable, allow/prefer (TLS when the server offers it, unverified), require (TLS, unverified), verify-ca (TLS, certificate chain checked), verify-full (chain and host name checked).', group: 'connection',
  },
  { name: 'database.sslrootcert', type: 'string', default: null, required: false, doc: 'PEM file with the CA certificate(s) for verify-ca / verify-full.', group: 'connection' },
  { name: 'database.sslcert', type: 'string', default: null, required: false, doc: 'PEM client certificate file.', group: 'connection' },
  { name: 'database.sslkey', type: 'string', default: null, required: false, doc: 'PEM client key file.', group: 'connection' },
  { name: 'database.connect.timeout.ms', type: 'int', default: 30000, min: 1, doc: 'Connection timeout.', group: 'connection' },
  {
    name: 'topic.prefix', type: 'string', importance: 'high',
    doc: 'Logical server name: prefix of every topic (<topic.prefix>.<schema>.<table>) and the source partition.',
    validate: (v) => (/^[A-Za-z0-9._-]+$/.test(String(v)) ? undefined : 'may contain only letters, digits, dots, dashes and underscores'),
  },
  { name: 'schema.include.list', type: 'list', default: [], doc: 'Regular expressions (anchored) of schema names to capture.', validate: regexList, group: 'filters' },
  { name: 'schema.exclude.list', type: 'list', default: [], doc: 'Regular expressions (anchored) of schema names not to capture.', validate: regexList, group: 'filters' },
  { name: 'table.include.list', type: 'list', default: [], doc: 'Regular expressions (anchored) of <schema>.<table> names to capture.', validate: regexList, group: 'filters' },
  { name: 'table.exclude.list', type: 'list', default: [], doc: 'Regular expressions (anchored) of <schema>.<table> names not to capture.', validate: regexList, group: 'filters' },
  { name: 'column.include.list', type: 'list', default: [], doc: 'Regular expressions (anchored) of <schema>.<table>.<column> names to include in events.', validate: regexList, group: 'filters' },
  { name: 'column.exclude.list', type: 'list', default: [], doc: 'Regular expressions (anchored) of <schema>.<table>.<column> names to leave out of events.', validate: regexList, group: 'filters' },
  { name: 'plugin.name', type: 'string', default: 'pgoutput', oneOf: ['pgoutput'], doc: 'Logical decoding plug-in; only pgoutput (built into PostgreSQL) is supported.' },
  { name: 'slot.name', type: 'string', default: 'debezium', doc: 'Replication slot name.', validate: (v) => validateSlotName(String(v)) },
  { name: 'slot.drop.on.stop', type: 'boolean', default: false, doc: 'Drop the slot when the task stops (tests only: changes made while stopped are lost).' },
  { name: 'publication.name', type: 'string', default: 'dbz_publication', doc: 'Publication that selects the captured tables.', validate: (v) => (/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(String(v)) ? undefined : 'must be a plain identifier of at most 63 characters') },
  {
    name: 'publication.autocreate.mode', type: 'string', default: 'all_tables', oneOf: ['all_tables', 'disabled', 'filtered'],
    doc: 'all_tables: create the publication FOR ALL TABLES when missing (needs superuser); filtered: create or update it FOR TABLE the filtered tables (needs table ownership); disabled: it must exist.',
  },
  {
    name: 'snapshot.mode', type: 'string', default: 'initial', oneOf: ['initial', 'always', 'initial_only', 'no_data', 'never', 'when_needed'],
    doc: 'initial: snapshot when no offset exists, then stream; always: snapshot at every start; initial_only: snapshot, then stop; no_data (alias never): stream only; when_needed: snapshot when no offset exists or the slot position was lost.',
  },
  { name: 'snapshot.max.threads', type: 'int', default: 1, min: 1, max: 16, doc: 'Tables read in parallel during the snapshot.' },
  { name: 'snapshot.fetch.size', type: 'int', default: 2048, min: 1, doc: 'Rows fetched per round trip during the snapshot (Debezium: 10240; fewer rows alive at once keep the heap smaller at the same rate).' },
  { name: 'heartbeat.interval.ms', type: 'int', default: 0, min: 0, doc: 'Emit a heartbeat record this often (0 = off); its acknowledgement advances the slot even when captured tables are idle.' },
  { name: 'heartbeat.action.query', type: 'string', default: null, required: false, doc: 'SQL run on every heartbeat (e.g. an UPDATE of a heartbeat table in the publication) so the slot advances on an otherwise idle database.' },
  { name: 'topic.heartbeat.prefix', type: 'string', default: '__debezium-heartbeat', doc: 'Heartbeat topic prefix: <prefix>.<topic.prefix>.' },
  { name: 'tombstones.on.delete', type: 'boolean', default: true, doc: 'Follow each delete event with a tombstone (null value) for log compaction.' },
  { name: 'provide.transaction.metadata', type: 'boolean', default: false, doc: 'Emit BEGIN/END records to <topic.prefix>.transaction and a transaction block in each event.' },
  { name: 'topic.transaction', type: 'string', default: 'transaction', doc: 'Suffix of the transaction metadata topic.' },
  { name: 'message.key.columns', type: 'string', default: null, required: false, doc: 'Key columns per table: <table regex>:<col>,<col>;<table regex>:<col>…' },
  { name: 'decimal.handling.mode', type: 'string', default: 'precise', oneOf: ['precise', 'double', 'string'], doc: 'numeric/decimal/money as Connect Decimal (precise), float64 (double) or text (string).' },
  { name: 'time.precision.mode', type: 'string', default: 'adaptive', oneOf: ['adaptive', 'adaptive_time_microseconds', 'connect'], doc: 'Temporal representation: adaptive (by column precision), adaptive_time_microseconds, connect (Connect logical types, ms).' },
  { name: 'money.fraction.digits', type: 'int', default: 2, min: 0, max: 10, doc: 'Scale of money values.' },
  { name: 'unavailable.value.placeholder', type: 'string', default: '__debezium_unavailable_value', doc: 'Value put in place of an unchanged TOASTed column that the server did not send.' },
  { name: 'skipped.operations', type: 'list', default: ['t'], doc: 'Operations not emitted: any of c, u, d, t, or none.', validate: (v) => ((v as string[]).every((x) => ['c', 'u', 'd', 't', 'none'].includes(x)) ? undefined : 'allowed: c, u, d, t, none') },
  { name: 'max.batch.size', type: 'int', default: 1024, min: 1, doc: 'Records returned by one poll at most (Debezium: 2048; smaller here to bound memory, see docs/postgres-cdc.md).' },
  { name: 'max.queue.size', type: 'int', default: 1024, min: 1, doc: 'Records buffered ahead of the runtime at most; reading from PostgreSQL pauses above it (Debezium: 8192; the runtime keeps its own in-flight window behind it).' },
  { name: 'max.inflight.records', type: 'int', default: 2048, min: 1, doc: 'Records polled but not yet acknowledged by the platform; polling waits above this (runtime default 20000; smaller for CDC to keep a large transaction within ~200 MB RSS).' },
  {
    name: 'max.queue.size.in.bytes', type: 'long', default: 67108864, min: 0,
    doc: 'Approximate bytes buffered ahead of the runtime at most (default 64 MiB; Debezium defaults to 0 = unbounded, which Tributary treats as the default bound).',
  },
  { name: 'status.update.interval.ms', type: 'int', default: 10000, min: 100, doc: 'Standby status update period (write/flush LSN to the server).' },
  { name: 'streaming.buffer.memory.bytes', type: 'long', default: 4194304, min: 0, doc: 'Tributary: memory per in-progress streamed transaction before it spills to disk.' },
  { name: 'streaming.buffer.dir', type: 'string', default: tmpdir(), doc: 'Tributary: directory for spilled streamed transactions.' },
  {
    name: 'extended.headers.enabled', type: 'boolean', default: true,
    doc: 'Put Debezium\'s context headers on every change event and tombstone: __debezium.context.connectorLogicalName (topic.prefix), …taskId, …connectorName (postgresql), …runId (a UUID per task start).',
  },
  { name: 'poll.interval.ms', type: 'long', default: 500, min: 1, doc: 'How long a poll waits for new records when none are queued.' },
  { name: 'database.tcpKeepAlive', type: 'boolean', default: true, doc: 'TCP keepalive on the connections to PostgreSQL.', group: 'connection' },
  // Debezium keys accepted for compatibility: the behaviour they select is what Tributary does (docs/postgres-cdc.md)
  {
    name: 'include.unknown.datatypes', type: 'boolean', default: false,
    doc: 'Accepted for compatibility with Debezium. Tributary always emits columns of types without a Debezium converter (box, circle, line, lseg, path, polygon, pg_lsn, extension types) as their PostgreSQL text, where Debezium drops them (false) or emits their bytes (true).',
  },
  { name: 'table.ignore.builtin', type: 'boolean', default: true, doc: 'Accepted for compatibility: system tables are never captured.' },
  { name: 'interval.handling.mode', type: 'string', default: 'numeric', oneOf: ['numeric'], doc: 'interval as µs (io.debezium.time.MicroDuration); Debezium\'s string mode is not available.' },
  { name: 'binary.handling.mode', type: 'string', default: 'bytes', oneOf: ['bytes'], doc: 'bytea as bytes; Debezium\'s base64/base64-url-safe/hex modes are not available.' },
  { name: 'schema.refresh.mode', type: 'string', default: 'columns_diff', oneOf: ['columns_diff'], doc: 'Table schemas follow each Relation message of the stream (Debezium\'s columns_diff).' },
  { name: 'snapshot.locking.mode', type: 'string', default: 'none', oneOf: ['none'], doc: 'The snapshot takes no table locks (it reads the slot\'s exported snapshot).' },
  { name: 'event.processing.failure.handling.mode', type: 'string', default: 'fail', oneOf: ['fail'], doc: 'An event that cannot be processed fails the task (errors.tolerance governs transforms and converters).' },
  { name: 'skip.messages.without.change', type: 'boolean', default: false, doc: 'Only false (every update is emitted) is available.', validate: (v) => (v === true ? 'only false is available: every update is emitted' : undefined) },
  { name: 'xmin.fetch.interval.ms', type: 'long', default: 0, min: 0, max: 0, doc: 'Only 0 is available: source.xmin is always null.' },
  { name: 'slot.max.retries', type: 'int', default: 6, min: 0, doc: 'Accepted for compatibility: a slot in use by another connection is retried with the runtime\'s backoff, without limit.' },
  { name: 'slot.retry.delay.ms', type: 'long', default: 10000, min: 0, doc: 'Accepted for compatibility: see slot.max.retries.' },
  { name: 'retriable.restart.connector.wait.ms', type: 'long', default: 10000, min: 0, doc: 'Accepted for compatibility: retriable errors are retried with the runtime\'s backoff (errors.retry.delay.max.ms).' },
  { name: 'custom.metric.tags', type: 'string', default: null, required: false, doc: 'Accepted for compatibility (Debezium\'s JMX metric tags); not used.' },
];

export const postgresCdcSpec: ConfigSpec = {
  name: 'postgres-cdc',
  keys,
  passthroughPrefixes: ['transforms', 'key.converter', 'value.converter', 'header.converter', 'errors.', 'predicates'],
  check: (cfg) => {
    const out: Array<[string, string]> = [];
    if (cfg['message.key.columns']) {
      for (const part of String(cfg['message.key.columns']).split(';').filter((x) => x.trim())) {
        const i = part.lastIndexOf(':');
        if (i <= 0 || !part.slice(i + 1).trim()) out.push(['message.key.columns', `'${part}' must be <table regex>:<column>[,<column>…]`]);
      }
    }
    if ((cfg['database.sslmode'] === 'verify-ca' || cfg['database.sslmode'] === 'verify-full') && !cfg['database.sslrootcert']) {
      // allowed: the system CA store is used
    }
    return out;
  },
};

export interface PgCdcConfig {
  host: string;
  port: number;
  user: string;
  password: string | null;
  dbname: string;
  sslmode: string;
  sslrootcert: string | null;
  sslcert: string | null;
  sslkey: string | null;
  connectTimeoutMs: number;
  prefix: string;
  schemaInclude: RegExp[];
  schemaExclude: RegExp[];
  tableInclude: RegExp[];
  tableExclude: RegExp[];
  columnInclude: RegExp[];
  columnExclude: RegExp[];
  slotName: string;
  slotDropOnStop: boolean;
  publicationName: string;
  publicationAutocreate: 'all_tables' | 'disabled' | 'filtered';
  snapshotMode: 'initial' | 'always' | 'initial_only' | 'no_data' | 'when_needed';
  snapshotThreads: number;
  snapshotFetchSize: number;
  heartbeatIntervalMs: number;
  heartbeatActionQuery: string | null;
  heartbeatTopicPrefix: string;
  tombstones: boolean;
  txMetadata: boolean;
  txTopic: string;
  keyColumns: Array<{ table: RegExp; columns: string[] }>;
  decimalMode: 'precise' | 'double' | 'string';
  timePrecisionMode: 'adaptive' | 'adaptive_time_microseconds' | 'connect';
  moneyFractionDigits: number;
  placeholder: string;
  skipped: Set<string>;
  maxBatch: number;
  maxQueue: number;
  maxQueueBytes: number;
  statusIntervalMs: number;
  streamBufferBytes: number;
  streamBufferDir: string;
  extendedHeaders: boolean;
  pollIntervalMs: number;
  tcpKeepAlive: boolean;
}

const anchored = (list: unknown): RegExp[] => ((list as string[]) ?? []).map((r) => new RegExp(`^(?:${r})$`));

/**
 * Resolves the connector's own keys. The worker hands the connector and its task the whole connector config,
 * including the keys every connector accepts (name, connector.class, converters, offset.flush.interval.ms, …):
 * those are the runtime's and are let through here.
 */
export function resolvePgCdcConfig(raw: Record<string, unknown>): PgCdcConfig {
  const common = new Set(commonConnectorSpec.keys.map((k) => k.name));
  const prefixes = commonConnectorSpec.passthroughPrefixes ?? [];
  const { values, problems } = resolveConfig(postgresCdcSpec, raw, { allowUnknown: (k) => common.has(k) || prefixes.some((p) => k.startsWith(p)) });
  if (problems.length) throw configError(postgresCdcSpec.name, problems);
  return toPgCdcConfig(values);
}

export function toPgCdcConfig(c: ResolvedConfig): PgCdcConfig {
  const mode = String(c['snapshot.mode']);
  const keyColumns: PgCdcConfig['keyColumns'] = [];
  if (c['message.key.columns']) {
    for (const part of String(c['message.key.columns']).split(';').map((x) => x.trim()).filter(Boolean)) {
      const i = part.lastIndexOf(':');
      keyColumns.push({ table: new RegExp(`^(?:${part.slice(0, i)})$`), columns: part.slice(i + 1).split(',').map((x) => x.trim()).filter(Boolean) });
    }
  }
  const maxBytes = Number(c['max.queue.size.in.bytes']);
  return {
    host: String(c['database.hostname']),
    port: Number(c['database.port']),
    user: String(c['database.user']),
    password: (c['database.password'] as string | null) ?? null,
    dbname: String(c['database.dbname']),
    sslmode: String(c['database.sslmode']),
    sslrootcert: (c['database.sslrootcert'] as string | null) ?? null,
    sslcert: (c['database.sslcert'] as string | null) ?? null,
    sslkey: (c['database.sslkey'] as string | null) ?? null,
    connectTimeoutMs: Number(c['database.connect.timeout.ms']),
    prefix: String(c['topic.prefix']),
    schemaInclude: anchored(c['schema.include.list']),
    schemaExclude: anchored(c['schema.exclude.list']),
    tableInclude: anchored(c['table.include.list']),
    tableExclude: anchored(c['table.exclude.list']),
    columnInclude: anchored(c['column.include.list']),
    columnExclude: anchored(c['column.exclude.list']),
    slotName: String(c['slot.name']),
    slotDropOnStop: Boolean(c['slot.drop.on.stop']),
    publicationName: String(c['publication.name']),
    publicationAutocreate: String(c['publication.autocreate.mode']) as PgCdcConfig['publicationAutocreate'],
    snapshotMode: (mode === 'never' ? 'no_data' : mode) as PgCdcConfig['snapshotMode'],
    snapshotThreads: Number(c['snapshot.max.threads']),
    snapshotFetchSize: Number(c['snapshot.fetch.size']),
    heartbeatIntervalMs: Number(c['heartbeat.interval.ms']),
    heartbeatActionQuery: (c['heartbeat.action.query'] as string | null) ?? null,
    heartbeatTopicPrefix: String(c['topic.heartbeat.prefix']),
    tombstones: Boolean(c['tombstones.on.delete']),
    txMetadata: Boolean(c['provide.transaction.metadata']),
    txTopic: String(c['topic.transaction']),
    keyColumns,
    decimalMode: String(c['decimal.handling.mode']) as PgCdcConfig['decimalMode'],
    timePrecisionMode: String(c['time.precision.mode']) as PgCdcConfig['timePrecisionMode'],
    moneyFractionDigits: Number(c['money.fraction.digits']),
    placeholder: String(c['unavailable.value.placeholder']),
    skipped: new Set(((c['skipped.operations'] as string[]) ?? []).filter((x) => x !== 'none')),
    maxBatch: Number(c['max.batch.size']),
    maxQueue: Number(c['max.queue.size']),
    maxQueueBytes: maxBytes > 0 ? maxBytes : 67108864,
    statusIntervalMs: Number(c['status.update.interval.ms']),
    streamBufferBytes: Number(c['streaming.buffer.memory.bytes']),
    streamBufferDir: String(c['streaming.buffer.dir']),
    extendedHeaders: c['extended.headers.enabled'] !== false,
    pollIntervalMs: Number(c['poll.interval.ms']),
    tcpKeepAlive: c['database.tcpKeepAlive'] !== false,
  };
}

/** Table filter: schema and table include/exclude lists (anchored regexes; include lists empty = everything). */
export function tableIncluded(cfg: PgCdcConfig, schema: string, table: string): boolean {
  if (cfg.schemaInclude.length && !cfg.schemaInclude.some((r) => r.test(schema))) return false;
  if (cfg.schemaExclude.some((r) => r.test(schema))) return false;
  const fq = `${schema}.${table}`;
  if (cfg.tableInclude.length && !cfg.tableInclude.some((r) => r.test(fq))) return false;
  if (cfg.tableExclude.some((r) => r.test(fq))) return false;
  return true;
}

export function columnIncluded(cfg: PgCdcConfig, schema: string, table: string, column: string): boolean {
  const fq = `${schema}.${table}.${column}`;
  if (cfg.columnInclude.length && !cfg.columnInclude.some((r) => r.test(fq))) return false;
  if (cfg.columnExclude.some((r) => r.test(fq))) return false;
  return true;
}
