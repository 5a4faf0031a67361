/**
 * Debezium compatibility check (issue #4, acceptance 3): Debezium 3.6.1 (Kafka Connect standalone) and
 * Tributary's PostgreSQL CDC connector read the same embedded PostgreSQL 18 — the same snapshot rows, then the
 * same INSERT/UPDATE/DELETE/TRUNCATE stream — into the same Kafka broker with JsonConverter (schemas on for key
 * and value), under topic prefixes `dbz<run>` and `trib<run>`, each with its own slot and publication. Both
 * topics are read back and compared per table and position, key and value, byte-faithfully
 * (see jsondiff.ts); every difference is looked up in bench/debezium/allowlist.json.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Admin } from '@platformatic/kafka';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../src/connectors/embedded-postgres/index.js';
import { createKafkaPlatform } from '../../src/connectors/kafka/platform.js';
import { startApp, type App } from '../../src/server/app.js';
import { executeScript } from '../../src/commands/sql.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { Logger } from '../../src/sdk/logger.js';
import { debeziumVersion, startDebezium, type DebeziumHandle } from './connect.js';
import { readTopics, topicCounts, type ReadRecord } from './kafka-read.js';
import { SCHEMA, TABLES, setupSql, streamSql } from './scenario.js';
import { compareTopics, loadAllowlist, type AllowEntry, type Comparison, type DiffGroup } from './compare.js';

export interface CompatOptions {
  bootstrap: string;
  /** connector properties given to both (e.g. `decimal.handling.mode=string`) */
  extraConfig?: Record<string, string>;
  allowlist?: AllowEntry[];
  /** keep topics, run folders and the Connect log */
  keep?: boolean;
  /** progress lines */
  log?: (line: string) => void;
  /** Tributary's logger (default: the runtime logger) */
  logger?: Logger;
  /** Connect JVM heap, default 512m */
  heap?: string;
}

export interface CompatResult extends Comparison {
  debeziumVersion: string;
  prefixes: { debezium: string; tributary: string };
  timings: Record<string, number>;
  /** where Connect's log was kept (with keep) */
  connectLog?: string;
  /** peak RSS of the Connect JVM during the run, bytes */
  connectPeakRssBytes?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Connector properties both connectors get, apart from prefix, slot and publication. */
export function commonConfig(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'plugin.name': 'pgoutput',
    'schema.include.list': SCHEMA,
    'publication.autocreate.mode': 'filtered',
    'snapshot.mode': 'initial',
    // Debezium skips truncates by default; both are asked to emit them so they can be compared
    'skipped.operations': 'none',
    ...extra,
  };
}

