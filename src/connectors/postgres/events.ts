/**
 * Debezium's event model for PostgreSQL: per-table Key/Value/Envelope schemas, the `source` block, transaction
 * metadata and heartbeat records.
 */
import type { Schema } from '../../sdk/schema.js';
import type { PgCdcConfig } from './config.js';
import { columnIncluded } from './config.js';
import { columnType, type Converter, type TypeInfo, type TypeOptions } from './types.js';
import type { TupleValue } from './pgoutput.js';

/** Tributary's stand-in for Debezium's version string in `source.version`. */
export const SOURCE_VERSION = '3.6.1.Final-tributary-0.1.0';

const SNAPSHOT_ENUM: Schema = {
  type: 'string',
  optional: true,
  name: 'io.debezium.data.Enum',
  version: 1,
  parameters: { allowed: 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental' },
  default: 'false',
};

export const SOURCE_SCHEMA: Schema = {
  type: 'struct',
  optional: false,
  name: 'io.debezium.connector.postgresql.Source',
  version: 1,
  fields: [
    { name: 'version', schema: { type: 'string', optional: false } },
    { name: 'connector', schema: { type: 'string', optional: false } },
    { name: 'name', schema: { type: 'string', optional: false } },
    { name: 'ts_ms', schema: { type: 'int64', optional: false } },
    { name: 'snapshot', schema: SNAPSHOT_ENUM },
    { name: 'db', schema: { type: 'string', optional: false } },
    { name: 'sequence', schema: { type: 'string', optional: true } },
    { name: 'ts_us', schema: { type: 'int64', optional: true } },
    { name: 'ts_ns', schema: { type: 'int64', optional: true } },
    { name: 'schema', schema: { type: 'string', optional: false } },
    { name: 'table', schema: { type: 'string', optional: false } },
    { name: 'txId', schema: { type: 'int64', optional: true } },
    { name: 'lsn', schema: { type: 'int64', optional: true } },
    { name: 'xmin', schema: { type: 'int64', optional: true } },
    // the replication origin of a change replayed by logical replication (pgoutput Origin message), else null
    { name: 'origin', schema: { type: 'string', optional: true } },
    { name: 'origin_lsn', schema: { type: 'int64', optional: true } },
  ],
};

export const TX_BLOCK_SCHEMA: Schema = {
  type: 'struct',
  optional: true,
  name: 'event.block',
  version: 1,
  fields: [
    { name: 'id', schema: { type: 'string', optional: false } },
    { name: 'total_order', schema: { type: 'int64', optional: false } },
    { name: 'data_collection_order', schema: { type: 'int64', optional: false } },
  ],
};

export const TX_KEY_SCHEMA: Schema = {
  type: 'struct', optional: false, name: 'io.debezium.connector.common.TransactionMetadataKey', version: 1,
  fields: [{ name: 'id', schema: { type: 'string', optional: false } }],
};

export const TX_VALUE_SCHEMA: Schema = {
  type: 'struct', optional: false, name: 'io.debezium.connector.common.TransactionMetadataValue', version: 1,
  fields: [
    { name: 'status', schema: { type: 'string', optional: false } },
    { name: 'id', schema: { type: 'string', optional: false } },
    { name: 'event_count', schema: { type: 'int64', optional: true } },
    {
      name: 'data_collections',
      schema: {
        type: 'array', optional: true,
        items: {
          type: 'struct', optional: true, name: 'event.collection', version: 1,
          fields: [
            { name: 'data_collection', schema: { type: 'string', optional: false } },
            { name: 'event_count', schema: { type: 'int64', optional: false } },
          ],
        },
      },
    },
    { name: 'ts_ms', schema: { type: 'int64', optional: false } },
  ],
};

export const HEARTBEAT_KEY_SCHEMA: Schema = {
  type: 'struct', optional: false, name: 'io.debezium.connector.common.ServerNameKey', version: 1,
  fields: [{ name: 'serverName', schema: { type: 'string', optional: false } }],
};

export const HEARTBEAT_VALUE_SCHEMA: Schema = {
  type: 'struct', optional: false, name: 'io.debezium.connector.common.Heartbeat', version: 1,
  fields: [{ name: 'ts_ms', schema: { type: 'int64', optional: false } }],
};

/** Debezium adjusts schema names to Avro rules: characters outside [A-Za-z0-9_] become '_' (dots separate parts). */
export function avroName(part: string): string {
  let out = part.replace(/[^A-Za-z0-9_]/g, '_');
  if (/^[0-9]/.test(out)) out = '_' + out;
  return out;
}

export interface CatalogColumn {
  notNull: boolean;
}

export interface CatalogTable {
  /** attname → facts */
  columns: Map<string, CatalogColumn>;
  /** primary-key column names in key order */
  primaryKey: string[];
}

/** One captured table at one point of the stream (rebuilt on every Relation message). */
export interface TableModel {
  oid: number;
  schema: string;
  table: string;
  /** "<schema>.<table>" */
  id: string;
  topic: string;
  replicaIdentity: string;
  /** per pgoutput column position: field name, or null when excluded */
  names: Array<string | null>;
  convs: Converter[];
  /** value put for an unchanged TOAST column ('u') */
  toast: unknown[];
  /**
   * value put for a null in a NOT NULL column: only a key-only before image (DELETE or key change under
   * REPLICA IDENTITY DEFAULT) has those; Debezium writes the type's zero value ('' / 0 / false / epoch), not null
   */
  fallback: unknown[];
  /** tuple positions of the key columns, in key order */
  keyIdx: number[];
  keyNames: string[];
  keySchema: Schema | null;
  valueSchema: Schema;
  envelopeSchema: Schema;
  /** snapshot bookkeeping: a row of this table was emitted */
  snapshotStarted?: boolean;
}

export interface ModelColumn {
  name: string;
  typeOid: number;
  typmod: number;
}

export function buildTableModel(
  cfg: PgCdcConfig,
  oid: number,
  schema: string,
  table: string,
  replicaIdentity: string,
  columns: ModelColumn[],
  catalog: CatalogTable | undefined,
  lookup: (oid: number) => TypeInfo | undefined,
): TableModel {
  const topts: TypeOptions = { decimalMode: cfg.decimalMode, timePrecisionMode: cfg.timePrecisionMode, moneyFractionDigits: cfg.moneyFractionDigits };
  const base = `${cfg.prefix.split('.').map(avroName).join('.')}.${avroName(schema)}.${avroName(table)}`;
  const names: Array<string | null> = [];
  const convs: Converter[] = [];
  const toast: unknown[] = [];
  const fallback: unknown[] = [];
  const fields: NonNullable<Schema['fields']> = [];
  const fieldByName = new Map<string, Schema>();
  for (const c of columns) {
    const included = columnIncluded(cfg, schema, table, c.name);
    const notNull = catalog?.columns.get(c.name)?.notNull ?? false;
    const t = columnType(c.typeOid, c.typmod, !notNull, topts, lookup);
    fieldByName.set(c.name, t.schema);
    names.push(included ? c.name : null);
    convs.push(t.convert);
    toast.push(toastPlaceholder(t.schema, cfg.placeholder));
    fallback.push(t.schema.optional ? null : t.zero !== undefined ? t.zero : zeroValue(t.schema));
    if (included) fields.push({ name: c.name, schema: t.schema });
  }
  // key: message.key.columns override, else the primary key
  const id = `${schema}.${table}`;
  let keyNames: string[] = catalog?.primaryKey ?? [];
  for (const kc of cfg.keyColumns) if (kc.table.test(id)) keyNames = kc.columns;
  keyNames = keyNames.filter((n) => columns.some((c) => c.name === n));
  const keyIdx = keyNames.map((n) => columns.findIndex((c) => c.name === n));
  const keySchema: Schema | null = keyNames.length
    ? {
      type: 'struct', optional: false, name: `${base}.Key`,
      fields: keyNames.map((n) => ({ name: n, schema: { ...fieldByName.get(n)!, optional: false } })),
    }
    : null;
  const valueSchema: Schema = { type: 'struct', optional: true, name: `${base}.Value`, fields };
  const envelopeSchema: Schema = {
    type: 'struct',
    optional: false,
    name: `${base}.Envelope`,
    version: 2,
    fields: [
      { name: 'before', schema: valueSchema },
      { name: 'after', schema: valueSchema },
      { name: 'source', schema: SOURCE_SCHEMA },
      { name: 'transaction', schema: TX_BLOCK_SCHEMA },
      { name: 'op', schema: { type: 'string', optional: false } },
      { name: 'ts_ms', schema: { type: 'int64', optional: true } },
      { name: 'ts_us', schema: { type: 'int64', optional: true } },
      { name: 'ts_ns', schema: { type: 'int64', optional: true } },
    ],
  };
  return {
    oid, schema, table, id, topic: `${cfg.prefix}.${schema}.${table}`, replicaIdentity,
    names, convs, toast, fallback, keyIdx, keyNames, keySchema, valueSchema, envelopeSchema,
  };
}

/**
 * Debezium's fallback for a required field without a value: the type's zero (null for an optional field), as its
 * value converters pass it (JdbcValueConverters/PostgresValueConverter `convertValue(…, fallback, …)`): false, 0,
 * 0.0, "", empty bytes, epoch for temporal types, "1970-01-01T00:00:00Z"/"00:00:00Z" for the zoned ones, an empty
 * array, zero decimals. Types whose zero is not derivable from the schema (point, string-mode decimals) carry it in
 * ColumnType.zero.
 */
export function zeroValue(schema: Schema): unknown {
  if (schema.optional) return null;
  switch (schema.name) {
    case 'io.debezium.time.ZonedTimestamp': return '1970-01-01T00:00:00Z';
    case 'io.debezium.time.ZonedTime': return '00:00:00Z';
    case 'org.apache.kafka.connect.data.Decimal': return '0';
    case 'io.debezium.data.VariableScaleDecimal': return { scale: 0, value: Buffer.from([0]) };
    default: break;
  }
  switch (schema.type) {
    case 'int8': case 'int16': case 'int32': case 'int64': case 'float32': case 'float64': return 0;
    case 'boolean': return false;
    case 'string': return '';
    case 'bytes': return Buffer.alloc(0);
    case 'array': return [];
    case 'map': return {};
    case 'struct': {
      const o: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) o[f.name] = zeroValue(f.schema);
      return o;
    }
    default: return null;
  }
}

