/** Catalog queries on a regular (non-replication) connection. */
import type pg from 'pg';
import type { CatalogTable, ModelColumn } from './events.js';
import type { TypeInfo } from './types.js';
import { Oid, ArrayElem } from './types.js';
import { parseLsn, type Lsn } from './lsn.js';

const BUILTIN = new Set<number>([...Object.values(Oid), ...Object.keys(ArrayElem).map(Number)]);

export class Catalog {
  private types = new Map<number, TypeInfo>();
  private tables = new Map<number, CatalogTable>();

  constructor(private readonly client: pg.Client) {}

  lookup = (oid: number): TypeInfo | undefined => this.types.get(oid);

  /** Loads catalog facts for the given type OIDs (recursively: domain bases, array elements). */
  async loadTypes(oids: number[]): Promise<void> {
    let want = oids.filter((o) => !BUILTIN.has(o) && !this.types.has(o));
    while (want.length) {
      const r = await this.client.query(
        `SELECT t.oid::int8 AS oid, t.typname, t.typtype, t.typelem::int8 AS elem, t.typbasetype::int8 AS base, t.typtypmod,
                CASE WHEN t.typtype = 'e' THEN (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END AS labels
           FROM pg_type t WHERE t.oid = ANY($1::oid[])`,
        [want],
      );
      const next: number[] = [];
      for (const row of r.rows) {
        const info: TypeInfo = {
          oid: Number(row.oid), name: row.typname, kind: row.typtype, elem: Number(row.elem), base: Number(row.base),
          baseTypmod: Number(row.typtypmod), enumValues: row.labels ? parsePgTextArray(row.labels) : undefined,
        };
        this.types.set(info.oid, info);
        for (const o of [info.elem, info.base]) if (o && !BUILTIN.has(o) && !this.types.has(o)) next.push(o);
      }
      for (const o of want) if (!this.types.has(o)) this.types.set(o, { oid: o, name: 'unknown', kind: 'b', elem: 0, base: 0, baseTypmod: -1 });
      want = next;
    }
  }

  /** NOT NULL flags and primary key of a table (current catalog state). */
  async table(oid: number, refresh = false): Promise<CatalogTable> {
    if (!refresh) {
      const t = this.tables.get(oid);
      if (t) return t;
    }
    const r = await this.client.query(
      `SELECT a.attname, a.attnotnull,
              (SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary) AS pkpos
         FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`,
      [oid],
    );
    const columns = new Map<string, { notNull: boolean }>();
    const pk: Array<[number, string]> = [];
    for (const row of r.rows) {
      columns.set(row.attname, { notNull: row.attnotnull });
      if (row.pkpos !== null && row.pkpos !== undefined) pk.push([Number(row.pkpos), row.attname]);
    }
    pk.sort((a, b) => a[0] - b[0]);
    const t: CatalogTable = { columns, primaryKey: pk.map((p) => p[1]) };
    this.tables.set(oid, t);
    return t;
  }

  /** Columns as pgoutput would send them (no dropped or generated columns), for the snapshot. */
  async snapshotColumns(oid: number): Promise<{ columns: ModelColumn[]; replicaIdentity: string }> {
    const r = await this.client.query(
      `SELECT a.attname, a.atttypid::int8 AS typ, a.atttypmod, c.relreplident
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        ORDER BY a.attnum`,
      [oid],
    );
    return {
      columns: r.rows.map((row) => ({ name: row.attname, typeOid: Number(row.typ), typmod: Number(row.atttypmod) })),
      replicaIdentity: r.rows[0]?.relreplident ?? 'd',
    };
  }
}

export interface TableRef {
  oid: number;
  schema: string;
  table: string;
  estimatedRows: number;
}

/** Tables of the publication (all user tables for FOR ALL TABLES), with their row estimates. */
export async function publicationTables(client: pg.Client, publication: string): Promise<TableRef[]> {
  const r = await client.query(
    `SELECT c.oid::int8 AS oid, p.schemaname, p.tablename, GREATEST(c.reltuples, 0)::int8 AS est
       FROM pg_publication_tables p
       JOIN pg_namespace n ON n.nspname = p.schemaname
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename
      WHERE p.pubname = $1 AND c.relkind = 'r'
      ORDER BY p.schemaname, p.tablename`,
    [publication],
  );
  return r.rows.map((row) => ({ oid: Number(row.oid), schema: row.schemaname, table: row.tablename, estimatedRows: Number(row.est) }));
}

/** All user tables (for building a filtered publication). */
export async function userTables(client: pg.Client): Promise<TableRef[]> {
  const r = await client.query(
    `SELECT c.oid::int8 AS oid, n.nspname, c.relname, GREATEST(c.reltuples, 0)::int8 AS est
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 2, 3`,
  );
  return r.rows.map((row) => ({ oid: Number(row.oid), schema: row.nspname, table: row.relname, estimatedRows: Number(row.est) }));
}

export interface SlotInfo {
  exists: boolean;
  plugin?: string;
  database?: string;
  active?: boolean;
  activePid?: number | null;
  walStatus?: string | null;
  invalidation?: string | null;
  confirmedFlush?: Lsn | null;
  restartLsn?: Lsn | null;
}

export async function slotInfo(client: pg.Client, slot: string, serverVersion: number): Promise<SlotInfo> {
  const inval = serverVersion >= 170000 ? 'invalidation_reason' : 'NULL::text';
  const r = await client.query(
    `SELECT plugin, database, active, active_pid, wal_status, ${inval} AS invalidation,
            confirmed_flush_lsn::text AS cf, restart_lsn::text AS rl
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  if (!r.rows.length) return { exists: false };
  const row = r.rows[0];
  return {
    exists: true, plugin: row.plugin, database: row.database, active: row.active, activePid: row.active_pid,
    walStatus: row.wal_status, invalidation: row.invalidation,
    confirmedFlush: row.cf ? parseLsn(row.cf) : null, restartLsn: row.rl ? parseLsn(row.rl) : null,
  };
}

/** Parses a text[] value as returned by node-postgres (already an array, or '{a,b}' text). */
function parsePgTextArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  const s = String(v);
  if (s === '{}') return [];
  const out: string[] = [];
  let i = 1;
  while (i < s.length - 1) {
    if (s[i] === '"') {
      let x = '';
      i++;
      while (s[i] !== '"') {
        if (s[i] === '\\') i++;
        x += s[i++];
      }
      i += 2;
      out.push(x);
    } else {
      const j = s.indexOf(',', i);
      const end = j < 0 ? s.length - 1 : j;
      out.push(s.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}
