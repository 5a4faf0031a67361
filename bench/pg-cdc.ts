import pg from 'pg';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, freePort, type EmbeddedPg } from '../src/connectors/embedded-postgres/index.js';
import { createEmbeddedLog, type EmbeddedLog } from '../src/connectors/embedded-log/index.js';
import { startApp, type App } from '../src/server/app.js';
import { createLogger, setLogLevel } from '../src/runtime/logger.js';
import { executeScript } from '../src/commands/sql.js';
import type { PlatformRecord } from '../src/sdk/record.js';
import { brokerUnavailableReason, startBroker, tempBrokerDir } from '../src/connectors/kafka/broker.js';
import { createKafkaPlatform } from '../src/connectors/kafka/platform.js';
import { cpuSecondsOf, formatTable, machine, mb, now, percentile, progress, sampleRss, secondsSince, sleep } from './common.js';

/**
 * `npm run bench -- pg-cdc [--rows N] [--quick] [--json]` — PostgreSQL change data capture on an embedded
 * PostgreSQL 18, all from one run:
 *  - backlog drain of N single-row transactions (~200 B rows) into the embedded log and into Kafka (a broker of the
 *    bench's own, or --bootstrap / KAFKA_BOOTSTRAP_SERVERS; acks=all, idempotent), beside pg_recvlogical reading
 *    the same WAL with the same pgoutput options into /dev/null (the decode ceiling);
 *  - steady-state commit→platform latency p50/p99 at 1k and 5k changes/s (row clock_timestamp() → the time the
 *    embedded log acknowledged the record, i.e. after its fsync);
 *  - snapshot rows/s;
 *  - peak RSS of a `tributary server` process while it streams one large transaction.
 * Floors (issue 4): drain ≥ 60 % of the decode ceiling; p99 ≤ 100 ms at 5k/s; peak RSS ≤ 200 MB.
 */
