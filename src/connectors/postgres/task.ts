/**
 * The PostgreSQL CDC task: snapshot (optional) then logical replication with pgoutput, producing Debezium events.
 *
 * Positions. Every record's sourceOffset names its transaction's commit LSN (`lsn_commit`, the LSN of the commit
 * record) and its index within the transaction (`event_index`). Transactions arrive in commit order, so
 * (lsn_commit, event_index) orders all records. On restart the server resends every transaction whose commit
 * record lies at or after the slot's confirmed_flush_lsn; records at or before the stored offset are skipped,
 * so a partially delivered transaction resumes exactly after its last acknowledged event.
 *
 * Acknowledgement. The slot's flush LSN only moves to the end LSN of a transaction once commit() reported an
 * offset at or beyond its last record (or the transaction produced no record and everything before it is
 * acknowledged). With nothing in flight, a keepalive's WAL end is acknowledged so an idle slot advances.
 */
import type pg from 'pg';
import { readFileSync } from 'node:fs';
import type { ResolvedConfig } from '../../sdk/config.js';
import type { Logger } from '../../sdk/logger.js';
import type { Header, SourceOffset, SourcePartition, SourceRecord } from '../../sdk/record.js';
import type { SourceTask, SourceTaskContext } from '../../sdk/source.js';
import { TributaryError } from '../../sdk/errors.js';
import { resolvePgCdcConfig, tableIncluded, type PgCdcConfig } from './config.js';
import { classifyPgError, connectClient, quoteIdent, ReplicationConnection, type PgConnectOptions } from './replication/connection.js';
import { decodePgOutput, carriesXidInStream, MsgCode, type PgOutputMessage, type TupleValue } from './pgoutput.js';
import { Catalog, publicationTables, slotInfo, userTables, type TableRef } from './catalog.js';
import {
  buildTableModel, hashMapCapacity, javaHashMapOrder, keyChanged, SOURCE_VERSION, toKey, toRow, TX_KEY_SCHEMA, TX_VALUE_SCHEMA,
  HEARTBEAT_KEY_SCHEMA, HEARTBEAT_VALUE_SCHEMA, type TableModel,
} from './events.js';
import { contextHeaders, keyHeader, NEWKEY_HEADER, OLDKEY_HEADER, uuidV7 } from './headers.js';
import { StreamedTxBuffer } from './txbuffer.js';
import { runSnapshot, type SnapshotProgress } from './snapshot.js';
import { formatLsn, type Lsn } from './lsn.js';

interface PendingTx {
  commitLsn: Lsn;
  endLsn: Lsn;
  /** index of the last record of the transaction (-1: none); valid once complete */
  lastIndex: number;
  complete: boolean;
  /** records actually queued (skipped replays are not) */
  queued: number;
  /** commit time (µs since epoch), for lag */
  tsUs: number;
}

interface TxState {
  xid: number;
  finalLsn: Lsn;
  commitTsUs: number;
  tsMs: number;
  tsNs: bigint;
  index: number;
  entry: PendingTx;
  // transaction metadata
  id: string;
  total: number;
  perTable: Map<string, number>;
  beginDone: boolean;
  /** replication origin of the transaction (pgoutput Origin message), else null */
  origin: string | null;
  originLsn: Lsn | null;
}

type Phase = 'starting' | 'snapshot' | 'streaming' | 'done' | 'stopped' | 'failed';

/** Offset fields (Debezium's PostgreSQL offset keys where they exist, plus event_index). */
export interface PgOffset {
  lsn_commit?: number;
  lsn?: number;
  txId?: number | null;
  ts_usec?: number;
  event_index?: number;
  snapshot?: boolean;
  last_snapshot_record?: boolean;
}

export class PostgresCdcTask implements SourceTask {
  private cfg!: PgCdcConfig;
  private log!: Logger;
  private conn!: PgConnectOptions;
  private meta: pg.Client | null = null;
  private repl: ReplicationConnection | null = null;
  private catalog!: Catalog;
  private partition!: SourcePartition;
  private serverVersion = 0;
  private phase: Phase = 'starting';

  // queue towards the runtime
  private q: SourceRecord[] = [];
  private qSizes: number[] = [];
  private qHead = 0;
  private qBytes = 0;
  private dataWaiter: (() => void) | null = null;
  private spaceWaiters: Array<() => void> = [];
  private failure: Error | null = null;

  // stream state
  private models = new Map<number, TableModel | null>();
  private tx: TxState | null = null;
  /** end LSN of the last Commit message (source.sequence[0]) */
  private lastCommitLsn: Lsn | null = null;
  /** Debezium's context headers of this task run (null with extended.headers.enabled=false) */
  private ctxHeaders: Header[] | null = null;
  /**
   * table count capacity of Debezium's per-transaction java.util.HashMap: cleared, never shrunk, between
   * transactions, so it stays at the largest size this task run needed (END data_collections order)
   */
  private txMapCapacity = 16;
  private streamed = new Map<number, StreamedTxBuffer>();
  private inStreamXid: number | null = null;
  private replaying = false;
  private pending: PendingTx[] = [];
  private pendingHead = 0;
  private flushed: Lsn = 0;
  /** position fully processed (end of the last transaction, or an idle keepalive's WAL end) */
  private position: Lsn = 0;
  private skipC: Lsn = -1;
  private skipK = -1;
  private nowMs = 0;
  private nowNs = 0n;
  private lastAckAt = Date.now();