async function waitCounts(bootstrap: string, expect: Map<string, number>, what: string, timeoutMs: number, check: () => Promise<void>): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await check();
    const counts = await topicCounts(bootstrap, [...expect.keys()]);
    const short = [...expect].filter(([t, n]) => (counts.get(t) ?? 0) < n);
    if (!short.length) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${short.map(([t, n]) => `${t} ${counts.get(t) ?? 0}/${n}`).join(', ')}`);
    await sleep(500);
  }
}

/** waits until the record counts of `topics` did not change for `quietMs` */
async function waitQuiet(bootstrap: string, topics: string[], quietMs: number, timeoutMs: number, check: () => Promise<void>): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  for (;;) {
    await check();
    const now = JSON.stringify([...(await topicCounts(bootstrap, topics))]);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    if (Date.now() > end) throw new Error('timed out waiting for the topics to settle');
    await sleep(500);
  }
}

export async function runDebeziumCompat(opts: CompatOptions): Promise<CompatResult> {
  const log = opts.log ?? (() => undefined);
  const run = randomBytes(3).toString('hex');
  const prefixes = { debezium: `dbz${run}`, tributary: `trib${run}` };
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const lap = (name: string, since: number) => (timings[name] = Math.round((Date.now() - since) / 100) / 10);
  const cleanups: Array<() => Promise<unknown>> = [];
  const pairs = TABLES.map((t) => ({ table: t.name, topic: `${SCHEMA}.${t.name}` }));
  const txMeta = String(opts.extraConfig?.['provide.transaction.metadata'] ?? '') === 'true';
  if (txMeta) pairs.push({ table: 'transaction', topic: opts.extraConfig?.['topic.transaction'] ?? 'transaction' });
  const topicsOf = (prefix: string) => pairs.map((p) => `${prefix}.${p.topic}`);
  let dbz: DebeziumHandle | undefined;
  let app: App | undefined;
  let peakRss = 0;
  try {
    let t = Date.now();
    log('starting embedded PostgreSQL 18 (wal_level=logical)…');
    const pgServer: EmbeddedPg = await startEmbeddedPostgres({ fast: true });
    cleanups.push(() => pgServer.stop());
    const sql = new pg.Client({ host: pgServer.host, port: pgServer.port, user: pgServer.user, password: pgServer.password, database: 'postgres' });
    await sql.connect();
    cleanups.unshift(() => sql.end());
    await sql.query(setupSql());
    lap('postgres', t);

    const conn = { host: pgServer.host, port: pgServer.port, user: pgServer.user, password: pgServer.password, dbname: 'postgres' };
    const common = commonConfig(opts.extraConfig);

    t = Date.now();
    log(`starting Kafka Connect standalone + Debezium ${debeziumVersion()} (topic prefix ${prefixes.debezium})…`);
    dbz = await startDebezium({
      bootstrap: opts.bootstrap,
      pg: conn,
      name: `compat-${prefixes.debezium}`,
      heap: opts.heap ?? '512m',
      connectorConfig: { ...common, 'topic.prefix': prefixes.debezium, 'slot.name': `${prefixes.debezium}_slot`, 'publication.name': `${prefixes.debezium}_pub` },
      workerOverrides: { 'plugin.discovery': 'service_load' },
    });
    const d = dbz;
    cleanups.unshift(() => d.stop({ keepDir: opts.keep }));
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rss(d.pid))), 250);
    cleanups.unshift(async () => clearInterval(rssTimer));
    lap('debeziumStart', t);

    t = Date.now();
    log(`starting Tributary's PostgreSQL connector into the same broker (topic prefix ${prefixes.tributary})…`);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tributary-compat-'));
    cleanups.push(async () => (opts.keep ? undefined : rmSync(dataDir, { recursive: true, force: true })));
    const logger = opts.logger ?? createLogger({ component: 'compat' });
    app = await startApp({ dataDir, port: 0, platform: createKafkaPlatform({ 'bootstrap.servers': opts.bootstrap }, logger), logger });
    const a = app;
    cleanups.unshift(() => a.close());
    const tribConfig: Record<string, string> = {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname': conn.host,
      'database.port': String(conn.port),
      'database.user': conn.user,
      'database.password': conn.password,
      'database.dbname': conn.dbname,
      ...common,
      'topic.prefix': prefixes.tributary,
      'slot.name': `${prefixes.tributary}_slot`,
      'publication.name': `${prefixes.tributary}_pub`,
    };
    const name = `COMPAT_${run.toUpperCase()}`;
    await executeScript(app.worker, `CREATE SOURCE CONNECTOR ${name} WITH (${Object.entries(tribConfig).map(([k, v]) => `'${k}' = '${v.replace(/'/g, "''")}'`).join(', ')});`);
    const healthy = async () => {
      const st = a.worker.status(name);
      const bad = st.connector.state === 'FAILED' ? st.connector.trace : st.tasks.find((x) => x.state === 'FAILED')?.trace;
      if (bad) throw new Error(`Tributary's connector failed: ${bad}`);
      const ds = await d.status().catch(() => null);
      const dbad = ds && (ds.connector.state === 'FAILED' ? ds.connector.trace : ds.tasks.find((x) => x.state === 'FAILED')?.trace);
      if (dbad) throw new Error(`Debezium failed: ${dbad}`);
    };
    lap('tributaryStart', t);

    t = Date.now();
    log('waiting for both snapshots…');
    const snapshotCounts = new Map<string, number>();
    for (const tb of TABLES) {
      if (!tb.rows) continue;
      snapshotCounts.set(`${prefixes.debezium}.${SCHEMA}.${tb.name}`, tb.rows);
      snapshotCounts.set(`${prefixes.tributary}.${SCHEMA}.${tb.name}`, tb.rows);
    }
    await waitCounts(opts.bootstrap, snapshotCounts, 'both snapshots', 240_000, healthy);
    lap('snapshots', t);

    t = Date.now();
    const changes = streamSql();
    log(`applying ${changes.length} transactions…`);
    for (const stmt of changes) await sql.query(stmt);
    const endTopics = new Map([
      [`${prefixes.debezium}.${SCHEMA}.zz_end`, 1],
      [`${prefixes.tributary}.${SCHEMA}.zz_end`, 1],
    ]);
    await waitCounts(opts.bootstrap, endTopics, 'the last change', 240_000, healthy);
    await waitQuiet(opts.bootstrap, [...topicsOf(prefixes.debezium), ...topicsOf(prefixes.tributary)], 3000, 60_000, healthy);
    lap('stream', t);

    t = Date.now();
    log('reading both topics back…');
    const [recA, recB] = await Promise.all([readTopics(opts.bootstrap, topicsOf(prefixes.debezium)), readTopics(opts.bootstrap, topicsOf(prefixes.tributary))]);
    lap('read', t);
    const cmp = compareTopics({
      topics: pairs,
      debezium: { prefix: prefixes.debezium, records: recA },
      tributary: { prefix: prefixes.tributary, records: recB },
      allowlist: opts.allowlist ?? loadAllowlist(),
      config: opts.extraConfig,
    });
    lap('total', t0);
    return { ...cmp, debeziumVersion: debeziumVersion(), prefixes, timings, connectLog: opts.keep ? dbz.logFile : undefined, connectPeakRssBytes: peakRss || undefined };
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
    if (!opts.keep) await deleteTopics(opts.bootstrap, [...topicsOf(prefixes.debezium), ...topicsOf(prefixes.tributary)]).catch(() => undefined);
  }
}

