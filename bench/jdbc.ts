import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/connectors/embedded-postgres/index.js';
import { startApp } from '../src/server/app.js';
import { createLogger, setLogLevel } from '../src/runtime/logger.js';
import { executeScript } from '../src/commands/sql.js';

/**
 * `npm run bench -- jdbc [--rows N] [--quick] [--json]`: query polling of a table into the embedded log, beside the
 * rate at which the same driver (node-postgres, same text parsing, same queries and batch size) reads those rows
 * alone, in the same run. Issue floor: Tributary ≥ 60 % of the driver's rate.
 */
export async function runJdbcBench(opts: { rows?: number; quick?: boolean; json?: boolean; batch?: number }): Promise<Record<string, unknown>> {
  setLogLevel('error');
  const rows = opts.rows ?? (opts.quick ? 200_000 : 1_000_000);
  const batch = opts.batch ?? 1000;
  const log = (s: string) => {
    if (!opts.json) process.stderr.write(s + '\n');
  };
  log(`Starting embedded PostgreSQL, loading ${rows} rows…`);
  const db = await startEmbeddedPostgres({ fast: true });
  const client = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres' });
  await client.connect();
  await client.query(`CREATE TABLE bench_rows (id bigserial PRIMARY KEY, name text NOT NULL, amount numeric(12,2) NOT NULL, created timestamptz NOT NULL, note text)`);
  await client.query(`INSERT INTO bench_rows (name, amount, created, note)
    SELECT 'name-' || g, (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second', repeat(md5(g::text), 3) FROM generate_series(1, $1) g`, [rows]);
  await client.query('VACUUM ANALYZE bench_rows');
  const avgRow = Number((await client.query(`SELECT avg(pg_column_size(t.*))::int AS b FROM (SELECT * FROM bench_rows LIMIT 1000) t`)).rows[0].b);

  const raw = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;
  const driver = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres', types: raw });
  await driver.connect();

  // the driver alone, issuing the queries the connector issues
  const driverIncrementing = async () => {
    const t0 = process.hrtime.bigint();
    let last = '0';
    let n = 0;
    for (;;) {
      const r = await driver.query({ text: `SELECT "id", "name", "amount", "created", "note", "id"::text AS k FROM "public"."bench_rows" WHERE "id" > $1::int8 ORDER BY "id" LIMIT ${batch}`, values: [last], rowMode: 'array' });
      if (!r.rows.length) break;
      n += r.rows.length;
      last = (r.rows[r.rows.length - 1] as string[])[5]!;
    }
    return { n, secs: Number(process.hrtime.bigint() - t0) / 1e9 };
  };
  const driverBulk = async () => {
    const t0 = process.hrtime.bigint();
    let n = 0;
    await driver.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await driver.query(`DECLARE c NO SCROLL CURSOR FOR SELECT "id", "name", "amount", "created", "note" FROM "public"."bench_rows"`);
    for (;;) {
      const r = await driver.query({ text: `FETCH FORWARD ${batch} FROM c`, rowMode: 'array' });
      n += r.rows.length;
      if (r.rows.length < batch) break;
    }
    await driver.query('COMMIT');
    return { n, secs: Number(process.hrtime.bigint() - t0) / 1e9 };
  };

  const tributary = async (mode: 'bulk' | 'incrementing') => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
    const app = await startApp({ dataDir, port: 0, logger: createLogger(), fsync: (process.env.BENCH_FSYNC as 'always') ?? 'always' });
    try {
      const name = `BENCH_${mode.toUpperCase()}`;
      const t0 = process.hrtime.bigint();
      await executeScript(app.worker, `CREATE SOURCE CONNECTOR ${name} WITH (
        'connector.class'='io.confluent.connect.jdbc.JdbcSourceConnector', 'connection.url'='${db.jdbcUrl()}',
        'connection.user'='postgres', 'connection.password'='postgres', 'mode'='${mode}', 'incrementing.column.name'='id',
        'topic.prefix'='bench_', 'table.whitelist'='bench_rows', 'batch.max.rows'='${batch}', 'poll.interval.ms'='3600000');`);
      let written = 0;
      for (;;) {
        written = app.worker.details(name).tasks.reduce((a, t) => a + t.metrics.recordsWritten, 0);
        if (written >= rows) break;
        const st = app.worker.status(name);
        if (st.tasks.some((t) => t.state === 'FAILED')) throw new Error(`connector failed: ${st.tasks[0]!.trace}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const m = app.worker.details(name).tasks[0]!.metrics;
      if (process.env.BENCH_DEBUG) log(`  offsets: ${JSON.stringify(await app.worker.offsets(name))}`);
      log(`  ${mode}: poll wait ${Math.round(m.pollMs)} ms, dispatch ${Math.round(m.dispatchMs)} ms, backpressure ${Math.round(m.backpressureMs)} ms over ${Math.round(secs * 1000)} ms`);
      return { n: written, secs };
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  const results: Array<{ mode: string; driver: number; tributary: number; ratio: number }> = [];
  await driverIncrementing(); // warm-up: caches and JIT
  for (const mode of ['bulk', 'incrementing'] as const) {
    log(`Measuring ${mode}…`);
    const d = mode === 'bulk' ? await driverBulk() : await driverIncrementing();
    const t = await tributary(mode);
    const dr = d.n / d.secs;
    const tr = t.n / t.secs;
    results.push({ mode, driver: Math.round(dr), tributary: Math.round(tr), ratio: tr / dr });
  }
  await driver.end();
  await client.end();
  await db.stop();

  const out = {
    benchmark: 'jdbc',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    rows,
    avgRowBytes: avgRow,
    batchMaxRows: batch,
    platform: 'embedded log (fsync before ack)',
    results,
    floor: 0.6,
    pass: results.every((r) => r.ratio >= 0.6),
  };
  if (opts.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    const line = (c: string[]) => '| ' + c.map((x, i) => x.padEnd([14, 18, 20, 10][i]!)).join(' | ') + ' |';
    process.stdout.write(`\nJDBC query polling → embedded log, ${rows} rows (~${avgRow} B), batch.max.rows=${batch}, ${cpus().length} cores shared with PostgreSQL\n`);
    process.stdout.write(line(['mode', 'driver rows/s', 'tributary rows/s', 'ratio']) + '\n');
    for (const r of results) process.stdout.write(line([r.mode, String(r.driver), String(r.tributary), `${(r.ratio * 100).toFixed(0)} %`]) + '\n');
    process.stdout.write(`floor: ≥ 60 % of the driver's rate → ${out.pass ? 'met' : 'NOT met'}\n\n` + JSON.stringify(out) + '\n');
  }
  return out;
}
