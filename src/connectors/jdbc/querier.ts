import { createHash } from 'node:crypto';
import type pg from 'pg';
import { TributaryError } from '../../sdk/errors.js';
import type { SourceOffset, SourcePartition, SourceRecord } from '../../sdk/record.js';
import { Schemas, type Schema } from '../../sdk/schema.js';
import { finishedIn, parseSnapshot, tableMeta, type TableRef } from './catalog.js';
import { quoteIdent, quoteLiteral, classifyPgError } from './pg-connect.js';
import { codecFor, timestampToInstant, type ColumnCodec, type NumericMapping, type PgColumn } from './pg-types.js';
import type { Mode } from './spec.js';
import { readRows, RowBlock, streamRows, type RowsRequest, type RowStream } from './row-reader.js';
import { RowShape, RowValue } from './row-value.js';

export interface QuerierSettings {
  mode: Mode;
  topicPrefix: string;
  incrementingColumn: string;
  timestampColumns: string[];
  timestampInitial: number | null;
  timestampDelayMs: number;
  validateNonNull: boolean;
  batchMaxRows: number;
  numericMapping: NumericMapping;
  timeZone: string;
  querySuffix: string;
  quote: boolean;
  database: string;
}

/**
 * Rows of transactions that were still in progress when a batch was read, and that may hold keys at or below the
 * watermark: when they finish, the range (from, watermark] is read again for rows they wrote.
 */
/** One batch: its records, whether it was full (more rows are likely waiting), and the bytes its rows took on the wire. */
export interface FetchResult {
  records: SourceRecord[];
  full: boolean;
  bytes: number;
}

interface Pending {
  /** order-key tuple (as query parameters) the pending range starts after; null = from the first row */
  from: string[] | null;
  /** 64-bit transaction ids (as decimal text) */
  xids: string[];
}

interface Position {
  /** order-key tuple of the last row emitted, or null before the first */
  key: string[] | null;
  pending: Pending | null;
}

const PENDING_KEY = 'tributary.pending';

/**
 * A stable prepared-statement name per SQL text: each batch query is planned once per connection (node-postgres
 * keeps the statements of a client), which saves a third of the database's time per batch.
 */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = 'tributary_' + createHash('sha1').update(sql).digest('hex').slice(0, 20);
    if (statementNames.size >= 1000) statementNames.clear();
    statementNames.set(sql, name);
  }
  return name;
}
const statementNames = new Map<string, string>();
const TS_TEXT_KEY = 'tributary.timestamp';
/** bulk mode has no position; one shared (frozen) empty offset */
const EMPTY_OFFSET: SourceOffset = Object.freeze({}) as SourceOffset;

/**
 * Builds the function that turns a row of text values into the record value: `{name: parse(text) | null, …}` in
 * column order. Generated per query (one object literal of a fixed shape, one call site per column parser, which V8
 * inlines); the loop below is the reference it must equal, used when code generation is unavailable.
 */
export function rowToValue(names: string[], parsers: Array<(text: string) => unknown>, generate = true): (row: unknown[]) => Record<string, unknown> {
  const n = names.length;
  const generic = (row: unknown[]): Record<string, unknown> => {
    const value: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const v = row[i];
      value[names[i]!] = v === null || v === undefined ? null : parsers[i]!(v as string);
    }
    return value;
  };
  // '__proto__' as a literal key would set the prototype, as an assignment would: keep the generic semantics
  if (!generate || n === 0 || n > 1000 || names.includes('__proto__')) return generic;
  const args = parsers.map((_, i) => 'p' + i);
  const body =
    'return function (row) {\n' +
    names.map((_, i) => `  const v${i} = row[${i}];\n`).join('') +
    '  return {\n' +
    names.map((name, i) => `    ${JSON.stringify(name)}: v${i} === null || v${i} === undefined ? null : p${i}(v${i}),\n`).join('') +
    '  };\n};';
  try {
    return new Function(...args, body)(...parsers) as (row: unknown[]) => Record<string, unknown>;
  } catch {
    return generic;
  }
}