function rss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function deleteTopics(bootstrap: string, topics: string[]): Promise<void> {
  const admin = new Admin({ clientId: 'tributary-compat-cleanup', bootstrapBrokers: bootstrap.split(','), strict: false });
  try {
    const existing = new Set(await admin.listTopics({ includeInternals: false }));
    const del = topics.filter((t) => existing.has(t));
    if (del.length) await admin.deleteTopics({ topics: del });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Text report: per table counts, then every difference group with its allowlist status. */
export function formatReport(r: CompatResult): string {
  const lines: string[] = [];
  lines.push(`Debezium ${r.debeziumVersion} (prefix ${r.prefixes.debezium}) vs Tributary (prefix ${r.prefixes.tributary}); schema names compared with the prefix replaced by <prefix>`);
  lines.push('');
  lines.push('table      events dbz/ours  ops (r c u d t, - = tombstone, B/E = transaction BEGIN/END)');
  for (const t of r.tables) {
    const same = t.ops.debezium === t.ops.tributary;
    lines.push(`${t.table.padEnd(10)} ${`${t.debeziumEvents}/${t.tributaryEvents}`.padEnd(16)} ${same ? t.ops.debezium : `dbz ${t.ops.debezium}\n${' '.repeat(28)}ours ${t.ops.tributary}`}`);
  }
  lines.push('');
  const order = (g: DiffGroup) => (g.allowedBy ? { ignored: 3, intended: 2, bug: 1 }[g.allowedBy.status] : 0);
  lines.push(`${r.groups.length} difference groups (table × phase × path × kind): ${r.unexpected.length} not on the allowlist, ${r.groups.filter((g) => g.allowedBy?.status === 'bug').length} known bugs, ${r.groups.filter((g) => g.allowedBy?.status === 'intended').length} intended, ${r.groups.filter((g) => g.allowedBy?.status === 'ignored').length} ignored`);
  // one line per path × kind × verdict, with the tables and phases it occurs in
  const merged = new Map<string, { g: DiffGroup; tables: Set<string>; phases: Set<string>; count: number; examples: DiffGroup['examples'] }>();
  for (const g of r.groups) {
    if (g.allowedBy?.status === 'ignored') continue;
    const id = `${g.path}\u0000${g.kind}\u0000${g.allowedBy?.id ?? ''}`;
    let m = merged.get(id);
    if (!m) merged.set(id, (m = { g, tables: new Set(), phases: new Set(), count: 0, examples: [] }));
    m.tables.add(g.table);
    m.phases.add(g.phase);
    m.count += g.count;
    for (const x of g.examples) {
      if (m.examples.length < 3 && !m.examples.some((y) => y.debezium === x.debezium && y.tributary === x.tributary)) m.examples.push({ ...x, op: `${g.table}#${x.event} ${x.op}` });
    }
  }
  const sorted = [...merged.values()].sort((a, b) => order(a.g) - order(b.g) || a.g.path.localeCompare(b.g.path));
  for (const m of sorted) {
    const status = m.g.allowedBy ? `${m.g.allowedBy.status}:${m.g.allowedBy.id}` : 'NEW';
    lines.push(`- [${status}] ${m.g.path} (${m.g.kind}) ×${m.count} in ${[...m.tables].join(',')} (${[...m.phases].join('+')})`);
    for (const x of m.examples) lines.push(`    ${x.op}: debezium ${x.debezium || '(absent)'}  |  tributary ${x.tributary || '(absent)'}`);
  }
  const ignored = r.groups.filter((g) => g.allowedBy?.status === 'ignored');
  if (ignored.length) lines.push(`ignored (${ignored.length} groups): ${[...new Set(ignored.map((g) => `${g.path} [${g.allowedBy!.id}]`))].join(', ')}`);
  if (r.unused.length) lines.push(`allowlist entries that matched nothing: ${r.unused.map((e) => `${e.id} (${e.status})`).join(', ')}`);
  lines.push('');
  lines.push(`timings (s): ${Object.entries(r.timings).map(([k, v]) => `${k} ${v}`).join(', ')}${r.connectPeakRssBytes ? `; Connect JVM peak RSS ${Math.round(r.connectPeakRssBytes / 2 ** 20)} MB` : ''}`);
  return lines.join('\n');
}

export type { ReadRecord };