function toastPlaceholder(schema: Schema, placeholder: string): unknown {
  if (schema.type === 'string') return placeholder;
  if (schema.type === 'bytes' && !schema.name) return Buffer.from(placeholder, 'utf8');
  if (schema.type === 'array' && schema.items?.type === 'string') return [placeholder];
  return null;
}

/** Converts a text tuple to a row struct (unchanged TOAST → placeholder). */
export function toRow(m: TableModel, t: TupleValue[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  const names = m.names;
  const n = names.length < t.length ? names.length : t.length;
  for (let i = 0; i < n; i++) {
    const name = names[i];
    if (name === null) continue;
    const v = t[i];
    row[name!] = v === null ? m.fallback[i] : v === undefined ? m.toast[i] : m.convs[i]!(v);
  }
  return row;
}

/** Key struct from a tuple, or null for a table without key. */
export function toKey(m: TableModel, t: TupleValue[]): Record<string, unknown> | null {
  if (!m.keySchema) return null;
  const key: Record<string, unknown> = {};
  for (let i = 0; i < m.keyIdx.length; i++) {
    const idx = m.keyIdx[i]!;
    const v = t[idx];
    key[m.keyNames[i]!] = v === null || v === undefined ? null : m.convs[idx]!(v);
  }
  return key;
}

/** true when the key columns of two tuples differ (an UPDATE that moved the row to another key) */
export function keyChanged(m: TableModel, oldT: TupleValue[], newT: TupleValue[]): boolean {
  for (const i of m.keyIdx) {
    const a = oldT[i];
    if (a === undefined) continue;
    if (a !== newT[i]) return true;
  }
  return false;
}

/** Java's `String.hashCode()`: s[0]·31^(n-1) + … + s[n-1] over UTF-16 code units, in 32-bit arithmetic. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Capacity of a `java.util.HashMap` (default initial capacity 16, load factor 0.75) after `size` distinct keys were
 * put into one that had `capacity` buckets: it doubles while size exceeds 3/4 of it, and never shrinks (clear()
 * keeps the table).
 */
export function hashMapCapacity(size: number, capacity = 16): number {
  let c = capacity;
  while (size > c * 0.75) c *= 2;
  return c;
}

/**
 * The iteration order of a `java.util.HashMap` with `capacity` buckets holding `keys` (String keys, in insertion
 * order): by bucket `(h ^ (h >>> 16)) & (capacity - 1)` of the key's hashCode, insertion order within a bucket
 * (appends and resize splits both keep it). Debezium lists an END record's data_collections in this order. Not
 * modelled: bins turned into trees (8 or more keys in one bucket of a table of at least 64 buckets).
 */
export function javaHashMapOrder(keys: string[], capacity: number): string[] {
  if (keys.length < 2) return keys;
  const mask = capacity - 1;
  const bucket = (k: string) => {
    const h = javaStringHash(k);
    return (h ^ (h >>> 16)) & mask;
  };
  return keys.map((k, i) => ({ k, i, b: bucket(k) })).sort((x, y) => x.b - y.b || x.i - y.i).map((x) => x.k);
}