/** batches read through one portal before it is closed and the next one opened (see TableQuerier#streamBlock) */
const STREAM_BATCHES = 16;
/** an incremental portal not read from for this long is closed (its open snapshot would hold back vacuum) */
const STREAM_IDLE_MS = 5000;

/**
 * Reads one table (or the custom query) in the configured mode, one batch per `fetch`.
 *
 * Every batch is one statement that also returns the snapshot it read with (`pg_current_snapshot()`). Unlike
 * Confluent's connector, which silently misses a row whose transaction commits after a row with a later id or
 * timestamp was read, this querier remembers the transactions in progress at each read (pg_current_snapshot's
 * xip list) and, once they have finished, reads the range they could have written below the watermark again,
 * filtered on `xmin`. Custom-query mode has no `xmin` to filter on and keeps Confluent's behaviour.
 */
export class TableQuerier {
  readonly partition: SourcePartition;
  readonly topic: string;
  readonly label: string;
  nextPollAt = 0;
  #codecs: ColumnCodec[] = [];
  /** row (PostgreSQL text values) → Connect struct value, generated once per query */
  #toValue: (row: unknown[]) => Record<string, unknown> = () => ({});
  #schema: Schema | null = null;
  #pos: Position = { key: null, pending: null };
  #sql = { main: '', first: '', group: '', reread: '', rereadFromStart: '', stream: '', streamFirst: '' };
  /** the open portal batches are read from (see #streamBlock), its batches so far, its snapshot (incremental modes) */
  #stream: RowStream | null = null;
  #streamBatches = 0;
  #streamSnap = '';
  /** closes an incremental portal nobody reads from (the runtime held back), so its snapshot does not hold back vacuum */
  #idleClose: ReturnType<typeof setTimeout> | undefined;
  #fetching = 0;
  #keyIdx: number[] = [];
  #snapIdx = 0;
  #columnsCount = 0;
  #tsType: 'timestamp' | 'timestamptz' | null = null;
  #initialized = false;
  /** rows stay wire bytes until the runtime needs them (RawStruct values), or become plain values at once */
  #shape: RowShape | null = null;
  /** fields per row of the batch query (columns, order-key extras, snapshot) */
  #mainFields = 0;
  /** per field of the batch statements' rows: the binary format it is read in, 0 for text (RowsRequest.binary) */
  #binary = new Uint8Array(0);
  /** bytes the last batch's result took (+1/8): the next one's buffer starts that large */
  #blockBytes = 0;
  /** hand out RowValue (raw struct) values: the runtime accepts them */
  rawValues = false;

  constructor(
    readonly s: QuerierSettings,
    readonly table: TableRef | null,
    readonly query: string | null,
  ) {
    if (table) {
      this.partition = { protocol: '1', table: `${s.database}.${table.schema}.${table.table}` };
      this.topic = s.topicPrefix + table.table;
      this.label = `${table.schema}.${table.table}`;
    } else {
      this.partition = { query: 'query' };
      this.topic = s.topicPrefix;
      this.label = 'query';
    }
  }