  private timers: NodeJS.Timeout[] = [];
  private abort = new AbortController();
  private background: Promise<void> | null = null;
  private snapshotProgress: SnapshotProgress | null = null;
  private consistentPoint: Lsn = 0;
  private eventsEmitted = 0;

  async start(config: ResolvedConfig, ctx: SourceTaskContext): Promise<void> {
    this.cfg = resolvePgCdcConfig(config);
    const cfg = this.cfg;
    this.log = ctx.logger.child({ connector: ctx.connector, task: ctx.taskId, slot: cfg.slotName });
    this.partition = { server: cfg.prefix };
    this.ctxHeaders = cfg.extendedHeaders ? contextHeaders(cfg.prefix, String(ctx.taskId), uuidV7()) : null;
    this.conn = {
      host: cfg.host, port: cfg.port, user: cfg.user, password: cfg.password, database: cfg.dbname,
      ssl: sslOptions(cfg), connectTimeoutMs: cfg.connectTimeoutMs, applicationName: `tributary-${cfg.prefix}`, keepAlive: cfg.tcpKeepAlive,
    };
    const stored = (await ctx.offset(this.partition)) as PgOffset | null;
    try {
      await this.open(stored);
    } catch (err) {
      await this.closeConnections();
      throw err;
    }
  }

  private async open(stored: PgOffset | null): Promise<void> {
    const cfg = this.cfg;
    this.meta = await connectClient(this.conn, false);
    this.catalog = new Catalog(this.meta);
    const v = await this.meta.query(`SELECT current_setting('server_version_num')::int AS v, current_setting('wal_level') AS wal`);
    this.serverVersion = Number(v.rows[0].v);
    if (this.serverVersion < 140000) {
      throw new TributaryError('config.invalid', `PostgreSQL ${Math.floor(this.serverVersion / 10000)} is not supported: logical replication with pgoutput needs PostgreSQL 14 or later`);
    }
    if (v.rows[0].wal !== 'logical') {
      throw new TributaryError('config.invalid', `wal_level is '${v.rows[0].wal}' on ${cfg.host}:${cfg.port}; change data capture needs wal_level=logical`, {
        hint: "run ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL",
      });
    }
    await this.ensurePublication();

    const slot = await slotInfo(this.meta, cfg.slotName, this.serverVersion);
    if (slot.exists && (slot.plugin !== 'pgoutput' || slot.database !== cfg.dbname)) {
      throw new TributaryError('config.invalid', `replication slot '${cfg.slotName}' exists for plugin ${slot.plugin} in database ${slot.database}; expected pgoutput in ${cfg.dbname}`, { key: 'slot.name' });
    }
    const lost = slot.exists && (slot.walStatus === 'lost' || !!slot.invalidation);
    const hasStreamOffset = !!stored && !stored.snapshot;
    const snapshotComplete = !!stored && (!stored.snapshot || stored.last_snapshot_record === true);
    const mode = cfg.snapshotMode;
    let snapshot = false;
    let positionLost: string | null = null;
    if (lost) positionLost = `replication slot '${cfg.slotName}' was invalidated (${slot.invalidation ?? 'wal_status=lost'}): the WAL it needed was removed`;
    else if (!slot.exists && hasStreamOffset) positionLost = `replication slot '${cfg.slotName}' does not exist although the connector has a stored position (lsn_commit ${formatLsn(stored!.lsn_commit ?? 0)}): it was dropped, or the server was restored or promoted`;
    switch (mode) {
      case 'always': snapshot = true; break;
      case 'initial': snapshot = !snapshotComplete; break;
      case 'initial_only': snapshot = !snapshotComplete; break;
      case 'no_data': snapshot = false; break;
      case 'when_needed': snapshot = !snapshotComplete || positionLost !== null; break;
    }
    if (positionLost && !snapshot) {
      throw new TributaryError('source.position_lost', `${positionLost}. Changes since the stored position cannot be read; refusing to resume silently.`, {
        retriable: false,
        hint: "use snapshot.mode=when_needed to re-snapshot automatically, or delete the connector's offsets to start over",
      });
    }
    if (positionLost) this.log.warn('position lost, taking a new snapshot (snapshot.mode=when_needed)', { reason: positionLost });

    if (mode === 'initial_only' && !snapshot) {
      this.phase = 'done';
      return;
    }
    this.repl = await ReplicationConnection.connect(this.conn);
    if (snapshot) {
      if (slot.exists) {
        this.log.info('dropping the existing slot to take a snapshot consistent with a new one', { slot: cfg.slotName });
        await this.dropSlot();
      }
      const created = await this.repl.createSlot(cfg.slotName, true);
      this.flushed = this.position = this.consistentPoint = created.consistentPoint;
      this.log.info('replication slot created with exported snapshot', { consistentPoint: formatLsn(created.consistentPoint), snapshot: created.snapshotName });
      this.phase = 'snapshot';
      this.background = this.snapshotThenStream(created.snapshotName).catch((err) => this.fail(err));
    } else {
      if (!slot.exists) {
        const created = await this.repl.createSlot(cfg.slotName, false);
        this.flushed = this.position = created.consistentPoint;
        this.log.info('replication slot created', { consistentPoint: formatLsn(created.consistentPoint) });
      } else {
        this.flushed = this.position = slot.confirmedFlush ?? 0;
      }
      if (stored && !stored.snapshot && typeof stored.lsn_commit === 'number') {
        this.skipC = stored.lsn_commit;
        this.skipK = typeof stored.event_index === 'number' ? stored.event_index : Number.MAX_SAFE_INTEGER;
      }
      this.startStreaming();
    }
  }