export async function runPgCdcBench(opts: { quick?: boolean; rows?: number; json?: boolean; bootstrap?: string }): Promise<Record<string, unknown>> {
  setLogLevel('error');
  const log = progress(opts.json);
  const quick = !!opts.quick;
  const N = opts.rows ?? (quick ? 100_000 : 1_000_000);
  const SNAP = quick ? 200_000 : 1_000_000;
  const BIG = quick ? 500_000 : 5_000_000;
  const LAT_SECS = quick ? 5 : 10;
  // BENCH_PHASES=drain,latency,snapshot,big runs a subset (profiling); BENCH_BIG_CONFIG adds JSON keys to the BIG connector
  const phases = new Set((process.env.BENCH_PHASES ?? 'drain,latency,snapshot,big').split(','));

  log(`Starting embedded PostgreSQL…`);
  const db = await startEmbeddedPostgres({ fast: true });
  const conn = { host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres' };
  const sql = new pg.Client(conn);
  await sql.connect();
  // the embedded server runs with synchronous_commit=off; a walsender sends only flushed WAL, so an asynchronous
  // commit would wait for the WAL writer (wal_writer_delay, 200 ms) — the load sessions commit synchronously
  await sql.query('SET synchronous_commit = on');
  const version = String((await sql.query('SHOW server_version')).rows[0].server_version);
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    await sql.query(`
      CREATE TABLE bench_cdc (id bigserial PRIMARY KEY, born_us bigint NOT NULL, name text NOT NULL, amount numeric(12,2), pad text);
      CREATE TABLE bench_lat (LIKE bench_cdc INCLUDING ALL);
      CREATE TABLE bench_snap (LIKE bench_cdc INCLUDING ALL);
      CREATE TABLE bench_big (LIKE bench_cdc INCLUDING ALL);
      CREATE PUBLICATION pub_drain FOR TABLE bench_cdc;
      CREATE PUBLICATION pub_lat FOR TABLE bench_lat;
      CREATE PUBLICATION pub_snap FOR TABLE bench_snap;
      CREATE PUBLICATION pub_big FOR TABLE bench_big;
      ${BENCH_GEN_SQL}`);
    const rowBytes = async (t: string) => Number((await sql.query(`SELECT avg(pg_column_size(x.*))::int AS b FROM (SELECT * FROM ${t} LIMIT 1000) x`)).rows[0].b);

    const connectorSql = (name: string, slot: string, pub: string, mode: string, extra = '') => `CREATE SOURCE CONNECTOR ${name} WITH (
      'connector.class' = 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname' = '${db.host}', 'database.port' = '${db.port}', 'database.user' = '${db.user}',
      'database.password' = '${db.password}', 'database.dbname' = 'postgres', 'topic.prefix' = 'bench',
      'slot.name' = '${slot}', 'publication.name' = '${pub}', 'publication.autocreate.mode' = 'disabled',
      'snapshot.mode' = '${mode}', 'key.converter.schemas.enable' = 'false', 'value.converter.schemas.enable' = 'false'${extra});`;

    let endLsn = '0/0';
    let walBytes = 0;
    let avgRow = 0;
    let ceiling: { secs: number; eventsPerSec: number; binary: string } | { error: string } = { error: 'not run' };
    let sqlDecode = { secs: NaN, messages: 0 };
    let drainSecs = NaN;
    let drainCpuPerM = NaN;
    let drainRate = NaN;
    let kafkaDrain: { secs: number; eventsPerSec: number; cpuSecondsPerMillion: number } | { error: string } = { error: 'not run' };
    const latency: Array<{ rate: number; achievedPerSec: number; p50: number; p99: number; max: number; n: number }> = [];
    let snapSecs = NaN;
    let idleRss = NaN;
    let peakRss = NaN;
    let bigCpu = NaN;
    let insertSecs = NaN;
    let bigSecs = NaN;
    let t0 = now();
    if (phases.has('drain')) {
      // ------------------------------------------------------------------ backlog drain vs pg_recvlogical
      log(`Backlog: ${N} single-row transactions…`);
      await sql.query(`SELECT pg_create_logical_replication_slot('s_trib', 'pgoutput'), pg_create_logical_replication_slot('s_recv', 'pgoutput'), pg_create_logical_replication_slot('s_sql', 'pgoutput'), pg_create_logical_replication_slot('s_kafka', 'pgoutput')`);
      t0 = now();
      await sql.query(`CALL bench_gen('bench_cdc', $1, 0)`, [N]);
      const genSecs = secondsSince(t0);
      endLsn = String((await sql.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l);
      walBytes = Number((await sql.query(`SELECT $1::pg_lsn - confirmed_flush_lsn AS b FROM pg_replication_slots WHERE slot_name = 's_recv'`, [endLsn])).rows[0].b);
      avgRow = await rowBytes('bench_cdc');
      log(`  generated in ${genSecs.toFixed(1)} s (${Math.round(N / genSecs)} tx/s), ${mb(walBytes)} MB of WAL, rows ~${avgRow} B`);

      const recv = findRecvlogical(version);
      if (recv) {
        const proto = Number(version.split('.')[0]) >= 16 ? 4 : 3;
        t0 = now();
        const code = await run(recv, ['-h', db.host, '-p', String(db.port), '-U', db.user, '-d', 'postgres', '-S', 's_recv', '--start', '-E', endLsn, '--no-loop', '-s', '1',
          '-o', `proto_version=${proto}`, '-o', 'publication_names=pub_drain', '-o', 'streaming=on', '-o', 'messages=true', '-f', '/dev/null'], { PGPASSWORD: db.password });
        const secs = secondsSince(t0);
        ceiling = code === 0 ? { secs, eventsPerSec: N / secs, binary: recv } : { error: `pg_recvlogical exited with ${code}` };
        log(`  pg_recvlogical: ${secs.toFixed(2)} s → ${Math.round(N / secs)} events/s`);
      } else ceiling = { error: 'pg_recvlogical not found' };
      await sql.query(`SELECT pg_drop_replication_slot('s_recv')`);
      // the server's decoding alone (no network, no client): pgoutput through the SQL interface
      t0 = now();
      const decoded = Number((await sql.query(`SELECT count(*) AS n FROM pg_logical_slot_get_binary_changes('s_sql', $1::pg_lsn, NULL, 'proto_version', $2, 'publication_names', 'pub_drain')`, [endLsn, String(Number(version.split('.')[0]) >= 16 ? 4 : 3)])).rows[0].n);
      sqlDecode = { secs: secondsSince(t0), messages: decoded };
      log(`  server-side decode (pg_logical_slot_get_binary_changes): ${sqlDecode.secs.toFixed(2)} s → ${Math.round(N / sqlDecode.secs)} events/s (${decoded} messages)`);
      await sql.query(`SELECT pg_drop_replication_slot('s_sql')`);

    }

    // Tributary in this process, the embedded log wrapped to timestamp each acknowledgement for the latency run
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-bench-pgcdc-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const embedded = await createEmbeddedLog({ dir: join(dataDir, 'log'), fsync: 'always' });
    let latencies: number[] | null = null;
    let latencyTopic = '';
    const send = async (records: PlatformRecord[]) => {
      await embedded.send(records);
      if (latencies) {
        const ackMs = Date.now();
        for (const r of records) if (r.topic === latencyTopic && r.value) latencies.push(ackMs - bornMs(r.value));
      }
    };
    const platform = new Proxy(embedded, {
      get(t, p) {
        if (p === 'send') return send;
        const v = Reflect.get(t, p, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    }) as EmbeddedLog;
    const app = await startApp({ dataDir, port: 0, platform, logger: createLogger() });
    cleanups.unshift(() => app.close());
    const written = (name: string) => app.worker.details(name).tasks.reduce((a, t) => a + t.metrics.recordsWritten, 0);
    const waitWritten = async (name: string, n: number, timeoutMs: number) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        if (written(name) >= n) return;
        const st = app.worker.status(name);
        if (st.tasks.some((t) => t.state === 'FAILED')) throw new Error(`connector ${name} failed: ${st.tasks[0]!.trace}`);
        if (Date.now() > end) throw new Error(`timed out: ${written(name)} of ${n} records written by ${name}`);
        await sleep(10);
      }
    };

    if (phases.has('drain')) {
      log(`  Tributary draining the backlog into the embedded log…`);
      const cpu0 = process.cpuUsage();
      t0 = now();
      await executeScript(app.worker, connectorSql('DRAIN', 's_trib', 'pub_drain', 'no_data'));
      await waitWritten('DRAIN', N, 600_000);
      drainSecs = secondsSince(t0);
      const cpu = process.cpuUsage(cpu0);
      drainCpuPerM = ((cpu.user + cpu.system) / 1e6) / (N / 1e6);
      drainRate = N / drainSecs;
      log(`  Tributary: ${drainSecs.toFixed(2)} s → ${Math.round(drainRate)} events/s (${drainCpuPerM.toFixed(1)} CPU-s per million)`);
      await executeScript(app.worker, 'DROP CONNECTOR DRAIN;');
      await sql.query(`SELECT pg_drop_replication_slot('s_trib')`).catch(() => undefined);

      // the same backlog from its own slot into Kafka
      const bootstrap = opts.bootstrap ?? process.env.KAFKA_BOOTSTRAP_SERVERS;
      const reason = bootstrap ? undefined : brokerUnavailableReason();
      if (reason) {
        kafkaDrain = { error: `no Kafka: ${reason}` };
        log(`  Kafka drain skipped: ${reason}`);
      } else {
        let stopBroker = async () => {};
        let servers = bootstrap;
        if (!servers) {
          const bdir = tempBrokerDir();
          const broker = await startBroker({ port: 0, dir: bdir, heap: '512m' });
          servers = broker.bootstrap;
          stopBroker = async () => {
            await broker.stop();
            rmSync(bdir, { recursive: true, force: true });
          };
        }
        const kDir = mkdtempSync(join(tmpdir(), 'tributary-bench-pgkafka-'));
        const kafka = createKafkaPlatform({ 'bootstrap.servers': servers, 'topic.creation.default.partitions': '1' }, createLogger({ bench: 'pg-cdc' }));
        const kApp = await startApp({ dataDir: kDir, port: 0, platform: kafka, logger: createLogger() });
        try {
          log(`  Tributary draining the same backlog into Kafka (${servers})…`);
          const kWritten = () => kApp.worker.details('KDRAIN').tasks.reduce((a, t) => a + t.metrics.recordsWritten, 0);
          const cpu0k = process.cpuUsage();
          t0 = now();
          await executeScript(kApp.worker, connectorSql('KDRAIN', 's_kafka', 'pub_drain', 'no_data'));
          for (const end = Date.now() + 600_000; kWritten() < N; await sleep(10)) {
            const st = kApp.worker.status('KDRAIN');
            if (st.tasks.some((t) => t.state === 'FAILED')) throw new Error(`connector KDRAIN failed: ${st.tasks[0]!.trace}`);
            if (Date.now() > end) throw new Error(`timed out: ${kWritten()} of ${N} records written into Kafka`);
          }
          const secs = secondsSince(t0);
          const cpu = process.cpuUsage(cpu0k);
          kafkaDrain = { secs, eventsPerSec: N / secs, cpuSecondsPerMillion: ((cpu.user + cpu.system) / 1e6) / (N / 1e6) };
          log(`  Tributary → Kafka: ${secs.toFixed(2)} s → ${Math.round(N / secs)} events/s (${kafkaDrain.cpuSecondsPerMillion.toFixed(1)} CPU-s per million in this process; the broker's JVM shares the cores)`);
          await executeScript(kApp.worker, 'DROP CONNECTOR KDRAIN;');
        } finally {
          await kApp.close();
          await kafka.close().catch(() => undefined);
          rmSync(kDir, { recursive: true, force: true });
          await stopBroker();
          await sql.query(`SELECT pg_drop_replication_slot('s_kafka')`).catch(() => undefined);
        }
      }

    }

    if (phases.has('latency')) {
      // ------------------------------------------------------------------ steady-state latency
      log(`Latency at 1k and 5k changes/s (${LAT_SECS} s each)…`);
      await executeScript(app.worker, connectorSql('LAT', 's_lat', 'pub_lat', 'no_data'));
      latencyTopic = 'bench.public.bench_lat';
      for (let i = 0; ; i++) {
        if ((await sql.query(`SELECT active FROM pg_replication_slots WHERE slot_name = 's_lat'`)).rows[0]?.active) break;
        if (i > 300) throw new Error('latency connector did not start streaming');
        await sleep(100);
      }
      let sent = 0;
      for (const rate of [1000, 5000]) {
        // warm-up second, then the measured run
        await sql.query(`CALL bench_gen('bench_lat', $1, $1)`, [rate]);
        sent += rate;
        await waitWritten('LAT', sent, 60_000);
        latencies = [];
        const n = rate * LAT_SECS;
        t0 = now();
        await sql.query(`CALL bench_gen('bench_lat', $1, $2)`, [n, rate]);
        const genS = secondsSince(t0);
        sent += n;
        await waitWritten('LAT', sent, 60_000);
        const l = latencies;
        latencies = null;
        latency.push({ rate, achievedPerSec: Math.round(n / genS), p50: round(percentile(l, 50)), p99: round(percentile(l, 99)), max: round(Math.max(...l)), n: l.length });
        log(`  ${rate}/s (achieved ${Math.round(n / genS)}/s): p50 ${percentile(l, 50).toFixed(1)} ms, p99 ${percentile(l, 99).toFixed(1)} ms, max ${Math.max(...l).toFixed(1)} ms over ${l.length}`);
      }
      await executeScript(app.worker, 'DROP CONNECTOR LAT;');
      await sql.query(`SELECT pg_drop_replication_slot('s_lat')`).catch(() => undefined);

    }

    if (phases.has('snapshot')) {
      // ------------------------------------------------------------------ snapshot
      log(`Snapshot of ${SNAP} rows…`);
      await sql.query(`INSERT INTO bench_snap (born_us, name, amount, pad) SELECT 0, 'customer-' || g, (g % 100000) / 100.0, repeat(md5(g::text), 4) FROM generate_series(1, $1) g`, [SNAP]);
      await sql.query('VACUUM ANALYZE bench_snap');
      t0 = now();
      await executeScript(app.worker, connectorSql('SNAP', 's_snap', 'pub_snap', 'initial_only'));
      await waitWritten('SNAP', SNAP, 600_000);
      snapSecs = secondsSince(t0);
      log(`  ${snapSecs.toFixed(2)} s → ${Math.round(SNAP / snapSecs)} rows/s`);
      await executeScript(app.worker, 'DROP CONNECTOR SNAP;');
      await sql.query(`SELECT pg_drop_replication_slot('s_snap')`).catch(() => undefined);
    }
    await app.close();

    if (phases.has('big')) {
      // ------------------------------------------------------------------ large transaction, RSS of a server process
      log(`Large transaction of ${BIG} rows through a tributary server process…`);
      const bigDir = mkdtempSync(join(tmpdir(), 'tributary-bench-pgbig-'));
      cleanups.push(async () => rmSync(bigDir, { recursive: true, force: true }));
      const server = await startServer(bigDir);
      const bigExtra = JSON.parse(process.env.BENCH_BIG_CONFIG ?? '{}') as Record<string, string>;
      cleanups.unshift(async () => server.kill('SIGKILL'));
      const res = await fetch(`${server.url}/connectors`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'BIG', config: {
          'connector.class': 'io.debezium.connector.postgresql.PostgresConnector', 'database.hostname': db.host, 'database.port': String(db.port),
          'database.user': db.user, 'database.password': db.password, 'database.dbname': 'postgres', 'topic.prefix': 'bench',
          'slot.name': 's_big', 'publication.name': 'pub_big', 'publication.autocreate.mode': 'disabled', 'snapshot.mode': 'no_data',
          'key.converter.schemas.enable': 'false', 'value.converter.schemas.enable': 'false', ...bigExtra,
        } }),
      });
      if (res.status !== 201) throw new Error(`creating the BIG connector: ${res.status} ${await res.text()}`);
      for (let i = 0; ; i++) {
        if ((await sql.query(`SELECT active FROM pg_replication_slots WHERE slot_name = 's_big'`)).rows[0]?.active) break;
        if (i > 300) throw new Error(`BIG connector did not start streaming: ${server.output()}`);
        await sleep(100);
      }
      idleRss = sampleRss(server.child.pid!).stop();
      const rss = sampleRss(server.child.pid!);
      const cpuBig0 = cpuSecondsOf(server.child.pid!);
      t0 = now();
      await sql.query(`INSERT INTO bench_big (born_us, name, amount, pad) SELECT 0, 'customer-' || g, (g % 100000) / 100.0, repeat(md5(g::text), 4) FROM generate_series(1, $1) g`, [BIG]);
      insertSecs = secondsSince(t0);
      const reader = await createEmbeddedLog({ dir: join(bigDir, 'log'), readOnly: true });
      try {
        for (;;) {
          if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`server process died: ${server.output().slice(-3000)}`);
          const ends = (await reader.describeTopic('bench.public.bench_big')) ? await reader.endOffsets('bench.public.bench_big') : [0];
          if (Number(ends[0]) >= BIG) break;
          await sleep(100);
        }
      } finally {
        await reader.close();
      }
      bigSecs = secondsSince(t0);
      peakRss = rss.stop();
      bigCpu = cpuSecondsOf(server.child.pid!) - cpuBig0;
      log(`  insert ${insertSecs.toFixed(1)} s; delivered after ${bigSecs.toFixed(1)} s (${Math.round(BIG / bigSecs)} events/s from the start of the insert); peak RSS ${mb(peakRss)} MB (idle ${mb(idleRss)} MB)`);

    }

    const ceilingRate = 'eventsPerSec' in ceiling ? ceiling.eventsPerSec : NaN;
    const p99at5k = latency.find((l) => l.rate === 5000)?.p99 ?? NaN;
    const out = {
      benchmark: 'pg-cdc',
      date: new Date().toISOString(),
      machine: { ...machine(), note: 'PostgreSQL, Tributary and the load generator share these cores' },
      postgres: { version, embedded: true, settings: 'fsync=off, synchronous_commit=off (embedded fast mode)' },
      platform: 'embedded log (fsync before ack)',
      converter: 'JsonConverter, schemas.enable=false (key and value)',
      drain: {
        events: N, avgRowBytes: avgRow, walMB: mb(walBytes),
        ceiling: 'eventsPerSec' in ceiling ? { tool: ceiling.binary, secs: round(ceiling.secs), eventsPerSec: Math.round(ceiling.eventsPerSec) } : ceiling,
        tributary: { secs: round(drainSecs), eventsPerSec: Math.round(drainRate), cpuSecondsPerMillion: round(drainCpuPerM) },
        ratio: round(drainRate / ceilingRate),
        serverDecodeOnly: { secs: round(sqlDecode.secs), eventsPerSec: Math.round(N / sqlDecode.secs), note: 'pg_logical_slot_get_binary_changes: decoding without network or client' },
        ratioToServerDecode: round(drainRate / (N / sqlDecode.secs)),
        intoKafka: 'eventsPerSec' in kafkaDrain
          ? { secs: round(kafkaDrain.secs), eventsPerSec: Math.round(kafkaDrain.eventsPerSec), cpuSecondsPerMillion: round(kafkaDrain.cpuSecondsPerMillion), ratio: round(kafkaDrain.eventsPerSec / ceilingRate) }
          : kafkaDrain,
      },
      latency,
      snapshot: { rows: SNAP, secs: round(snapSecs), rowsPerSec: Math.round(SNAP / snapSecs) },
      largeTransaction: { rows: BIG, insertSecs: round(insertSecs), deliveredSecs: round(bigSecs), eventsPerSec: Math.round(BIG / bigSecs), peakRssMB: mb(peakRss), idleRssMB: mb(idleRss), cpuSeconds: round(bigCpu) },
      floors: {
        drainRatio: { floor: 0.6, value: round(drainRate / ceilingRate), met: drainRate / ceilingRate >= 0.6 },
        p99At5kMs: { floor: 100, value: p99at5k, met: p99at5k <= 100 },
        peakRssMB: { floor: 200, value: mb(peakRss), met: peakRss <= 200 * 1048576 },
      },
    };
    if (opts.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else {
      process.stdout.write(`\nPostgreSQL CDC (pgoutput, PostgreSQL ${version} embedded) → embedded log; ${machine().cpus} cores shared by PostgreSQL, Tributary and the load\n\n`);
      process.stdout.write(formatTable(['measure', 'value', 'beside', 'floor'], [
        [`backlog drain, ${N.toLocaleString('en-US')} single-row tx (~${avgRow} B)`, `${Math.round(drainRate).toLocaleString('en-US')} events/s`,
          'eventsPerSec' in ceiling ? `pg_recvlogical ${Math.round(ceiling.eventsPerSec).toLocaleString('en-US')}/s → ${(100 * drainRate / ceilingRate).toFixed(0)} %` : ceiling.error,
          `≥ 60 % ${out.floors.drainRatio.met ? 'met' : 'NOT met'}`],
        ['  the same backlog into Kafka (acks=all, idempotent)', 'eventsPerSec' in kafkaDrain ? `${Math.round(kafkaDrain.eventsPerSec).toLocaleString('en-US')} events/s` : kafkaDrain.error,
          'eventsPerSec' in kafkaDrain ? `${(100 * kafkaDrain.eventsPerSec / ceilingRate).toFixed(0)} % of pg_recvlogical` : '', ''],
        ['  server-side decode only (SQL interface)', `${Math.round(N / sqlDecode.secs).toLocaleString('en-US')} events/s`, `Tributary at ${(100 * drainRate * sqlDecode.secs / N).toFixed(0)} % of it`, ''],
        ...latency.map((l) => [`latency at ${l.rate}/s (achieved ${l.achievedPerSec}/s)`, `p50 ${l.p50} ms, p99 ${l.p99} ms`, `max ${l.max} ms, ${l.n} events`,
          l.rate === 5000 ? `p99 ≤ 100 ms ${out.floors.p99At5kMs.met ? 'met' : 'NOT met'}` : '']),
        [`snapshot, ${SNAP.toLocaleString('en-US')} rows`, `${Math.round(SNAP / snapSecs).toLocaleString('en-US')} rows/s`, '', ''],
        [`peak RSS, ${BIG.toLocaleString('en-US')}-row transaction`, `${mb(peakRss)} MB`, `idle ${mb(idleRss)} MB; ${Math.round(BIG / bigSecs).toLocaleString('en-US')} events/s`, `≤ 200 MB ${out.floors.peakRssMB.met ? 'met' : 'NOT met'}`],
      ]) + '\n\n');
      process.stdout.write(JSON.stringify(out) + '\n');
    }
    return out;
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
    await sql.end().catch(() => undefined);
    await db.stop();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** born_us of a schemaless JSON change event, read straight from the bytes: ms since the epoch */
export function bornMs(value: Buffer): number {
  const i = value.indexOf('"born_us":');
  if (i < 0) return NaN;
  let n = 0;
  for (let p = i + 10; p < value.length; p++) {
    const c = value[p]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n / 1000;
}

/**
 * The load generator shared by the CDC benchmarks: `CALL bench_gen(table, n, rate)` commits n single-row
 * transactions into a table at `rate` per second (0: as fast as possible), generated in the server.
 *
 * The benchmark tables (bench_cdc, bench_lat) get a static INSERT, whose plan PL/pgSQL prepares once: a dynamic
 * `EXECUTE format(…)` is parsed and planned for every row and made the generator itself the limit (measured on
 * the embedded server alone, 2 sessions: ~47k rows/s dynamic, ~94k static); any other table takes that dynamic path.
 */
export const BENCH_GEN_SQL = `
      CREATE PROCEDURE bench_gen(tbl text, n int, rate int) LANGUAGE plpgsql AS $$
      DECLARE t0 timestamptz := clock_timestamp(); i int := 0; ahead double precision;
      BEGIN
        WHILE i < n LOOP
          IF tbl = 'bench_lat' THEN
            INSERT INTO bench_lat (born_us, name, amount, pad)
              VALUES ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, 'customer-' || i, (i % 100000) / 100.0, repeat(md5(i::text), 4));
          ELSIF tbl = 'bench_cdc' THEN
            INSERT INTO bench_cdc (born_us, name, amount, pad)
              VALUES ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, 'customer-' || i, (i % 100000) / 100.0, repeat(md5(i::text), 4));
          ELSE
            EXECUTE format('INSERT INTO %I (born_us, name, amount, pad) VALUES ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, $1, $2, $3)', tbl)
              USING 'customer-' || i, (i % 100000) / 100.0, repeat(md5(i::text), 4);
          END IF;
          COMMIT;
          i := i + 1;
          IF rate > 0 AND i % 5 = 0 THEN
            ahead := i::double precision / rate - extract(epoch FROM clock_timestamp() - t0);
            IF ahead > 0 THEN PERFORM pg_sleep(ahead); END IF;
          END IF;
        END LOOP;
      END $$;`;

/** pg_recvlogical of the server's major version if installed, else the newest available (the client only copies bytes). */
export function findRecvlogical(serverVersion: string): string | null {
  const major = serverVersion.split('.')[0];
  const candidates = [`/usr/lib/postgresql/${major}/bin/pg_recvlogical`, ...['18', '17', '16', '15', '14'].map((v) => `/usr/lib/postgresql/${v}/bin/pg_recvlogical`), '/usr/bin/pg_recvlogical'];
  return candidates.find((c) => existsSync(c)) ?? null;
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => resolve(code));
  });
}

export async function startServer(dataDir: string): Promise<{ url: string; child: ChildProcess; output(): string; kill(sig: NodeJS.Signals): Promise<void> }> {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const port = await freePort();
  // node as bin/tributary.js runs it (no extra flags), unless BENCH_SERVER_NODE_ARGS gives some
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, main, 'server', '--data-dir', dataDir, '--port', String(port)], {
    env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (process.env.BENCH_SERVER_LOG) child.stdout!.pipe(createWriteStream(process.env.BENCH_SERVER_LOG));
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 20_000;
  while (!out.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${out}`);
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`, child, output: () => out,
    async kill(sig) {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      await exited;
    },
  };
}

export type { App, EmbeddedPg };
