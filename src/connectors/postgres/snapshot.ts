/**
 * Initial snapshot consistent with the slot: readers import the slot's exported snapshot in REPEATABLE READ
 * transactions, so the snapshot plus the stream from the slot's consistent point have no gap and no duplicate.
 * Tables are read by `threads` readers in parallel, in cursor batches, as text (same converters as streaming).
 */
import type pg from 'pg';
import { connectClient, quoteIdent, quoteLiteral, type PgConnectOptions } from './replication/connection.js';
import type { TableRef } from './catalog.js';
import type { CatalogTable, ModelColumn } from './events.js';

export interface SnapshotProgress {
  tablesTotal: number;
  tablesDone: number;
  rowsDone: number;
  rowsEstimated: number;
  current: string[];
}

export interface SnapshotSink {
  /**
   * the snapshot transaction's id (of the first reader, as text), read once every reader imported the snapshot;
   * null on a standby. Debezium's snapshot records carry it as source.txId (pg_current_xact_id() of its snapshot
   * transaction)
   */
  begun?(txId: string | null): void;
  /** table metadata read inside the snapshot transaction */
  table(t: TableRef, columns: ModelColumn[], replicaIdentity: string, catalog: CatalogTable): Promise<void>;
  /** rows of one table as text arrays; `last` marks the final batch of the table; may wait for queue space */
  rows(t: TableRef, rows: Array<Array<string | null>>, last: boolean): Promise<void>;
}

const rawText = { getTypeParser: () => (v: string) => v };

export async function runSnapshot(
  conn: PgConnectOptions,
  snapshotName: string | null,
  tables: TableRef[],
  threads: number,
  fetchSize: number,
  sink: SnapshotSink,
  progress: SnapshotProgress,
  signal: AbortSignal,
): Promise<void> {
  const queue = tables.slice();
  const n = Math.max(1, Math.min(threads, tables.length));
  const readers: pg.Client[] = [];
  try {
    // import the snapshot in every reader before the exporting connection does anything else
    for (let i = 0; i < n; i++) {
      const c = await connectClient(conn, false);
      readers.push(c);
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (snapshotName) await c.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshotName)}`);
    }
    if (sink.begun && readers.length) {
      // as Debezium's PostgresConnection.currentTransactionId(): assigns the reader transaction an id (a read-only
      // transaction may) and reads it with its epoch; nothing on a standby
      const r = await readers[0]!.query(`SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_xact_id()::text END AS x`);
      sink.begun((r.rows[0]?.x as string | null) ?? null);
    }
    await Promise.all(readers.map(async (c) => {
      for (;;) {
        if (signal.aborted) return;
        const t = queue.shift();
        if (!t) return;
        const id = `${t.schema}.${t.table}`;
        progress.current.push(id);
        await readTable(c, t, fetchSize, sink, progress, signal);
        progress.current.splice(progress.current.indexOf(id), 1);
        progress.tablesDone++;
      }
    }));
    for (const c of readers) await c.query('COMMIT');
  } finally {
    for (const c of readers) await c.end().catch(() => undefined);
  }
}

async function readTable(c: pg.Client, t: TableRef, fetchSize: number, sink: SnapshotSink, progress: SnapshotProgress, signal: AbortSignal): Promise<void> {
  const colsRes = await c.query(
    `SELECT a.attname, a.atttypid::int8 AS typ, a.atttypmod, a.attnotnull, cl.relreplident,
            (SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary) AS pkpos
       FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      ORDER BY a.attnum`,
    [t.oid],
  );
  const columns: ModelColumn[] = colsRes.rows.map((r) => ({ name: r.attname, typeOid: Number(r.typ), typmod: Number(r.atttypmod) }));
  const catalog: CatalogTable = { columns: new Map(), primaryKey: [] };
  const pk: Array<[number, string]> = [];
  for (const r of colsRes.rows) {
    catalog.columns.set(r.attname, { notNull: r.attnotnull });
    if (r.pkpos !== null && r.pkpos !== undefined) pk.push([Number(r.pkpos), r.attname]);
  }
  catalog.primaryKey = pk.sort((a, b) => a[0] - b[0]).map((p) => p[1]);
  await sink.table(t, columns, colsRes.rows[0]?.relreplident ?? 'd', catalog);
  if (!columns.length) return;
  const cursor = `tributary_snap_${t.oid}`;
  const select = columns.map((col) => quoteIdent(col.name)).join(', ');
  await c.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${select} FROM ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`);
  // the next FETCH is in flight while the rows of the one before are converted and queued: the server reads the
  // table while this process works (one fetch ahead: the batch being queued, the one after it, and the one in flight)
  const fetch = () => {
    const q = c.query({ text: `FETCH ${fetchSize} FROM ${cursor}`, rowMode: 'array', types: rawText } as pg.QueryConfig).then((r) => r.rows as Array<Array<string | null>>);
    q.catch(() => undefined); // awaited below; a failure while the sink works must not go unhandled
    return q;
  };
  let next = fetch();
  let held: Array<Array<string | null>> | null = null;
  for (;;) {
    const rows = await next;
    if (signal.aborted) return;
    if (rows.length) next = fetch();
    if (held) {
      await sink.rows(t, held, rows.length === 0);
      progress.rowsDone += held.length;
    }
    if (rows.length === 0) break;
    held = rows;
  }
  await c.query(`CLOSE ${cursor}`);
}
