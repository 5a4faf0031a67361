import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../src/connectors/embedded-postgres/index.js';

export interface PgTarget {
  name: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  jdbcUrl: string;
  /** a client for test setup (caller ends it) */
  client(): Promise<pg.Client>;
}

let embedded: Promise<EmbeddedPg> | null = null;

/** One embedded PostgreSQL (18.x, wal_level=logical) per test process, stopped at exit. */
export async function embeddedPg(): Promise<PgTarget> {
  embedded ??= startEmbeddedPostgres({ fast: true });
  const e = await embedded;
  return target('embedded-pg18', e.host, e.port, e.user, e.password, 'postgres');
}

export async function stopEmbeddedPg(): Promise<void> {
  if (embedded) await (await embedded).stop();
  embedded = null;
}

/** The machine's PostgreSQL 15 at 127.0.0.1:5432 (trust auth), when it answers. */
export async function localPg(): Promise<PgTarget | null> {
  const host = process.env.PGHOST_TEST ?? '127.0.0.1';
  const port = Number(process.env.PGPORT_TEST ?? 5432);
  const c = new pg.Client({ host, port, user: 'postgres', database: 'test', connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.end();
    return target('local-pg', host, port, 'postgres', 'postgres', 'test');
  } catch {
    return null;
  }
}

/** The targets integration tests run against: embedded PG 18 always; the machine's PostgreSQL when present. */
export async function pgTargets(): Promise<PgTarget[]> {
  const out = [await embeddedPg()];
  const local = await localPg();
  if (local) out.push(local);
  return out;
}

function target(name: string, host: string, port: number, user: string, password: string, database: string): PgTarget {
  return {
    name,
    host,
    port,
    user,
    password,
    database,
    jdbcUrl: `jdbc:postgresql://${host}:${port}/${database}`,
    async client() {
      const c = new pg.Client({ host, port, user, password, database });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
  };
}

export function randomName(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}
