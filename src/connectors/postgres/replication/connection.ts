/**
 * A logical replication client. node-postgres opens the connection (startup with `replication=database`, TLS,
 * every auth method) and runs the replication commands that answer with rows; for START_REPLICATION we take the
 * socket over and frame the CopyBoth stream ourselves: CopyData payloads are handed to the consumer as views into
 * the received chunk (no copy), and the consumer can suspend the stream (backpressure, async work) — the unread
 * remainder is kept and the socket is paused, so TCP flow control holds the server back.
 */
import pg from 'pg';
import type { Socket } from 'node:net';
import { TributaryError } from '../../../sdk/errors.js';
import { formatLsn, nowPgTimestamp, readLsn, writeLsn, type Lsn } from '../lsn.js';

export interface PgConnectOptions {
  host: string;
  port: number;
  user: string;
  password?: string | null;
  database: string;
  ssl?: pg.ClientConfig['ssl'];
  applicationName?: string;
  connectTimeoutMs?: number;
  /** TCP keepalive on the connections (database.tcpKeepAlive, default true) */
  keepAlive?: boolean;
}

/** Session settings that make text output deterministic for the type converters. */
export const SESSION_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=iso_8601 -c extra_float_digits=3';

export function clientConfig(o: PgConnectOptions, replication: boolean): pg.ClientConfig {
  const cfg: pg.ClientConfig & { replication?: string } = {
    host: o.host,
    port: o.port,
    user: o.user,
    database: o.database,
    ssl: o.ssl ?? false,
    application_name: o.applicationName ?? 'tributary',
    options: SESSION_OPTIONS,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 30000,
    keepAlive: o.keepAlive ?? true,
  };
  if (o.password !== undefined && o.password !== null) cfg.password = o.password;
  if (replication) cfg.replication = 'database';
  return cfg;
}

/** Maps a driver/server error to a TributaryError with the right code and retriability. */
export function classifyPgError(err: unknown, what: string): TributaryError {
  if (err instanceof TributaryError) return err;
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  const msg = `${what}: ${e?.message ?? String(err)}`;
  if (code === '28P01' || code === '28000') {
    return new TributaryError('source.auth', msg, { cause: err, hint: 'check database.user / database.password and pg_hba.conf (the role needs REPLICATION and a replication line in pg_hba.conf)' });
  }
  if (code === '42501') {
    return new TributaryError('source.auth', msg, { cause: err, hint: 'the role lacks a privilege: it needs REPLICATION and SELECT on captured tables (see docs/postgres-cdc.md)' });
  }
  if (code === '3D000') return new TributaryError('config.invalid', msg, { cause: err, key: 'database.dbname' });
  if (code === '55006') {
    return new TributaryError('source.connection', msg, { cause: err, retriable: true, hint: 'the replication slot is in use by another connection (another task or a stale walsender); it is retried' });
  }
  // node-postgres reports a client whose connection broke earlier as "not queryable", without a SQLSTATE
  if (/^(08|57P|53)/.test(code) || /ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|timeout|terminated|Connection terminated|not queryable/i.test(String(code) + ' ' + (e?.message ?? ''))) {
    return new TributaryError('source.connection', msg, { cause: err, retriable: true });
  }
  return new TributaryError('source.query', msg, { cause: err, retriable: false });
}

export async function connectClient(o: PgConnectOptions, replication: boolean): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(o, replication));
  client.on('error', () => { /* surfaced through the operation in progress */ });
  try {
    await client.connect();
  } catch (err) {
    throw classifyPgError(err, `cannot connect to PostgreSQL at ${o.host}:${o.port}`);
  }
  return client;
}

