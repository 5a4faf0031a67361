import type pg from 'pg';
import { TributaryError } from '../../sdk/errors.js';
import type { PgColumn } from './pg-types.js';

export interface TableRef {
  schema: string;
  table: string;
}

const KINDS: Record<string, string> = { TABLE: 'r', VIEW: 'v', 'MATERIALIZED VIEW': 'm', 'FOREIGN TABLE': 'f', 'PARTITIONED TABLE': 'p' };

/** Lists capturable tables: types from table.types, optional schema LIKE pattern, readable by the user. */
export async function listTables(client: pg.Client, opts: { types: string[]; schemaPattern: string | null }): Promise<TableRef[]> {
  const kinds = opts.types.map((t) => KINDS[t.toUpperCase()]).filter((k): k is string => !!k);
  const params: unknown[] = [kinds.length ? kinds : ['r']];
  let sql = `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = ANY($1::"char"[]) AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      AND n.nspname NOT LIKE 'pg\\_temp%' AND NOT c.relispartition AND has_table_privilege(c.oid, 'SELECT')`;
  if (opts.schemaPattern) {
    params.push(opts.schemaPattern);
    sql += ` AND n.nspname LIKE $2`;
  }
  sql += ' ORDER BY 1, 2';
  const r = await client.query({ text: sql, values: params, rowMode: 'array' });
  return (r.rows as string[][]).map(([schema, table]) => ({ schema: schema!, table: table! }));
}

/** Does a configured table name (`t` or `schema.t`) name this table? */
export function nameMatches(name: string, t: TableRef): boolean {
  return name === t.table || name === `${t.schema}.${t.table}`;
}

/** Applies table.whitelist/blacklist; with no whitelist, tables of the same name in several schemas are kept. */
export function selectTables(all: TableRef[], include: string[], exclude: string[]): TableRef[] {
  let out = all;
  if (include.length) out = out.filter((t) => include.some((n) => nameMatches(n, t)));
  if (exclude.length) out = out.filter((t) => !exclude.some((n) => nameMatches(n, t)));
  return out;
}

export interface TableMeta {
  columns: PgColumn[];
  /** serial/identity column, for incrementing-column autodetection */
  autoIncrement: string | null;
}

/** Columns of a table in attnum order, with types, NOT NULL, domains resolved to their base type. */
export async function tableMeta(client: pg.Client, t: TableRef): Promise<TableMeta> {
  const r = await client.query({
    text: `SELECT a.attname, a.atttypid::int, t.typname, t.typtype, t.typcategory, a.atttypmod, a.attnotnull,
                  bt.typname AS basetype, a.attidentity::text,
                  coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false) AS serial, bt.oid::int AS baseoid
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum`,
    values: [t.schema, t.table],
    rowMode: 'array',
  });
  if (!r.rows.length) {
    throw new TributaryError('source.query', `Table ${t.schema}.${t.table} not found or has no columns`, { hint: 'check table.whitelist and the user\'s privileges' });
  }
  let autoIncrement: string | null = null;
  const columns = (r.rows as unknown[][]).map((row) => {
    const [name, oid, typname, typtype, typcat, typmod, notnull, basetype, identity, serial, baseoid] = row as [string, string, string, string, string, string, string, string | null, string, string, string | null];
    const col: PgColumn = {
      name,
      typeOid: Number(oid),
      typeName: typname,
      typeType: typtype,
      typeCategory: typcat,
      typmod: Number(typmod),
      notNull: notnull === 't' || notnull === 'true',
    };
    if (basetype) col.baseTypeName = basetype;
    if (baseoid) col.baseTypeOid = Number(baseoid);
    if (autoIncrement === null && ((identity && identity !== '') || serial === 't' || serial === 'true')) autoIncrement = name;
    return col;
  });
  return { columns, autoIncrement };
}

export interface Snapshot {
  xmin: bigint;
  xmax: bigint;
  xip: bigint[];
}

/** Parses pg_snapshot text `xmin:xmax:xip,xip`. */
export function parseSnapshot(text: string): Snapshot {
  const [a, b, c] = text.split(':');
  return { xmin: BigInt(a!), xmax: BigInt(b!), xip: c ? c.split(',').filter(Boolean).map((x) => BigInt(x)) : [] };
}

/** Was this transaction finished (committed or aborted) when the snapshot was taken? */
export function finishedIn(xid: bigint, s: Snapshot): boolean {
  if (xid < s.xmin) return true;
  if (xid >= s.xmax) return false;
  return !s.xip.includes(xid);
}
