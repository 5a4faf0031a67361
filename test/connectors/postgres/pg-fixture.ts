/**
 * Test fixture: one embedded PostgreSQL 18 per test process (wal_level=logical, small logical_decoding_work_mem so
 * large transactions are streamed), stopped at exit; plus the machine's PostgreSQL 15 when its wal_level is logical.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../../src/connectors/embedded-postgres/index.js';
import { createLogger } from '../../../src/runtime/logger.js';
import { partitionKey, type SourceOffset, type SourcePartition, type SourceRecord } from '../../../src/sdk/record.js';
import { PostgresCdcTask } from '../../../src/connectors/postgres/task.js';

export interface PgServer {
  name: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  client(): Promise<pg.Client>;
}

let embedded: Promise<EmbeddedPg> | null = null;

export async function embeddedPg18(): Promise<PgServer> {
  embedded ??= (async () => {
    const e = await startEmbeddedPostgres({ fast: true });
    const c = new pg.Client({ host: e.host, port: e.port, user: e.user, password: e.password, database: 'postgres' });
    await c.connect();
    await c.query(`ALTER SYSTEM SET logical_decoding_work_mem = '64kB'`);
    await c.query('SELECT pg_reload_conf()');
    await c.end();
    return e;
  })();
  const e = await embedded;
  return server('embedded-pg18', e.host, e.port, e.user, e.password, 'postgres');
}

export async function stopFixture(): Promise<void> {
  if (embedded) await (await embedded).stop();
  embedded = null;
}

/** The machine's PostgreSQL 15 when it is reachable and wal_level=logical; else the reason it is skipped. */
export async function localPg15(): Promise<PgServer | string> {
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const r = await c.query(`SELECT current_setting('wal_level') AS w`);
    await c.end();
    if (r.rows[0].w !== 'logical') return `PostgreSQL at 127.0.0.1:5432 has wal_level=${r.rows[0].w}, not logical`;
    return server('local-pg15', '127.0.0.1', 5432, 'postgres', '', 'test');
  } catch (e) {
    return `PostgreSQL at 127.0.0.1:5432 not reachable: ${(e as Error).message}`;
  }
}

function server(name: string, host: string, port: number, user: string, password: string, database: string): PgServer {
  return {
    name, host, port, user, password, database,
    async client() {
      const c = new pg.Client({ host, port, user, password, database });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
  };
}

export function rnd(prefix = 't'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export function baseConfig(s: PgServer, names: { slot: string; pub: string; prefix: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'database.hostname': s.host,
    'database.port': s.port,
    'database.user': s.user,
    'database.password': s.password,
    'database.dbname': s.database,
    'topic.prefix': names.prefix,
    'slot.name': names.slot,
    'publication.name': names.pub,
    'status.update.interval.ms': 200,
    ...extra,
  };
}

/** An in-memory offset store and a runtime-like driver around one task. */
export class Harness {
  offsets = new Map<string, SourceOffset>();
  task: PostgresCdcTask | null = null;
  received: SourceRecord[] = [];
  private abort = new AbortController();

  async start(config: Record<string, unknown>): Promise<PostgresCdcTask> {
    const t = new PostgresCdcTask();
    const logger = createLogger({ test: true });
    await t.start(config, {
      connector: 'test', taskId: 0, logger,
      offset: async (p: SourcePartition) => this.offsets.get(partitionKey(p)) ?? null,
    });
    this.task = t;
    this.abort = new AbortController();
    return t;
  }

  /** polls until `until(all records so far)` holds; commits each batch (like the runtime) unless ack=false */
  async pollUntil(until: (rs: SourceRecord[]) => boolean, opts: { timeoutMs?: number; ack?: boolean | ((r: SourceRecord) => boolean) } = {}): Promise<SourceRecord[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? 20000);
    while (!until(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${this.received.length} records: ${this.received.map(describe).slice(-20).join(' | ')}`);
      const batch = await this.task!.poll(this.abort.signal);
      if (!batch.length) continue;
      this.received.push(...batch);
      const ack = opts.ack ?? true;
      if (ack) {
        let last: SourceRecord | null = null;
        for (const r of batch) {
          if (typeof ack === 'function' && !ack(r)) break;
          last = r;
        }
        if (last) await this.ack(last);
      }
    }
    return this.received;
  }

  async ack(r: SourceRecord): Promise<void> {
    this.offsets.set(partitionKey(r.sourcePartition), r.sourceOffset);
    await this.task!.commit!([{ partition: r.sourcePartition, offset: r.sourceOffset }]);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.task) await this.task.stop();
    this.task = null;
  }
}

export function describe(r: SourceRecord): string {
  const v = r.value as { op?: string; after?: Record<string, unknown>; before?: Record<string, unknown> } | null;
  if (!v) return `${r.topic.split('.').pop()}:tombstone`;
  return `${r.topic.split('.').pop()}:${v.op}:${JSON.stringify(v.after ?? v.before ?? null, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))}`;
}

export function ops(rs: SourceRecord[]): string[] {
  return rs.filter((r) => r.value && (r.value as { op?: string }).op).map((r) => (r.value as { op: string }).op);
}

export async function cleanupSlot(s: PgServer, slot: string, pub?: string): Promise<void> {
  const c = await s.client();
  try {
    for (let i = 0; i < 40; i++) {
      const r = await c.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (!r.rows.length) break;
      if (!r.rows[0].active) {
        await c.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    if (pub) await c.query(`DROP PUBLICATION IF EXISTS "${pub}"`);
  } finally {
    await c.end();
  }
}