  #q(name: string): string {
    return this.s.quote || !/^[a-z_][a-z0-9_$]*$/.test(name) ? quoteIdent(name) : name;
  }

  get #incremental(): boolean {
    return this.s.mode !== 'bulk';
  }
  get #usesTs(): boolean {
    return this.s.mode === 'timestamp' || this.s.mode === 'timestamp+incrementing';
  }
  get #usesInc(): boolean {
    return this.s.mode === 'incrementing' || this.s.mode === 'timestamp+incrementing';
  }

  /** Loads column metadata, checks the mode's columns, builds the SQL, restores the stored offset. */
  async init(client: pg.Client, stored: SourceOffset | null): Promise<void> {
    const s = this.s;
    let columns: PgColumn[];
    let from: string;
    if (this.table) {
      const meta = await tableMeta(client, this.table);
      columns = meta.columns;
      from = `${quoteIdent(this.table.schema)}.${quoteIdent(this.table.table)}`;
      if (this.#usesInc && !s.incrementingColumn) {
        if (!meta.autoIncrement) {
          throw new TributaryError('config.invalid', `No auto-incrementing column found in ${this.label} to use for incrementing mode`, {
            key: 'incrementing.column.name',
            hint: 'set incrementing.column.name to a strictly increasing NOT NULL column',
          });
        }
        s.incrementingColumn = meta.autoIncrement;
      }
    } else {
      const r = await client.query({ text: `SELECT * FROM (${this.query}) AS tributary_q LIMIT 0`, rowMode: 'array' }).catch((e) => {
        throw classifyPgError(e, 'Checking the query');
      });
      columns = r.fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID, typeName: '', typeType: 'b', typeCategory: '', typmod: f.dataTypeModifier, notNull: false }));
      const names = await client.query({ text: 'SELECT oid::int, typname FROM pg_type WHERE oid = ANY($1::oid[])', values: [columns.map((c) => c.typeOid)], rowMode: 'array' });
      const byOid = new Map((names.rows as string[][]).map(([o, n]) => [Number(o), n!]));
      for (const c of columns) c.typeName = byOid.get(c.typeOid) ?? 'text';
      from = `(${this.query}) AS tributary_q`;
    }
    const byName = new Map(columns.map((c, i) => [c.name, i]));
    const need = (name: string, key: string): PgColumn => {
      const i = byName.get(name);
      if (i === undefined) {
        throw new TributaryError('config.invalid', `Column '${name}' (${key}) not found in ${this.label}`, { key, hint: `columns: ${columns.map((c) => c.name).join(', ')}` });
      }
      const col = columns[i]!;
      if (s.validateNonNull && this.table && !col.notNull) {
        throw new TributaryError('config.invalid', `Cannot make incremental queries using ${key === 'incrementing.column.name' ? 'incrementing' : 'timestamp'} column ${name} on ${this.label} because this column is nullable.`, {
          key,
          hint: 'make the column NOT NULL, or set validate.non.null=false',
        });
      }
      return col;
    };
    this.#codecs = columns.map((c) => codecFor(c, s.numericMapping, s.timeZone));
    this.#schema = Schemas.struct(
      columns.map((c, i) => ({ name: c.name, schema: this.#codecs[i]!.schema })),
      this.table ? this.table.table : undefined,
    );

    // order key expressions
    const keyExprs: string[] = [];
    const keyCasts: string[] = [];
    const selectExtra: string[] = [];
    /** per order key: the row index of its text (a selected column, or null: an extra column added below) */
    const keyAt: Array<number | null> = [];
    if (this.#usesTs) {
      const tsCols = s.timestampColumns.map((n) => need(n, 'timestamp.column.name'));
      const t0 = tsCols[0]!;
      const tname = t0.baseTypeName ?? t0.typeName;
      if (tname !== 'timestamp' && tname !== 'timestamptz') {
        throw new TributaryError('config.invalid', `Timestamp column ${t0.name} of ${this.label} has type ${tname}`, { key: 'timestamp.column.name', hint: 'use a timestamp or timestamptz column' });
      }
      this.#tsType = tname === 'timestamptz' ? 'timestamptz' : 'timestamp';
      const expr = tsCols.length === 1 ? this.#q(t0.name) : `COALESCE(${tsCols.map((c) => this.#q(c.name)).join(', ')})`;
      keyExprs.push(expr);
      // parameters are UTC instants; converted to the column's type so an index on it can be used
      keyCasts.push(this.#tsType === 'timestamptz' ? '$::timestamptz' : `($::timestamptz AT TIME ZONE ${quoteLiteral(s.timeZone)})`);
      selectExtra.push(this.#tsType === 'timestamptz' ? `(${expr})::text` : `((${expr}) AT TIME ZONE ${quoteLiteral(s.timeZone)})::text`);
      keyAt.push(null);
    }
    if (this.#usesInc) {
      const inc = need(s.incrementingColumn, 'incrementing.column.name');
      const tname = inc.baseTypeName ?? inc.typeName;
      if (!['int2', 'int4', 'int8', 'numeric', 'oid'].includes(tname)) {
        throw new TributaryError('config.invalid', `Incrementing column ${inc.name} of ${this.label} has type ${tname}`, { key: 'incrementing.column.name', hint: 'use an integer column' });
      }
      keyExprs.push(this.#q(inc.name));
      keyCasts.push(tname === 'numeric' ? '$::numeric' : '$::int8');
      // the column's own text is the key (an integer's or numeric's output is its ::text); no second copy per row
      keyAt.push(byName.get(inc.name)!);
    }
    const cols = columns.map((c) => this.#q(c.name)).join(', ');
    const selectList = `${cols}${selectExtra.map((e, i) => `, ${e} AS tributary_k${i}`).join('')}`;
    const select = `SELECT ${selectList} FROM ${from}`;
    let extra = 0;
    this.#keyIdx = keyAt.map((i) => i ?? columns.length + extra++);
    this.#snapIdx = columns.length + selectExtra.length;
    this.#columnsCount = columns.length;
    this.#toValue = rowToValue(columns.map((c) => c.name), this.#codecs.map((c) => c.parse));
    this.#mainFields = this.#incremental ? this.#snapIdx + 1 : columns.length;
    // timestamps are read in binary: their text costs the server ~3 times what their binary does (and its parse here)
    this.#binary = new Uint8Array(this.#mainFields);
    this.#codecs.forEach((c, i) => (this.#binary[i] = c.binary ?? 0));
    this.#shape = new RowShape(this.#schema, this.#codecs, this.#toValue, this.#binary);
    const tuple = (xs: string[]) => (xs.length === 1 ? xs[0]! : `(${xs.join(', ')})`);
    const params = (start: number) => keyCasts.map((c, i) => c.replace('$', `$${start + i}`));
    const suffix = s.querySuffix ? ' ' + s.querySuffix : '';
    const k = keyCasts.length;
    if (!this.#incremental) {
      this.#sql.main = select + suffix;
      this.#sql.first = this.#sql.main;
    } else {
      const order = ` ORDER BY ${keyExprs.join(', ')} LIMIT ${s.batchMaxRows}${suffix}`;
      // the upper bound (now - timestamp.delay.interval.ms) takes the delay as the last parameter
      const upper = (n: number) => {
        if (!this.#usesTs) return '';
        const bound = `(now() - $${n}::numeric * interval '1 millisecond')`;
        return `${keyExprs[0]} < ${this.#tsType === 'timestamptz' ? bound : `(${bound} AT TIME ZONE ${quoteLiteral(s.timeZone)})`}`;
      };
      // each statement returns its rows and the snapshot it read them with (transactions still in progress), as
      // one extra row whose last field is the snapshot (the rows' own last field is NULL; see #withoutSnapshot). A
      // column of the snapshot on every row costs the server ~10 % more per row.
      const dataSelect = `SELECT ${selectList}, NULL::text FROM ${from}`;
      const snapRow = `SELECT ${Array.from({ length: this.#snapIdx }, () => 'NULL').join(', ')}, pg_current_snapshot()::text`;
      const withSnap = (rest: string) => `(${snapRow}) UNION ALL (${dataSelect}${rest})`;
      this.#sql.main = withSnap(` WHERE ${tuple(keyExprs)} > ${tuple(params(1))}${this.#usesTs ? ' AND ' + upper(k + 1) : ''}${order}`);
      this.#sql.first = withSnap(`${this.#usesTs ? ' WHERE ' + upper(1) : ''}${order}`);
      if (this.#incrementalPortal) {
        // read through a portal batch.max.rows at a time (the LIMIT keeps the plan an index scan)
        const streamOrder = ` ORDER BY ${keyExprs.join(', ')} LIMIT ${s.batchMaxRows * STREAM_BATCHES}${suffix}`;
        this.#sql.stream = withSnap(` WHERE ${tuple(keyExprs)} > ${tuple(params(1))}${streamOrder}`);
        this.#sql.streamFirst = withSnap(streamOrder);
      }
      // timestamp mode: a batch must not end inside a group of rows sharing one timestamp (rows shaped as the batch's)
      if (this.#usesTs && !this.#usesInc) this.#sql.group = `${dataSelect} WHERE ${keyExprs[0]} = ${keyCasts[0]!.replace('$', '$1')} ORDER BY ${keyExprs[0]}`;
      if (this.table) {
        const inXids = (n: number) => `xmin::text::bigint = ANY($${n}::bigint[])`;
        const orderAll = ` ORDER BY ${keyExprs.join(', ')}`;
        this.#sql.reread = `${select} WHERE ${tuple(keyExprs)} > ${tuple(params(1))} AND ${tuple(keyExprs)} <= ${tuple(params(1 + k))} AND ${inXids(1 + 2 * k)}${orderAll}`;
        this.#sql.rereadFromStart = `${select} WHERE ${tuple(keyExprs)} <= ${tuple(params(1))} AND ${inXids(1 + k)}${orderAll}`;
      }
    }
    this.#restore(stored);
    this.#initialized = true;
  }

  get initialized(): boolean {
    return this.#initialized;
  }

  #restore(o: SourceOffset | null): void {
    if (!o || !this.#incremental) {
      if (this.#usesTs && this.s.timestampInitial !== null && this.#incremental) {
        const ms = this.s.timestampInitial === -1 ? Date.now() : this.s.timestampInitial;
        const ts = new Date(ms).toISOString();
        this.#pos.key = this.#usesInc ? [ts, '-1'] : [ts];
        // Confluent: timestamp.initial=-1 means "from now"; rows at exactly that instant are included
      }
      return;
    }
    const key: string[] = [];
    if (this.#usesTs) {
      const text = o[TS_TEXT_KEY];
      if (typeof text === 'string') key.push(text);
      else if (typeof o['timestamp'] === 'number') {
        const ms = o['timestamp'] as number;
        const nanos = typeof o['timestamp_nanos'] === 'number' ? (o['timestamp_nanos'] as number) : (ms % 1000) * 1e6;
        const sec = Math.floor(ms / 1000);
        const iso = new Date(sec * 1000).toISOString().slice(0, 19);
        key.push(`${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}+00`);
      } else return;
    }
    if (this.#usesInc) {
      const inc = o['incrementing'];
      if (inc === undefined || inc === null) return;
      key.push(String(inc));
    }
    this.#pos.key = key;
    const p = o[PENDING_KEY] as Pending | undefined;
    if (p && Array.isArray(p.xids) && p.xids.length) this.#pos.pending = { from: Array.isArray(p.from) ? p.from.map(String) : null, xids: p.xids.map(String) };
  }

  #offsetOf(key: string[] | null, pending: Pending | null): SourceOffset {
    const o: SourceOffset = {};
    if (!this.#incremental || !key) return o;
    let i = 0;
    if (this.#usesTs) {
      const text = key[i++]!;
      const inst = timestampToInstant(text, 'UTC');
      if (typeof inst === 'object') {
        o['timestamp'] = inst.epochSec * 1000 + Math.floor(inst.micros / 1000);
        o['timestamp_nanos'] = inst.micros * 1000;
      }
      o[TS_TEXT_KEY] = text;
    }
    if (this.#usesInc) {
      const t = key[i]!;
      const n = Number(t);
      o['incrementing'] = Number.isSafeInteger(n) ? n : t;
    }
    if (pending && pending.xids.length) o[PENDING_KEY] = { from: pending.from, xids: pending.xids };
    return o;
  }

  #record(row: unknown[], offset: SourceOffset): SourceRecord {
    return { topic: this.topic, key: null, keySchema: null, valueSchema: this.#schema, value: this.#toValue(row), sourcePartition: this.partition, sourceOffset: offset };
  }

  /** the record of row `r` of a block: its value a RowValue, or the plain value when raw values are off */
  #blockRecord(block: RowBlock, r: number, offset: SourceOffset): SourceRecord {
    const value = this.rawValues ? new RowValue(this.#shape!, block, r) : this.#toValue(block.texts(r, this.#columnsCount));
    return { topic: this.topic, key: null, keySchema: null, valueSchema: this.#schema, value, sourcePartition: this.partition, sourceOffset: offset };
  }

  /** Runs the batch statement: its rows as wire bytes, in a buffer sized after the last batch's. */
  async #readBlock(client: pg.Client, req: Omit<RowsRequest, 'fields' | 'sizeHint'>): Promise<RowBlock> {
    return this.#noteSize(await readRows(client, { ...req, fields: this.#mainFields, binary: this.#binary, sizeHint: this.#blockBytes }));
  }

  /** the next batch's buffer starts as large as this one needed (+1/8) */
  #noteSize(block: RowBlock): RowBlock {
    this.#blockBytes = block.size + (block.size >> 3);
    return block;
  }

  /** incrementing mode reads its batches through a portal (timestamp modes cut batches at timestamp groups) */
  get #incrementalPortal(): boolean {
    return this.#usesInc && !this.#usesTs;
  }

  /**
   * The next batch of the open portal, opened first if need be (`text` with `values`): one statement for up to
   * `maxBatches` batches, with the next Execute always asked for before this batch is handed out, so that the server
   * reads it meanwhile instead of waiting for the next statement. One statement sees one snapshot: a bulk scan is
   * consistent, and an incremental portal's `snapshot` row (first) holds for all its batches. `full`: the portal has
   * rows left, or was closed at `maxBatches`.
   */
  async #streamBlock(client: pg.Client, text: string, values: unknown[], snapshot: boolean, maxBatches: number): Promise<{ block: RowBlock; snapText: string; full: boolean }> {
    clearTimeout(this.#idleClose);
    if (!this.#stream) {
      const req = { name: statementName(text), text, values, fields: this.#mainFields, binary: this.#binary, sizeHint: this.#blockBytes };
      // the first Execute also carries the snapshot row
      this.#stream = streamRows(client, req, this.s.batchMaxRows, this.s.batchMaxRows + (snapshot ? 1 : 0));
      this.#stream.more();
      this.#streamBatches = 0;
    }
    // on any error from here the caller releases the portal: a batch taken and not handed out must not be skipped
    const stream = this.#stream;
    const r = await stream.next();
    let block = this.#noteSize(r.block);
    if (this.#streamBatches++ === 0 && snapshot) {
      const first = this.#withoutSnapshot(block);
      block = first.block;
      this.#streamSnap = first.snapText;
    }
    // two Executes are asked for at any time, and no more than maxBatches in all (none is read for nothing)
    if (r.last || this.#streamBatches >= maxBatches) {
      this.#stream = null;
      await stream.close();
    } else {
      if (this.#streamBatches + 1 < maxBatches) stream.more();
      // an incremental portal can be reopened where it stopped; a bulk scan would start over, so it stays open
      if (snapshot) {
        this.#idleClose = setTimeout(() => {
          if (this.#fetching === 0 && this.#stream === stream) void this.release();
        }, STREAM_IDLE_MS);
        this.#idleClose.unref();
      }
    }
    return { block, snapText: this.#streamSnap, full: !r.last };
  }

  /**
   * The batch statement's rows without its snapshot row (the one row whose last field is not NULL; first as the
   * server runs UNION ALL, but looked for anywhere), and that snapshot's text.
   */
  #withoutSnapshot(all: RowBlock): { block: RowBlock; snapText: string } {
    const last = this.#snapIdx;
    let at = 0;
    while (at < all.count && all.isNull(at, last)) at++;
    if (at === all.count) throw new TributaryError('source.query', `Reading ${this.label}: the batch statement returned no snapshot row`, { retriable: true });
    const snapText = all.text(at, last)!;
    const rowAt = all.rowAt;
    rowAt.copyWithin(at, at + 1, all.count);
    return { block: new RowBlock(all.buf, rowAt, all.count - 1, all.size, all.binary), snapText };
  }

  /** every row of a block as node-postgres' array rows of text */
  #textRows(block: RowBlock): unknown[][] {
    const out: unknown[][] = new Array(block.count);
    for (let r = 0; r < block.count; r++) out[r] = block.texts(r, this.#mainFields);
    return out;
  }

  /**
   * Reads the next batch. Returns the records and whether the batch was full (more rows are likely waiting).
   * The querier's position advances here; the runtime commits each record's offset once it is acknowledged.
   */
  async fetch(client: pg.Client): Promise<FetchResult> {
    this.#fetching++;
    try {
      return await this.#fetch(client);
    } finally {
      this.#fetching--;
    }
  }

  async #fetch(client: pg.Client): Promise<FetchResult> {
    if (!this.#incremental) return this.#fetchBulk(client);
    const s = this.s;
    try {
      const out: SourceRecord[] = [];
      const posBefore = this.#pos;
      let pending = posBefore.pending;

      // 1. transactions that were in progress at an earlier read and have finished since: read what they wrote
      //    (finished at this snapshot ⇒ committed rows are visible to the statement that follows)
      if (pending && this.table && posBefore.key && !this.#stream) {
        const snapRow = await client.query({ text: 'SELECT pg_current_snapshot()::text', rowMode: 'array' });
        const snap = parseSnapshot((snapRow.rows[0] as string[])[0]!);
        const done = pending.xids.filter((x) => finishedIn(BigInt(x), snap));
        if (done.length) {
          const left = pending.xids.filter((x) => !done.includes(x));
          const after: Pending | null = left.length ? { from: pending.from, xids: left } : null;
          const xids32 = done.map((x) => (BigInt(x) & 0xffffffffn).toString());
          const r = await client.query(
            pending.from
              ? { text: this.#sql.reread, values: [...pending.from, ...posBefore.key, xids32], rowMode: 'array' }
              : { text: this.#sql.rereadFromStart, values: [...posBefore.key, xids32], rowMode: 'array' },
          );
          const rows = r.rows as unknown[][];
          const offBefore = this.#offsetOf(posBefore.key, pending);
          const offAfter = this.#offsetOf(posBefore.key, after);
          rows.forEach((row, i) => out.push(this.#record(row, i === rows.length - 1 ? offAfter : offBefore)));
          pending = after;
        }
      }

      // 2. rows after the watermark
      let got: { block: RowBlock; snapText: string; full: boolean };
      if (this.#incrementalPortal) {
        const key = posBefore.key;
        got = await this.#streamBlock(client, key ? this.#sql.stream : this.#sql.streamFirst, key ? [...key] : [], true, STREAM_BATCHES);
      } else {
        const values: unknown[] = [];
        let text = this.#sql.main;
        if (posBefore.key) values.push(...posBefore.key);
        else text = this.#sql.first;
        if (this.#usesTs) values.push(s.timestampDelayMs);
        const read = this.#withoutSnapshot(await this.#readBlock(client, { name: statementName(text), text, values }));
        got = { ...read, full: read.block.count >= s.batchMaxRows };
      }
      const { block, snapText, full } = got;
      const n = block.count;
      let key = posBefore.key;
      const ki = this.#keyIdx;
      const notePending = () => {
        // transactions in progress at this read may hold keys at or below the new watermark
        const snap = parseSnapshot(snapText!);
        if (this.table && snap.xip.length) {
          const from = pending ? pending.from : posBefore.key;
          const xids = new Set(pending?.xids ?? []);
          for (const x of snap.xip) xids.add(x.toString());
          pending = { from, xids: [...xids] };
        }
      };
      if (full && this.#sql.group) {
        // timestamp mode: whole groups of one timestamp (as text rows)
        const rows = await this.#wholeGroups(client, this.#textRows(block));
        if (rows.length) notePending();
        for (const row of rows) {
          key = ki.length === 1 ? [row[ki[0]!] as string] : ki.map((i) => row[i] as string);
          out.push(this.#record(row, this.#offsetOf(key, pending)));
        }
      } else if (n) {
        notePending();
        const incOnly = !this.#usesTs && ki.length === 1 && !pending;
        for (let r = 0; r < n; r++) {
          // incrementing mode: the offset straight from the id's digits (no key text per row)
          const id = incOnly ? block.smallInt(r, ki[0]!) : NaN;
          const offset = id === id ? { incrementing: id } : this.#offsetOf(ki.map((i) => block.text(r, i)!), pending);
          out.push(this.#blockRecord(block, r, offset));
        }
        key = ki.map((i) => block.text(n - 1, i)!);
      }
      this.#pos = { key, pending };
      return { records: out, full, bytes: block.size };
    } catch (err) {
      // a portal whose batch was taken but not handed out must not go on past it: reopened from the position
      await this.release();
      throw classifyPgError(err, `Reading ${this.label}`);
    }
  }

  /**
   * Timestamp mode orders by the timestamp alone, so the next batch starts after the last timestamp read: rows of
   * the batch's last timestamp are cut off and read whole next time (Confluent loses the rest of such a group);
   * a batch made of one timestamp only is completed with every row of that timestamp.
   */
  async #wholeGroups(client: pg.Client, rows: unknown[][]): Promise<unknown[][]> {
    const idx = this.#keyIdx[0]!;
    const lastTs = rows[rows.length - 1]![idx];
    let i = rows.length - 1;
    while (i > 0 && rows[i - 1]![idx] === lastTs) i--;
    if (i > 0) return rows.slice(0, i);
    const g = await client.query({ name: statementName(this.#sql.group), text: this.#sql.group, values: [lastTs], rowMode: 'array' });
    return g.rows as unknown[][];
  }

  /** true while batches are read from an open portal: the connection is this querier's until it is closed, so the task keeps polling it */
  get busy(): boolean {
    return this.#stream !== null;
  }

  /** closes an open portal (before the connection is ended or used for anything else) */
  async release(): Promise<void> {
    clearTimeout(this.#idleClose);
    const stream = this.#stream;
    this.#stream = null;
    await stream?.close().catch(() => undefined);
  }

  /** Bulk mode: the whole table through one portal (one snapshot), batch.max.rows at a time, so memory stays bounded. */
  async #fetchBulk(client: pg.Client): Promise<FetchResult> {
    try {
      const { block, full } = await this.#streamBlock(client, this.#sql.main, [], false, Infinity);
      const records: SourceRecord[] = new Array(block.count);
      for (let r = 0; r < block.count; r++) records[r] = this.#blockRecord(block, r, EMPTY_OFFSET);
      return { records, full, bytes: block.size };
    } catch (e) {
      await this.release();
      throw classifyPgError(e, `Reading ${this.label}`);
    }
  }

  /** forget connection-bound state after the connection was lost */
  reset(): void {
    clearTimeout(this.#idleClose);
    this.#stream = null;
  }
}