  private async dropSlot(): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.meta!.query('SELECT pg_drop_replication_slot($1)', [this.cfg.slotName]);
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === '42704') return; // does not exist
        if (code === '55006' && i < 20) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        throw classifyPgError(err, `cannot drop replication slot '${this.cfg.slotName}'`);
      }
    }
  }

  private async ensurePublication(): Promise<void> {
    const cfg = this.cfg;
    const meta = this.meta!;
    const r = await meta.query('SELECT puballtables FROM pg_publication WHERE pubname = $1', [cfg.publicationName]);
    const pub = quoteIdent(cfg.publicationName);
    const filteredList = async () => {
      const tables = (await userTables(meta)).filter((t) => tableIncluded(cfg, t.schema, t.table));
      if (!tables.length) throw new TributaryError('config.invalid', 'no table matches the include/exclude lists', { key: 'table.include.list' });
      return tables.map((t) => `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`).join(', ');
    };
    try {
      if (!r.rows.length) {
        if (cfg.publicationAutocreate === 'disabled') {
          throw new TributaryError('config.invalid', `publication '${cfg.publicationName}' does not exist and publication.autocreate.mode=disabled`, {
            key: 'publication.name',
            hint: `ask a DBA to run: CREATE PUBLICATION ${pub} FOR TABLE <schema>.<table>, …;`,
          });
        }
        const sql = cfg.publicationAutocreate === 'all_tables' ? `CREATE PUBLICATION ${pub} FOR ALL TABLES` : `CREATE PUBLICATION ${pub} FOR TABLE ${await filteredList()}`;
        await meta.query(sql);
        this.log.info('publication created', { publication: cfg.publicationName, mode: cfg.publicationAutocreate });
      } else if (cfg.publicationAutocreate === 'filtered' && !r.rows[0].puballtables) {
        await meta.query(`ALTER PUBLICATION ${pub} SET TABLE ${await filteredList()}`);
      }
    } catch (err) {
      throw classifyPgError(err, `cannot prepare publication '${cfg.publicationName}'`);
    }
  }

  // ------------------------------------------------------------------ snapshot

  private async snapshotThenStream(snapshotName: string | null): Promise<void> {
    const cfg = this.cfg;
    const tables = (await publicationTables(this.meta!, cfg.publicationName)).filter((t) => tableIncluded(cfg, t.schema, t.table));
    const progress: SnapshotProgress = {
      tablesTotal: tables.length, tablesDone: 0, rowsDone: 0, rowsEstimated: tables.reduce((n, t) => n + t.estimatedRows, 0), current: [],
    };
    this.snapshotProgress = progress;
    this.log.info('snapshot started', { tables: tables.length, estimatedRows: progress.rowsEstimated });
    const models = new Map<number, TableModel>();
    const tsUs = Date.now() * 1000;
    const lsn = this.consistentPoint;
    const sequence = `[null,"${lsn}"]`;
    let txId: number | bigint | null = null;
    let offsetBase = { snapshot: true, lsn, txId: null as number | null, ts_usec: tsUs };
    // Debezium's snapshot markers: 'first'/'last' need the first/last table in order, which only a single reader has
    // (with snapshot.max.threads > 1 Debezium marks no table first or last); the record emitted last is held back and
    // marked 'last' when the snapshot ends, as Debezium's buffering receiver does, so an empty last table still
    // leaves a 'last' record
    const order = new Map(tables.map((t, i) => [t.oid, i]));
    const ordered = Math.min(cfg.snapshotThreads, tables.length) <= 1;
    let held: { rec: SourceRecord; value: { source: Readonly<Record<string, unknown>> } } | null = null;
    const ctxHeaders = this.ctxHeaders;
    await runSnapshot(this.conn, snapshotName, tables, cfg.snapshotThreads, cfg.snapshotFetchSize, {
      begun: (id) => {
        txId = id === null ? null : Number.isSafeInteger(Number(id)) ? Number(id) : BigInt(id);
        offsetBase = { ...offsetBase, txId: typeof txId === 'bigint' ? Number(txId) : txId };
      },
      table: async (t: TableRef, columns, replicaIdentity, catalog) => {
        await this.catalog.loadTypes(columns.map((c) => c.typeOid));
        models.set(t.oid, buildTableModel(cfg, t.oid, t.schema, t.table, replicaIdentity, columns, catalog, this.catalog.lookup));
      },
      rows: async (t, rows, lastBatch) => {
        const m = models.get(t.oid)!;
        const now = Date.now();
        const nowUs = now * 1000;
        const nowNs = BigInt(now) * 1000000n;
        const n = rows.length;
        const idx = order.get(t.oid)!;
        const firstTable = ordered && idx === 0;
        const lastTable = ordered && idx === tables.length - 1;
        // one source block and one offset per batch, shared by its rows (rows with a first/last mark get their own):
        // frozen, so the JSON converter may write the block's bytes once and copy them (see json-bytes.ts)
        const sourceOf = (mark: string): Readonly<Record<string, unknown>> =>
          Object.freeze({
            version: SOURCE_VERSION, connector: 'postgresql', name: cfg.prefix, ts_ms: now, snapshot: mark, db: cfg.dbname,
            sequence, ts_us: nowUs, ts_ns: nowNs, schema: t.schema, table: t.table, txId, lsn, xmin: null, origin: null, origin_lsn: null,
          });
        const shared = sourceOf('true');
        const offset = { ...offsetBase, last_snapshot_record: false };
        for (let i = 0; i < n; i++) {
          const tuple = rows[i]!;
          const firstInTable = i === 0 && !m.snapshotStarted;
          const lastInTable = lastBatch && i === n - 1;
          const mark = lastInTable && lastTable ? 'last'
            : firstInTable && firstTable ? 'first'
              : lastInTable ? 'last_in_data_collection'
                : firstInTable ? 'first_in_data_collection' : 'true';
          m.snapshotStarted = true;
          const value = { before: null, after: toRow(m, tuple), source: mark === 'true' ? shared : sourceOf(mark), transaction: null, op: 'r', ts_ms: now, ts_us: nowUs, ts_ns: nowNs };
          const rec: SourceRecord = {
            topic: m.topic, keySchema: m.keySchema, key: toKey(m, tuple), valueSchema: m.envelopeSchema,
            value, timestamp: now, sourcePartition: this.partition, sourceOffset: offset,
          };
          if (ctxHeaders) rec.headers = ctxHeaders;
          if (held) this.enqueue(held.rec, 256);
          held = { rec, value };
        }
        const w = this.waitForSpace();
        if (w) await w;
      },
    }, progress, this.abort.signal);
    if (held !== null && !this.abort.signal.aborted) {
      const last: { rec: SourceRecord; value: { source: Readonly<Record<string, unknown>> } } = held;
      last.value.source = Object.freeze({ ...last.value.source, snapshot: 'last' });
      last.rec.sourceOffset = { ...offsetBase, last_snapshot_record: true };
      this.enqueue(last.rec, 256);
    }
    if (this.abort.signal.aborted) return;
    this.log.info('snapshot completed', { rows: progress.rowsDone, tables: progress.tablesDone });
    if (cfg.snapshotMode === 'initial_only') {
      this.phase = 'done';
      await this.repl?.close();
      this.repl = null;
      return;
    }
    this.startStreaming();
  }

  // ------------------------------------------------------------------ streaming

  private startStreaming(): void {
    const repl = this.repl!;
    const proto = repl.protoVersion();
    const options: Record<string, string> = {
      proto_version: String(proto),
      publication_names: quoteIdent(this.cfg.publicationName),
      messages: 'true',
    };
    if (proto >= 2) options.streaming = 'on';
    this.phase = 'streaming';
    this.log.info('streaming started', { from: formatLsn(this.flushed), proto });
    repl.startReplication(this.cfg.slotName, 0, options, {
      data: (buf, start, end, walStart) => this.onData(buf, start, end, walStart),
      keepalive: (walEnd, reply) => this.onKeepalive(walEnd, reply),
      end: (err) => {
        if (err) this.fail(err);
      },
    });
    this.timers.push(setInterval(() => {
      if (this.repl?.isStreaming) this.repl.sendStatus(this.repl.serverWalEnd || this.flushed, this.flushed, this.flushed, true);
    }, this.cfg.statusIntervalMs));
    if (this.cfg.heartbeatIntervalMs > 0) this.timers.push(setInterval(() => this.heartbeat(), this.cfg.heartbeatIntervalMs));
  }

  private onKeepalive(walEnd: Lsn, reply: boolean): void {
    if (this.idle() && walEnd > this.position) {
      this.position = walEnd;
      if (walEnd > this.flushed) this.flushed = walEnd;
    }
    if (reply || this.idle()) this.repl?.sendStatus(this.repl.serverWalEnd, this.flushed, this.flushed, false);
  }

  /** nothing received is unacknowledged and no transaction is open */
  private idle(): boolean {
    return this.pendingHead === this.pending.length && this.tx === null && this.inStreamXid === null && this.streamed.size === 0 && !this.replaying;
  }

  private onData(buf: Buffer, start: number, end: number, walStart: Lsn): void | Promise<void> {
    const code = buf[start]!;
    if (this.inStreamXid !== null && code !== MsgCode.StreamStop && code !== MsgCode.StreamStart && code !== MsgCode.StreamCommit && code !== MsgCode.StreamAbort) {
      const b = this.streamed.get(this.inStreamXid)!;
      const sub = code === MsgCode.Relation || code === MsgCode.Type || !carriesXidInStream(code) ? 0 : buf.readUInt32BE(start + 1);
      b.append(sub, walStart, buf, start, end);
      return;
    }
    const m = decodePgOutput(buf, start, end, false);
    return this.apply(m, walStart, end - start);
  }

  private apply(m: PgOutputMessage, lsn: Lsn, size: number): void | Promise<void> {
    switch (m.tag) {
      case 'begin':
        this.beginTx(m.xid, m.finalLsn, m.commitTsUs);
        return;
      case 'commit':
        return this.commitTx(m.endLsn);
      case 'relation':
        return this.onRelation(m);
      case 'origin':
        if (this.tx) {
          this.tx.origin = m.name;
          this.tx.originLsn = m.lsn;
        }
        return;
      case 'insert':
      case 'update':
      case 'delete':
      case 'truncate':
        return this.onChange(m, lsn, size);
      case 'stream_start': {
        this.inStreamXid = m.xid;
        if (!this.streamed.has(m.xid)) this.streamed.set(m.xid, new StreamedTxBuffer(m.xid, this.cfg.streamBufferBytes, this.cfg.streamBufferDir));
        return;
      }
      case 'stream_stop':
        this.inStreamXid = null;
        return;
      case 'stream_abort': {
        const b = this.streamed.get(m.xid);
        if (!b) return;
        if (m.subxid === m.xid) {
          b.dispose();
          this.streamed.delete(m.xid);
        } else {
          b.abortSub(m.subxid);
        }
        return;
      }
      case 'stream_commit':
        return this.replayStreamed(m.xid, m.commitLsn, m.endLsn, m.commitTsUs);
      default:
        return;
    }
  }

  private beginTx(xid: number, finalLsn: Lsn, commitTsUs: number): void {
    const entry: PendingTx = { commitLsn: finalLsn, endLsn: finalLsn, lastIndex: -1, complete: false, queued: 0, tsUs: commitTsUs };
    this.pending.push(entry);
    const tsMs = Math.floor(commitTsUs / 1000);
    this.tx = {
      xid, finalLsn, commitTsUs, tsMs, tsNs: BigInt(commitTsUs) * 1000n, index: 0, entry,
      id: `${xid}:${finalLsn}`, total: 0, perTable: new Map(), beginDone: false, origin: null, originLsn: null,
    };
    if (this.skipC >= 0 && finalLsn > this.skipC) this.skipC = -1; // past the resume point
    const now = Date.now();
    if (now !== this.nowMs) {
      this.nowMs = now;
      this.nowNs = BigInt(now) * 1000000n;
    }
  }

  private commitTx(endLsn: Lsn): void | Promise<void> {
    const tx = this.tx;
    if (!tx) return;
    if (this.cfg.txMetadata && tx.beginDone) {
      // Debezium iterates a java.util.HashMap<String, Long> of the table names (events.ts javaHashMapOrder)
      this.txMapCapacity = hashMapCapacity(tx.perTable.size, this.txMapCapacity);
      const collections = javaHashMapOrder([...tx.perTable.keys()], this.txMapCapacity)
        .map((data_collection) => ({ data_collection, event_count: tx.perTable.get(data_collection)! }));
      this.emitTx({ status: 'END', id: tx.id, event_count: tx.total, data_collections: collections, ts_ms: tx.tsMs }, 128);
    }
    tx.entry.endLsn = endLsn;
    tx.entry.lastIndex = tx.index - 1;
    tx.entry.complete = true;
    // Debezium's source.sequence[0]: the end of the previous commit record (Commit message end_lsn)
    this.lastCommitLsn = endLsn;
    this.position = endLsn;
    this.tx = null;
    this.drainPending();
    return this.waitForSpace();
  }

  private async replayStreamed(xid: number, commitLsn: Lsn, endLsn: Lsn, commitTsUs: number): Promise<void> {
    const b = this.streamed.get(xid);
    this.beginTx(xid, commitLsn, commitTsUs);
    if (b) {
      this.replaying = true;
      try {
        for await (const rec of b.replay()) {
          if (rec.subxid !== 0 && b.isAborted(rec.subxid)) continue;
          const m = decodePgOutput(rec.buf, 0, rec.buf.length, true);
          const p = this.apply(m, rec.lsn, rec.buf.length);
          if (p) await p;
          const w = this.waitForSpace();
          if (w) await w;
        }
      } finally {
        b.dispose();
        this.streamed.delete(xid);
        this.replaying = false;
      }
    }
    const p = this.commitTx(endLsn);
    if (p) await p;
  }

  private async onRelation(m: Extract<PgOutputMessage, { tag: 'relation' }>): Promise<void> {
    const cfg = this.cfg;
    if (!tableIncluded(cfg, m.namespace, m.name)) {
      this.models.set(m.oid, null);
      return;
    }
    try {
      await this.catalog.loadTypes(m.columns.map((c) => c.typeOid));
      const cat = await this.catalog.table(m.oid, true);
      this.models.set(m.oid, buildTableModel(cfg, m.oid, m.namespace, m.name, m.replicaIdentity, m.columns, cat, this.catalog.lookup));
    } catch (err) {
      throw classifyPgError(err, `cannot read the catalog for ${m.namespace}.${m.name}`);
    }
  }

  private onChange(m: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' | 'truncate' }>, lsn: Lsn, size: number): void | Promise<void> {
    const tx = this.tx;
    if (!tx) return;
    const skipped = this.cfg.skipped;
    const est = size + 320;
    if (m.tag === 'truncate') {
      if (skipped.has('t')) return;
      for (const relid of m.relids) {
        const model = this.models.get(relid);
        if (!model) continue;
        this.emitChange(model, 't', null, null, null, lsn, est);
      }
      return this.waitForSpace();
    }
    const model = this.models.get(m.relid);
    if (!model) return; // not captured
    if (m.tag === 'insert') {
      if (skipped.has('c')) return;
      this.emitChange(model, 'c', null, toRow(model, m.newTuple), toKey(model, m.newTuple), lsn, est);
    } else if (m.tag === 'update') {
      const oldT = m.oldTuple ?? m.keyTuple;
      let newT = m.newTuple;
      if (m.oldTuple) {
        // REPLICA IDENTITY FULL: an unchanged TOAST value is known from the old image
        let copy: TupleValue[] | null = null;
        for (let i = 0; i < newT.length; i++) {
          if (newT[i] === undefined && m.oldTuple[i] !== undefined) {
            copy ??= newT.slice();
            copy[i] = m.oldTuple[i];
          }
        }
        if (copy) newT = copy;
      }
      if (oldT && model.keySchema && (m.keyTuple !== null || keyChanged(model, oldT, newT))) {
        // the row moved to another key: delete (+ tombstone) of the old key, create of the new one, as Debezium
        // headers: __debezium.newkey on the delete and its tombstone, __debezium.oldkey on the create
        const oldKey = toKey(model, oldT);
        const newKey = toKey(model, newT);
        const ctx = this.ctxHeaders ?? [];
        if (!skipped.has('d')) {
          const h = [keyHeader(NEWKEY_HEADER, model.keySchema, newKey), ...ctx];
          this.emitChange(model, 'd', toRow(model, oldT), null, oldKey, lsn, est, h);
          if (this.cfg.tombstones) this.emitTombstone(model, oldKey, lsn, h);
        }
        if (!skipped.has('c')) this.emitChange(model, 'c', null, toRow(model, newT), newKey, lsn, est, [keyHeader(OLDKEY_HEADER, model.keySchema, oldKey), ...ctx]);
      } else {
        if (skipped.has('u')) return;
        this.emitChange(model, 'u', m.oldTuple ? toRow(model, m.oldTuple) : null, toRow(model, newT), toKey(model, newT), lsn, est);
      }
    } else {
      if (skipped.has('d')) return;
      const oldT = m.oldTuple ?? m.keyTuple;
      if (!oldT) return;
      const key = toKey(model, oldT);
      this.emitChange(model, 'd', toRow(model, oldT), null, key, lsn, est);
      if (this.cfg.tombstones) this.emitTombstone(model, key, lsn);
    }
    return this.waitForSpace();
  }

  private skip(tx: TxState, idx: number): boolean {
    return this.skipC >= 0 && (tx.finalLsn < this.skipC || (tx.finalLsn === this.skipC && idx <= this.skipK));
  }

  private offset(tx: TxState, lsn: Lsn, idx: number): SourceOffset {
    return { lsn_commit: tx.finalLsn, lsn, txId: tx.xid, ts_usec: tx.commitTsUs, event_index: idx };
  }

  private emitChange(model: TableModel, op: string, before: unknown, after: unknown, key: unknown, lsn: Lsn, est: number, headers = this.ctxHeaders): void {
    const tx = this.tx!;
    const cfg = this.cfg;
    let block: Record<string, unknown> | null = null;
    if (cfg.txMetadata) {
      if (!tx.beginDone) {
        tx.beginDone = true;
        this.emitTx({ status: 'BEGIN', id: tx.id, event_count: null, data_collections: null, ts_ms: tx.tsMs }, 128);
      }
      tx.total++;
      const n = (tx.perTable.get(model.id) ?? 0) + 1;
      tx.perTable.set(model.id, n);
      block = { id: tx.id, total_order: tx.total, data_collection_order: n };
    }
    const idx = tx.index++;
    if (this.skip(tx, idx)) return;
    const source = {
      version: SOURCE_VERSION, connector: 'postgresql', name: cfg.prefix, ts_ms: tx.tsMs, snapshot: 'false', db: cfg.dbname,
      sequence: `[${this.lastCommitLsn === null ? 'null' : `"${this.lastCommitLsn}"`},"${lsn}"]`,
      ts_us: tx.commitTsUs, ts_ns: tx.tsNs, schema: model.schema, table: model.table, txId: tx.xid, lsn, xmin: null,
      origin: tx.origin, origin_lsn: tx.originLsn,
    };
    const rec: SourceRecord = {
      topic: model.topic,
      keySchema: model.keySchema,
      key,
      valueSchema: model.envelopeSchema,
      value: { before, after, source, transaction: block, op, ts_ms: this.nowMs, ts_us: this.nowMs * 1000, ts_ns: this.nowNs },
      timestamp: tx.tsMs,
      sourcePartition: this.partition,
      sourceOffset: this.offset(tx, lsn, idx),
    };
    if (headers) rec.headers = headers;
    this.enqueue(rec, est);
    tx.entry.queued++;
  }

  private emitTombstone(model: TableModel, key: unknown, lsn: Lsn, headers = this.ctxHeaders): void {
    if (key === null) return;
    const tx = this.tx!;
    const idx = tx.index++;
    if (this.skip(tx, idx)) return;
    const rec: SourceRecord = {
      topic: model.topic, keySchema: model.keySchema, key, valueSchema: null, value: null, timestamp: tx.tsMs,
      sourcePartition: this.partition, sourceOffset: this.offset(tx, lsn, idx),
    };
    if (headers) rec.headers = headers;
    this.enqueue(rec, 128);
    tx.entry.queued++;
  }

  private emitTx(value: Record<string, unknown>, est: number): void {
    const tx = this.tx!;
    const idx = tx.index++;
    if (this.skip(tx, idx)) return;
    this.enqueue({
      topic: `${this.cfg.prefix}.${this.cfg.txTopic}`, keySchema: TX_KEY_SCHEMA, key: { id: tx.id }, valueSchema: TX_VALUE_SCHEMA, value,
      timestamp: tx.tsMs, sourcePartition: this.partition, sourceOffset: this.offset(tx, tx.finalLsn, idx),
    }, est);
    tx.entry.queued++;
  }

  private heartbeat(): void {
    if (this.phase !== 'streaming' || this.tx !== null || this.inStreamXid !== null || this.replaying) return;
    const L = this.position;
    const entry: PendingTx = { commitLsn: L, endLsn: L, lastIndex: -1, complete: true, queued: 1, tsUs: Date.now() * 1000 };
    this.pending.push(entry);
    const now = Date.now();
    this.enqueue({
      topic: `${this.cfg.heartbeatTopicPrefix}.${this.cfg.prefix}`, keySchema: HEARTBEAT_KEY_SCHEMA, key: { serverName: this.cfg.prefix },
      valueSchema: HEARTBEAT_VALUE_SCHEMA, value: { ts_ms: now }, timestamp: now, sourcePartition: this.partition,
      sourceOffset: { lsn_commit: L, lsn: L, txId: null, ts_usec: now * 1000, event_index: -1 },
    }, 96);
    if (this.cfg.heartbeatActionQuery && this.meta) {
      this.meta.query(this.cfg.heartbeatActionQuery).catch((err) => this.log.warn('heartbeat.action.query failed', { error: String(err?.message ?? err) }));
    }
  }

  // ------------------------------------------------------------------ acknowledgement

  async commit(offsets: Array<{ partition: SourcePartition; offset: SourceOffset }>): Promise<void> {
    for (const { partition, offset } of offsets) {
      if (partition.server !== this.cfg.prefix) continue;
      const o = offset as PgOffset;
      if (o.snapshot || typeof o.lsn_commit !== 'number') continue;
      const C = o.lsn_commit;
      const k = typeof o.event_index === 'number' ? o.event_index : Number.MAX_SAFE_INTEGER;
      while (this.pendingHead < this.pending.length) {
        const e = this.pending[this.pendingHead]!;
        if (e.commitLsn < C || (e.commitLsn === C && e.complete && k >= e.lastIndex)) {
          this.pendingHead++;
          if (e.endLsn > this.flushed) this.flushed = e.endLsn;
        } else break;
      }
    }
    this.drainPending();
    this.lastAckAt = Date.now();
    this.repl?.sendStatus(this.repl.serverWalEnd || this.flushed, this.flushed, this.flushed, false);
  }

  /** pops leading transactions that produced no queued record (nothing to wait for) */
  private drainPending(): void {
    while (this.pendingHead < this.pending.length) {
      const e = this.pending[this.pendingHead]!;
      if (e.complete && e.queued === 0) {
        this.pendingHead++;
        if (e.endLsn > this.flushed) this.flushed = e.endLsn;
      } else break;
    }
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  // ------------------------------------------------------------------ queue

  private enqueue(r: SourceRecord, size: number): void {
    this.q.push(r);
    this.qSizes.push(size);
    this.qBytes += size;
    this.eventsEmitted++;
    const w = this.dataWaiter;
    if (w) {
      this.dataWaiter = null;
      w();
    }
  }

  private get queued(): number {
    return this.q.length - this.qHead;
  }

  private waitForSpace(): Promise<void> | undefined {
    if (this.queued < this.cfg.maxQueue && this.qBytes < this.cfg.maxQueueBytes) return undefined;
    if (this.abort.signal.aborted) return undefined;
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  async poll(signal: AbortSignal): Promise<SourceRecord[]> {
    if (this.queued === 0) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.cfg.pollIntervalMs);
        function done() {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        }
        this.dataWaiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
      this.dataWaiter = null;
      if (this.queued === 0) {
        if (this.failure) throw this.failure;
        return [];
      }
    }
    const end = Math.min(this.q.length, this.qHead + this.cfg.maxBatch);
    const batch = this.q.slice(this.qHead, end);
    let bytes = 0;
    for (let i = this.qHead; i < end; i++) bytes += this.qSizes[i]!;
    this.qBytes -= bytes;
    this.qHead = end;
    if (this.qHead === this.q.length) {
      this.q = [];
      this.qSizes = [];
      this.qHead = 0;
    } else if (this.qHead > 65536) {
      this.q = this.q.slice(this.qHead);
      this.qSizes = this.qSizes.slice(this.qHead);
      this.qHead = 0;
    }
    if (this.spaceWaiters.length && this.queued < this.cfg.maxQueue / 2 + 1 && this.qBytes < this.cfg.maxQueueBytes / 2 + 1) {
      const ws = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of ws) w();
    }
    return batch;
  }

  private fail(err: unknown): void {
    if (this.failure || this.phase === 'stopped') return;
    let e = err instanceof Error ? err : new Error(String(err));
    const msg = e.message ?? '';
    if (/can no longer get changes from replication slot|has been invalidated|does not exist/.test(msg) && /slot/.test(msg)) {
      e = new TributaryError('source.position_lost', `replication slot '${this.cfg.slotName}' cannot be read: ${msg}`, {
        retriable: false, cause: err, hint: "use snapshot.mode=when_needed to re-snapshot, or delete the connector's offsets to start over",
      });
    } else if (!(e instanceof TributaryError)) {
      e = classifyPgError(e, 'change data capture failed');
    }
    if (e instanceof TributaryError && e.retriable) {
      // the replication or catalog connection is gone with its state: the runtime starts a new task from the
      // committed position (after backoff), instead of polling this one again
      e = new TributaryError(e.code, e.message, { retriable: true, cause: e.cause ?? err, hint: e.hint, key: e.key, details: { restartTask: true } });
    }
    this.failure = e;
    this.phase = 'failed';
    this.log.error('postgres-cdc task failed', { error: e.message });
    const w = this.dataWaiter;
    if (w) {
      this.dataWaiter = null;
      w();
    }
    const ws = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const x of ws) x();
  }

  // ------------------------------------------------------------------ lifecycle & status

  status(): Record<string, unknown> {
    const serverEnd = this.repl?.serverWalEnd ?? 0;
    const head = this.pending[this.pendingHead];
    return {
      phase: this.phase,
      slot: this.cfg?.slotName,
      flushedLsn: formatLsn(this.flushed),
      serverWalEnd: formatLsn(serverEnd),
      lagBytes: serverEnd > this.flushed ? serverEnd - this.flushed : 0,
      lagMs: head ? Math.max(0, Date.now() - Math.floor(head.tsUs / 1000)) : 0,
      queued: this.queued,
      queuedBytes: this.qBytes,
      eventsEmitted: this.eventsEmitted,
      streamedTransactions: this.streamed.size,
      snapshot: this.snapshotProgress ? { ...this.snapshotProgress, current: [...this.snapshotProgress.current] } : null,
      error: this.failure?.message ?? null,
    };
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const ws = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of ws) w();
    if (this.repl?.isStreaming) this.repl.sendStatus(this.repl.serverWalEnd || this.flushed, this.flushed, this.flushed, false);
    await this.closeConnections();
    if (this.background) await this.background.catch(() => undefined);
    for (const b of this.streamed.values()) b.dispose();
    this.streamed.clear();
    if (this.cfg?.slotDropOnStop && this.meta === null) {
      try {
        this.meta = await connectClient(this.conn, false);
        await this.dropSlot();
      } catch (err) {
        this.log.warn('could not drop the replication slot on stop', { error: String((err as Error).message) });
      } finally {
        await this.meta?.end().catch(() => undefined);
        this.meta = null;
      }
    }
  }

  private async closeConnections(): Promise<void> {
    const r = this.repl;
    this.repl = null;
    if (r) await r.close().catch(() => undefined);
    const m = this.meta;
    this.meta = null;
    if (m) await m.end().catch(() => undefined);
  }
}

function sslOptions(cfg: PgCdcConfig): PgConnectOptions['ssl'] {
  const read = (p: string | null) => (p ? readFileSync(p, 'utf8') : undefined);
  switch (cfg.sslmode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      // node-postgres cannot fall back from TLS to plain text; prefer/allow connect without TLS (documented)
      return false;
    case 'require':
      return { rejectUnauthorized: false, cert: read(cfg.sslcert), key: read(cfg.sslkey) };
    case 'verify-ca':
      return { rejectUnauthorized: true, ca: read(cfg.sslrootcert), cert: read(cfg.sslcert), key: read(cfg.sslkey), checkServerIdentity: () => undefined };
    default:
      return { rejectUnauthorized: true, ca: read(cfg.sslrootcert), cert: read(cfg.sslcert), key: read(cfg.sslkey) };
  }
}