/** Replication commands take no bind parameters: names are validated, then double-quoted. */
export function validateSlotName(name: string): string | undefined {
  return /^[a-z0-9_]{1,63}$/.test(name) ? undefined : 'a replication slot name may contain only lower-case letters, digits and underscores (at most 63)';
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function quoteLiteral(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

export interface IdentifySystem {
  systemId: string;
  timeline: number;
  xlogpos: Lsn;
  dbname: string | null;
}

export interface CreatedSlot {
  slotName: string;
  consistentPoint: Lsn;
  snapshotName: string | null;
}

export interface StreamHandlers {
  /** an XLogData message: its payload is buf[start, end); `walStart` is the LSN of the payload. May return a promise to suspend. */
  data(buf: Buffer, start: number, end: number, walStart: Lsn, walEnd: Lsn): void | Promise<void>;
  keepalive(walEnd: Lsn, replyRequested: boolean): void;
  /** the stream ended (error = undefined for a clean end after stop()) */
  end(error?: Error): void;
}

const STATUS = Buffer.alloc(1 + 4 + 1 + 8 + 8 + 8 + 8 + 1);

export class ReplicationConnection {
  readonly client: pg.Client;
  serverVersionNum = 0;
  private socket: Socket | null = null;
  private handlers: StreamHandlers | null = null;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private need = 5;
  private suspended = 0;
  private rest: { buf: Buffer; off: number } | null = null;
  private streaming = false;
  private ended = false;
  private stopping = false;
  /** highest walEnd seen from the server */
  serverWalEnd: Lsn = 0;
  lastReceivedLsn: Lsn = 0;

  private constructor(client: pg.Client) {
    this.client = client;
  }

  static async connect(o: PgConnectOptions): Promise<ReplicationConnection> {
    const client = await connectClient(o, true);
    const conn = new ReplicationConnection(client);
    try {
      const r = await client.query('SHOW server_version_num');
      conn.serverVersionNum = Number(r.rows[0].server_version_num);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw classifyPgError(err, 'cannot read server version');
    }
    return conn;
  }

  async identifySystem(): Promise<IdentifySystem> {
    const r = await this.client.query('IDENTIFY_SYSTEM');
    const row = r.rows[0];
    return { systemId: String(row.systemid), timeline: Number(row.timeline), xlogpos: parseLsnText(row.xlogpos), dbname: row.dbname ?? null };
  }

  /** CREATE_REPLICATION_SLOT … LOGICAL pgoutput, exporting a snapshot when asked. Keep this connection idle until readers imported it. */
  async createSlot(name: string, exportSnapshot: boolean): Promise<CreatedSlot> {
    const bad = validateSlotName(name);
    if (bad) throw new TributaryError('config.invalid', `invalid slot name '${name}': ${bad}`, { key: 'slot.name' });
    const q = this.serverVersionNum >= 150000
      ? `CREATE_REPLICATION_SLOT ${quoteIdent(name)} LOGICAL pgoutput (SNAPSHOT '${exportSnapshot ? 'export' : 'nothing'}')`
      : `CREATE_REPLICATION_SLOT ${quoteIdent(name)} LOGICAL pgoutput ${exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`;
    try {
      const r = await this.client.query(q);
      const row = r.rows[0];
      return { slotName: row.slot_name, consistentPoint: parseLsnText(row.consistent_point), snapshotName: row.snapshot_name ?? null };
    } catch (err) {
      throw classifyPgError(err, `cannot create replication slot '${name}'`);
    }
  }

  async dropSlot(name: string): Promise<void> {
    const bad = validateSlotName(name);
    if (bad) throw new TributaryError('config.invalid', `invalid slot name '${name}': ${bad}`, { key: 'slot.name' });
    await this.client.query(`DROP_REPLICATION_SLOT ${quoteIdent(name)}${this.serverVersionNum >= 150000 ? ' WAIT' : ''}`);
  }

  /** pgoutput protocol version for this server: 14 → 2, 15 → 3, 16+ → 4 (streaming 'on', never 'parallel'). */
  protoVersion(): number {
    if (this.serverVersionNum >= 160000) return 4;
    if (this.serverVersionNum >= 150000) return 3;
    if (this.serverVersionNum >= 140000) return 2;
    return 1;
  }

  /**
   * START_REPLICATION: from here the socket is ours. `startLsn` 0 lets the server start at the slot's
   * confirmed_flush_lsn.
   */
  startReplication(slot: string, startLsn: Lsn, options: Record<string, string>, handlers: StreamHandlers): void {
    const bad = validateSlotName(slot);
    if (bad) throw new TributaryError('config.invalid', `invalid slot name '${slot}': ${bad}`, { key: 'slot.name' });
    const opts = Object.entries(options).map(([k, v]) => `${quoteIdent(k)} ${quoteLiteral(v)}`).join(', ');
    const sql = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(startLsn)}${opts ? ` (${opts})` : ''}`;
    const conn = (this.client as unknown as { connection: { stream: Socket } }).connection;
    const socket = conn.stream;
    socket.removeAllListeners('data');
    this.socket = socket;
    this.handlers = handlers;
    socket.on('data', (chunk: Buffer) => this.onChunk(chunk));
    socket.on('close', () => this.finish(this.stopping ? undefined : new TributaryError('source.connection', 'replication connection closed by the server', { retriable: true })));
    socket.on('error', (err) => this.finish(classifyPgError(err, 'replication connection failed')));
    const body = Buffer.from(sql + '\0', 'utf8');
    const msg = Buffer.allocUnsafe(5 + body.length);
    msg[0] = 0x51; // 'Q'
    msg.writeUInt32BE(4 + body.length, 1);
    body.copy(msg, 5);
    socket.write(msg);
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.streaming = false;
    this.handlers?.end(err);
  }

  private onChunk(chunk: Buffer): void {
    if (this.suspended > 0) {
      // data that was already in flight when we paused: keep it behind the unread remainder
      const r = this.rest;
      this.rest = r ? { buf: Buffer.concat([r.buf.subarray(r.off), chunk]), off: 0 } : { buf: chunk, off: 0 };
      return;
    }
    if (this.pendingLen > 0) {
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      if (this.pendingLen < this.need) return;
      chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLen);
      this.pending = [];
      this.pendingLen = 0;
    }
    this.process(chunk, 0);
  }

  private process(buf: Buffer, off: number): void {
    const len = buf.length;
    this.need = 5;
    while (off + 5 <= len) {
      if (this.suspended > 0) break;
      const mlen = buf.readUInt32BE(off + 1);
      const next = off + 1 + mlen;
      if (next > len) {
        this.need = next - off;
        break;
      }
      const type = buf[off]!;
      const start = off + 5;
      off = next;
      if (type === 0x64) {
        // CopyData
        const kind = buf[start];
        if (kind === 0x77) {
          // XLogData: 'w' walStart(8) walEnd(8) sendTime(8) data
          const walStart = readLsn(buf, start + 1);
          const walEnd = readLsn(buf, start + 9);
          if (walEnd > this.serverWalEnd) this.serverWalEnd = walEnd;
          if (walStart > this.lastReceivedLsn) this.lastReceivedLsn = walStart;
          let p: void | Promise<void>;
          try {
            p = this.handlers!.data(buf, start + 25, next, walStart, walEnd);
          } catch (err) {
            this.fail(err);
            return;
          }
          if (p !== undefined) {
            this.suspendFor(p, buf, off);
            return;
          }
        } else if (kind === 0x6b) {
          // keepalive: 'k' walEnd(8) sendTime(8) reply(1)
          const walEnd = readLsn(buf, start + 1);
          if (walEnd > this.serverWalEnd) this.serverWalEnd = walEnd;
          this.handlers!.keepalive(walEnd, buf[start + 17] === 1);
        }
      } else if (type === 0x57) {
        this.streaming = true; // CopyBothResponse
      } else if (type === 0x45) {
        this.fail(parseErrorResponse(buf, start, next));
        return;
      } else if (type === 0x63) {
        // CopyDone from server: answer with our CopyDone if we have not yet
        if (!this.stopping) this.sendCopyDone();
      } else if (type === 0x5a) {
        // ReadyForQuery after the copy ended
        this.finish(this.stopping ? undefined : new TributaryError('source.connection', 'replication stream ended by the server', { retriable: true }));
      }
      // 'C' CommandComplete, 'N' notice, 'S' parameter status: ignored
    }
    if (off < len) {
      if (this.suspended > 0) {
        this.rest = { buf, off };
      } else {
        const tail = buf.subarray(off);
        this.pending = [tail];
        this.pendingLen = tail.length;
      }
    }
  }

  private suspendFor(p: Promise<void>, buf: Buffer, off: number): void {
    this.suspend();
    this.rest = { buf, off };
    p.then(
      () => this.unsuspend(),
      (err) => this.fail(err),
    );
  }

  /** Stop reading (the socket is paused; the unread remainder is kept). Nested calls need as many unsuspend(). */
  suspend(): void {
    this.suspended++;
    if (this.suspended === 1) this.socket?.pause();
  }

  unsuspend(): void {
    if (this.suspended === 0) return;
    this.suspended--;
    if (this.suspended > 0 || this.ended) return;
    const rest = this.rest;
    this.rest = null;
    if (rest) this.process(rest.buf, rest.off);
    if (this.suspended === 0 && !this.ended) this.socket?.resume();
  }

  get isSuspended(): boolean {
    return this.suspended > 0;
  }

  private fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.finish(e);
    this.socket?.destroy();
  }

  /** Standby status update: write/flush/apply LSNs. */
  sendStatus(write: Lsn, flush: Lsn, apply: Lsn, replyRequested = false): void {
    if (!this.socket || this.ended || !this.streaming) return;
    const b = Buffer.allocUnsafe(STATUS.length);
    b[0] = 0x64;
    b.writeUInt32BE(STATUS.length - 1, 1);
    b[5] = 0x72; // 'r'
    writeLsn(b, 6, write);
    writeLsn(b, 14, flush);
    writeLsn(b, 22, apply);
    nowPgTimestamp(b, 30);
    b[38] = replyRequested ? 1 : 0;
    this.socket.write(b);
  }

  private sendCopyDone(): void {
    if (!this.socket || this.socket.destroyed) return;
    this.socket.write(Buffer.from([0x63, 0, 0, 0, 4]));
  }

  get isStreaming(): boolean {
    return this.streaming && !this.ended;
  }

  /** Ends the stream (CopyDone, then Terminate) and closes the connection. */
  async close(): Promise<void> {
    this.stopping = true;
    if (this.socket) {
      const s = this.socket;
      if (!s.destroyed) {
        if (this.streaming) this.sendCopyDone();
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { s.destroy(); resolve(); }, 2000);
          s.once('close', () => { clearTimeout(t); resolve(); });
          // Terminate
          s.end(Buffer.from([0x58, 0, 0, 0, 4]));
        });
      }
      this.finish(undefined);
      return;
    }
    await this.client.end().catch(() => undefined);
  }
}

function parseLsnText(v: unknown): Lsn {
  const s = String(v);
  const slash = s.indexOf('/');
  return parseInt(s.slice(0, slash), 16) * 4294967296 + parseInt(s.slice(slash + 1), 16);
}

function parseErrorResponse(buf: Buffer, start: number, end: number): Error {
  const fields: Record<string, string> = {};
  let p = start;
  while (p < end && buf[p] !== 0) {
    const code = String.fromCharCode(buf[p]!);
    const z = buf.indexOf(0, p + 1);
    fields[code] = buf.toString('utf8', p + 1, z);
    p = z + 1;
  }
  const err = new Error(fields.M ?? 'replication error') as Error & { code?: string; severity?: string; detail?: string };
  err.code = fields.C;
  err.severity = fields.S;
  if (fields.D) err.detail = fields.D;
  return classifyPgError(err, 'replication stream error');
}
