import type { ConfigSpec } from '../../sdk/config.js';

export const MODES = ['bulk', 'incrementing', 'timestamp', 'timestamp+incrementing'] as const;
export type Mode = (typeof MODES)[number];

/** Confluent JDBC source connector keys and defaults (io.confluent.connect.jdbc.JdbcSourceConnector). */
export const jdbcSourceSpec: ConfigSpec = {
  name: 'JDBC source (io.confluent.connect.jdbc.JdbcSourceConnector)',
  passthroughPrefixes: ['connection.'],
  keys: [
    { name: 'connection.url', type: 'string', importance: 'high', group: 'Database', doc: 'JDBC URL, e.g. jdbc:postgresql://host:5432/db?sslmode=require. user, password and sslmode parameters are honoured.',
      validate: (v) => (/^jdbc:postgresql:\/\//i.test(String(v)) ? undefined : `unsupported URL '${String(v).replace(/password=[^&]*/i, 'password=[hidden]')}': expected jdbc:postgresql://host:port/database`) },
    { name: 'connection.user', type: 'string', default: null, group: 'Database', doc: 'Database user (overrides the URL\'s user parameter).' },
    { name: 'connection.password', type: 'password', default: null, group: 'Database', doc: 'Database password (overrides the URL\'s password parameter). Masked in every output.' },
    { name: 'connection.attempts', type: 'int', default: 3, min: 1, group: 'Database', doc: 'Connection attempts before a poll fails.' },
    { name: 'connection.backoff.ms', type: 'long', default: 10000, min: 0, group: 'Database', doc: 'Wait between connection attempts.' },
    { name: 'connection.sslrootcert', type: 'string', default: null, group: 'Database', doc: 'CA certificate file for sslmode=verify-ca/verify-full (also the URL\'s sslrootcert).' },
    { name: 'table.whitelist', type: 'list', default: [], group: 'Database', aliases: ['table.include.list'], doc: 'Tables to capture (legacy name table.whitelist); empty = all tables. Names may be schema-qualified.' },
    { name: 'table.blacklist', type: 'list', default: [], group: 'Database', aliases: ['table.exclude.list'], doc: 'Tables to skip (legacy name table.blacklist).' },
    { name: 'schema.pattern', type: 'string', default: null, group: 'Database', doc: 'Schema to list tables from (LIKE pattern); default: every schema on the search_path except system ones.' },
    { name: 'catalog.pattern', type: 'string', default: null, group: 'Database', doc: 'Accepted for compatibility (PostgreSQL has one catalog per connection).' },
    { name: 'table.types', type: 'list', default: ['TABLE'], group: 'Database', doc: 'Object types to capture: TABLE, VIEW, MATERIALIZED VIEW, FOREIGN TABLE, PARTITIONED TABLE.' },
    { name: 'table.poll.interval.ms', type: 'long', default: 60000, group: 'Database', doc: 'How often the table list is refreshed.' },
    { name: 'db.timezone', type: 'string', default: 'UTC', group: 'Database', doc: 'Time zone of TIMESTAMP WITHOUT TIME ZONE values.',
      // UTC needs no check (the first Intl time-zone lookup of a process loads ICU's zone data: ~40 ms)
      validate: (v) => { if (v === 'UTC') return undefined; try { new Intl.DateTimeFormat('en-US', { timeZone: String(v) }); return undefined; } catch { return `unknown time zone '${String(v)}'`; } } },
    { name: 'sql.quote.identifiers', type: 'boolean', default: true, group: 'Database', doc: 'Legacy switch; see quote.sql.identifiers.' },
    { name: 'quote.sql.identifiers', type: 'string', default: 'always', oneOf: ['always', 'never'], group: 'Database', doc: 'Quote table and column names in generated SQL. Names from config are always escaped safely.' },
    { name: 'mode', type: 'string', oneOf: MODES, importance: 'high', group: 'Mode', doc: 'bulk, incrementing, timestamp or timestamp+incrementing.' },
    { name: 'incrementing.column.name', type: 'string', default: '', group: 'Mode', doc: 'Strictly increasing NOT NULL column for incrementing modes; empty = autodetect a serial/identity column.' },
    { name: 'incrementing.relaxed.monotonic', type: 'boolean', default: false, group: 'Mode', doc: 'Accepted for compatibility; Tributary always tracks transactions still in progress.' },
    { name: 'timestamp.column.name', type: 'list', default: [], group: 'Mode', doc: 'Timestamp column(s) for timestamp modes; several are combined with COALESCE.' },
    { name: 'timestamp.initial', type: 'long', default: null, group: 'Mode', doc: 'Start from this epoch-ms timestamp; -1 = now; unset = everything.' },
    { name: 'timestamp.delay.interval.ms', type: 'long', default: 0, min: 0, group: 'Mode', doc: 'Only read rows with a timestamp older than now minus this delay.' },
    { name: 'timestamp.granularity', type: 'string', default: 'connect_logical', oneOf: ['connect_logical', 'nanos_long', 'nanos_string', 'nanos_iso_datetime_string'], group: 'Mode', doc: 'Representation of timestamp columns.' },
    { name: 'validate.non.null', type: 'boolean', default: true, group: 'Mode', doc: 'Check that the incrementing/timestamp columns are NOT NULL at start.' },
    { name: 'query', type: 'string', default: '', group: 'Mode', doc: 'Custom query instead of tables; topic.prefix is then the whole topic name and a WHERE clause is appended for incremental modes.' },
    { name: 'query.suffix', type: 'string', default: '', group: 'Mode', doc: 'Appended to generated queries (e.g. a hint or FOR UPDATE SKIP LOCKED).' },
    { name: 'query.retry.attempts', type: 'int', default: -1, group: 'Mode', doc: 'Accepted for compatibility; failed queries are retried with backoff.' },
    { name: 'topic.prefix', type: 'string', importance: 'high', group: 'Connector', doc: 'Topic = prefix + table name (or the whole topic name in query mode).' },
    { name: 'poll.interval.ms', type: 'long', default: 5000, min: 0, group: 'Connector', doc: 'Wait between polls of a table that returned no new rows.' },
    { name: 'batch.max.rows', type: 'int', default: 1000, min: 1, group: 'Connector', doc: 'Maximum rows per batch handed to the runtime (one Execute of the statement\'s portal; at most two batches are read ahead).' },
    { name: 'numeric.mapping', type: 'string', default: 'none', oneOf: ['none', 'precision_only', 'best_fit', 'best_fit_eager_double'], group: 'Connector', doc: 'How NUMERIC maps: none = Connect Decimal; precision_only/best_fit = integers or doubles where exact.' },
    { name: 'numeric.precision.mapping', type: 'boolean', default: false, group: 'Connector', doc: 'Legacy form of numeric.mapping=precision_only.' },
    { name: 'dialect.name', type: 'string', default: '', group: 'Connector', doc: 'Accepted for compatibility; the dialect is taken from the URL.' },
    { name: 'transaction.isolation.mode', type: 'string', default: 'DEFAULT', group: 'Connector', doc: 'Accepted for compatibility; each statement Tributary reads with sees one snapshot (a bulk scan: the whole table at one instant).' },
    { name: 'table.monitoring.startup.polling.limit.ms', type: 'long', default: 10000, group: 'Connector', doc: 'Accepted for compatibility.' },
  ],
  check(cfg) {
    const out: Array<[string, string]> = [];
    const mode = cfg['mode'] as string;
    if (mode === 'timestamp' || mode === 'timestamp+incrementing') {
      if (!(cfg['timestamp.column.name'] as string[]).length) out.push(['timestamp.column.name', `Missing required configuration 'timestamp.column.name' for mode=${mode}`]);
    }
    if ((cfg['table.whitelist'] as string[]).length && (cfg['table.blacklist'] as string[]).length) {
      out.push(['table.blacklist', 'table.whitelist (table.include.list) and table.blacklist (table.exclude.list) cannot both be set']);
    }
    return out;
  },
};
