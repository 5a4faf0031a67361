/**
 * `npm run bench -- compare [--rows N] [--quick] [--json]` — Tributary against Kafka Connect + Debezium 3.6.1
 * (at its defaults and at the tuned setting of ../shared/reference/performance.md) on the same embedded
 * PostgreSQL 18 and the same single-node Kafka broker, each system alone in turn (its own OS process, measured
 * through /proc), with the ceilings measured in the same run.
 *
 * Workloads (BENCH_WORKLOADS=drain,snapshot,big,steady selects; BENCH_SYSTEMS=tributary,debezium-default,… too):
 *  - drain: N single-row transactions (~200 B rows) inserted while every system's slot exists but before any
 *    system starts; each system then drains its own slot into its own topic. Ceilings: pg_recvlogical (pgoutput)
 *    into /dev/null on a slot of the same backlog, and Kafka's ProducerPerformance at the average record size
 *    (key + value) the systems wrote;
 *  - snapshot: N rows read with snapshot.mode=initial_only;
 *  - big: one transaction of N rows inserted while the system streams (memory);
 *  - steady: single-row transactions at stepped rates; latency = the row's clock_timestamp() → the broker's
 *    log-append time (the broker runs with log.message.timestamp.type=LogAppendTime).
 *
 * Rates are taken from the broker's log-append times of the first and last record of a run (process start-up is
 * not in them); CPU-seconds per million from /proc/<pid>/stat between "ready" (Debezium's task RUNNING; Tributary's
 * connector created) and the last record; peak RSS sampled every 50 ms over the same process (JVM included).
 * Median of 3 runs after one warm-up round (--quick: 1 run, no warm-up).
 */
import pg from 'pg';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startEmbeddedPostgres } from '../../src/connectors/embedded-postgres/index.js';
import { brokerUnavailableReason, kafkaVersion, startBroker, tempBrokerDir } from '../../src/connectors/kafka/broker.js';
import { setLogLevel } from '../../src/runtime/logger.js';
import { debeziumUnavailableReason, debeziumVersion, type PgConnection } from '../debezium/connect.js';
import { cpuSecondsOf, formatTable, machine, mb, now, percentile, progress, sampleRss, secondsSince, sleep } from '../common.js';
import { runKafkaBench } from '../kafka.js';
import { BENCH_GEN_SQL, bornMs, findRecvlogical } from '../pg-cdc.js';
import { OffsetWatcher, scanTopic } from './kafka-scan.js';
import { DEBEZIUM_TUNED, SYSTEMS, startSystem, type RunningSystem, type Source, type SystemId } from './systems.js';

export interface CompareOptions {
  quick?: boolean;
  rows?: number;
  json?: boolean;
}

/** one system's figures on one workload (medians over the runs) */
export interface Figures {
  eventsPerSec: number;
  cpuSecondsPerMillion: number;
  peakRssMB: number;
  p50Ms?: number;
  p99Ms?: number;
  /** seconds from the first to the last record (log-append times) */
  secs?: number;
  /** process start to ready, and ready to the last record (wall clock) */
  startupSecs?: number;
  readyToDoneSecs?: number;
  runs: number;
  /** records already in the topic when the system was ready (per run): their CPU is not in cpuSecondsPerMillion */
  recordsBeforeReady?: number[];
  loadAverageBefore?: number[];
  error?: string;
}

interface RunResult {
  eventsPerSec: number;
  secs: number;
  cpuSecondsPerMillion: number;
  peakRss: number;
  firstTs: number;
  lastTs: number;
  avgRecordBytes: number;
  recordsBeforeReady: number;
  /** process start to "ready" (JVM + Connect + task start; node + server + connector created) */
  startupSecs: number;
  /** "ready" to the last record counted (polled every 100 ms; for big: includes the INSERT) */
  readyToDoneSecs: number;
  /** 1-minute load average just before the run (other work on the machine shows here) */
  load1?: number;
}

const SHORT: Record<SystemId, string> = { tributary: 'trib', 'debezium-default': 'dbzd', 'debezium-tuned': 'dbzt' };
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function runCompareBench(opts: CompareOptions): Promise<Record<string, unknown>> {
  setLogLevel('error');
  const log = progress(opts.json);
  const quick = !!opts.quick;
  const N = opts.rows ?? (quick ? 100_000 : 1_000_000);
  const REPS = quick ? 1 : 3;
  const WARMUP = !quick;
  const STEP_SECS = quick ? 5 : 10;
  const RATES = (process.env.BENCH_RATES ?? (quick ? '1000,5000,10000,20000,40000,60000' : '1000,2000,5000,10000,20000,30000,40000,50000,60000')).split(',').map(Number);
  const workloads = new Set((process.env.BENCH_WORKLOADS ?? 'drain,snapshot,big,steady').split(','));
  const systems = (process.env.BENCH_SYSTEMS ?? SYSTEMS.join(',')).split(',') as SystemId[];
  const compression = process.env.BENCH_COMPRESSION ?? 'none';
  const heap = process.env.BENCH_CONNECT_HEAP ?? '1g';

  const noKafka = brokerUnavailableReason();
  if (noKafka) throw new Error(`no Kafka broker can be run: ${noKafka}`);
  const noDbz = systems.some((s) => s !== 'tributary') ? debeziumUnavailableReason() : undefined;
  if (noDbz) throw new Error(`Debezium cannot be run: ${noDbz}`);

  const started = new Date();
  const load0 = loadavg();
  log(`Starting embedded PostgreSQL and a Kafka broker (log.message.timestamp.type=LogAppendTime)…`);
  const db = await startEmbeddedPostgres({ fast: true });
  const pgConn: PgConnection = { host: db.host, port: db.port, user: db.user, password: db.password, dbname: 'postgres' };
  const sql = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres' });
  await sql.connect();
  // a walsender sends only flushed WAL: the load commits synchronously (the server runs with synchronous_commit=off)
  await sql.query('SET synchronous_commit = on');
  const pgVersion = String((await sql.query('SHOW server_version')).rows[0].server_version);
  const brokerDir = tempBrokerDir();
  const broker = await startBroker({ port: 0, dir: brokerDir, heap: '1g', properties: { 'log.message.timestamp.type': 'LogAppendTime' } });
  const bootstrap = broker.bootstrap;
  const watcher = new OffsetWatcher(bootstrap);
  const startOpts = { bootstrap, compression, heap };

  const results: Record<string, unknown> = {};
  const cleanups: Array<() => Promise<void>> = [];
  const table: Array<Array<string | number>> = [];
  try {
    await sql.query(`
      CREATE TABLE bench_cdc (id bigserial PRIMARY KEY, born_us bigint NOT NULL, name text NOT NULL, amount numeric(12,2), pad text);
      CREATE TABLE bench_snap (LIKE bench_cdc INCLUDING ALL);
      CREATE TABLE bench_big (LIKE bench_cdc INCLUDING ALL);
      CREATE TABLE bench_lat (LIKE bench_cdc INCLUDING ALL);
      CREATE PUBLICATION pub_drain FOR TABLE bench_cdc;
      CREATE PUBLICATION pub_snap FOR TABLE bench_snap;
      CREATE PUBLICATION pub_big FOR TABLE bench_big;
      CREATE PUBLICATION pub_lat FOR TABLE bench_lat;
      ${BENCH_GEN_SQL}`);
    // one session generates up to GEN_PER_SESSION changes/s; higher rates are split over parallel sessions
    const GEN_PER_SESSION = Number(process.env.BENCH_GEN_PER_SESSION ?? 6000);
    const genClients: pg.Client[] = [sql];
    const generate = async (table: string, n: number, rate: number) => {
      const k = rate > 0 ? Math.max(1, Math.ceil(rate / GEN_PER_SESSION)) : 1;
      while (genClients.length < k) {
        const c = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres' });
        await c.connect();
        await c.query('SET synchronous_commit = on');
        genClients.push(c);
      }
      await Promise.all(Array.from({ length: k }, (_, i) => {
        const ni = Math.floor(n / k) + (i < n % k ? 1 : 0);
        return genClients[i]!.query(`CALL bench_gen($1, $2, $3)`, [table, ni, Math.round(rate / k)]);
      }));
    };
    cleanups.push(async () => {
      for (const c of genClients.slice(1)) await c.end().catch(() => undefined);
    });
    const slotLag = async (slot: string) =>
      Number((await sql.query(`SELECT pg_current_wal_lsn() - confirmed_flush_lsn AS b FROM pg_replication_slots WHERE slot_name = $1`, [slot])).rows[0]?.b ?? NaN);
    const rowBytes = async (t: string) => Number((await sql.query(`SELECT avg(pg_column_size(x.*))::int AS b FROM (SELECT * FROM ${t} LIMIT 1000) x`)).rows[0].b);
    const dropSlot = async (slot: string) => {
      for (let i = 0; i < 100; i++) {
        const r = await sql.query(`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
        if (!r.rows.length) return;
        if (!r.rows[0].active) {
          await sql.query(`SELECT pg_drop_replication_slot($1)`, [slot]).catch(() => undefined);
          return;
        }
        await sleep(200);
      }
    };
    const slotActive = async (slot: string, sys: RunningSystem, timeoutMs = 120_000) => {
      for (const end = Date.now() + timeoutMs; ; await sleep(100)) {
        if ((await sql.query(`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [slot])).rows[0]?.active) return;
        const f = await sys.failure();
        if (f) throw new Error(`${sys.id} failed before streaming: ${f}`);
        if (Date.now() > end) throw new Error(`${sys.id} did not start streaming from slot ${slot}: ${sys.log()}`);
      }
    };

    /**
     * Starts a system, optionally does something once it is ready (`afterReady`), waits until `topic` holds
     * `expected` records, stops it and reads the records' log-append times back.
     */
    const runToCount = async (id: SystemId, src: Source, topic: string, expected: number, afterReady?: (s: RunningSystem) => Promise<void>): Promise<RunResult> => {
      const tStart = now();
      const sys = await startSystem(id, src, startOpts);
      const startupSecs = secondsSince(tStart);
      const rss = sampleRss(sys.pid);
      let cpu0: number;
      let c0: number;
      let cpu1: number;
      let tReady = now();
      let readyToDoneSecs: number;
      try {
        c0 = await watcher.count(topic);
        cpu0 = cpuSecondsOf(sys.pid);
        tReady = now();
        if (afterReady) await afterReady(sys);
        for (let i = 0, end = Date.now() + 1_800_000; ; i++, await sleep(100)) {
          const c = await watcher.count(topic);
          if (c >= expected) break;
          if (i % 20 === 19) {
            const f = await sys.failure();
            if (f) throw new Error(`${id} failed: ${f}`);
          }
          if (Date.now() > end) throw new Error(`${id}: timed out with ${c} of ${expected} records in ${topic}`);
        }
        cpu1 = cpuSecondsOf(sys.pid);
        readyToDoneSecs = secondsSince(tReady);
      } finally {
        rss.stop();
        await sys.stop();
      }
      const peakRss = rss.stop();
      let firstTs = NaN;
      let lastTs = NaN;
      let bytes = 0;
      await scanTopic(bootstrap, topic, 0, expected, (r) => {
        if (r.offset === 0) firstTs = r.timestamp;
        lastTs = r.timestamp;
        bytes += r.keyBytes + r.valueBytes;
      });
      const secs = Math.max(0.001, (lastTs - firstTs) / 1000);
      return {
        eventsPerSec: (expected - 1) / secs, secs, firstTs, lastTs, peakRss, avgRecordBytes: bytes / expected,
        // all events are counted: records written before "ready" (c0 > 0, Debezium's task may start before its status
        // says RUNNING) had their CPU before cpu0, which makes that figure slightly low, never absurd
        cpuSecondsPerMillion: ((cpu1 - cpu0) / expected) * 1e6, recordsBeforeReady: c0, startupSecs, readyToDoneSecs,
      };
    };

    const summarize = (runs: RunResult[]): Figures => ({
      eventsPerSec: Math.round(median(runs.map((r) => r.eventsPerSec))),
      secs: round(median(runs.map((r) => r.secs))),
      cpuSecondsPerMillion: round(median(runs.map((r) => r.cpuSecondsPerMillion)), 1),
      peakRssMB: mb(median(runs.map((r) => r.peakRss))),
      startupSecs: round(median(runs.map((r) => r.startupSecs))),
      readyToDoneSecs: round(median(runs.map((r) => r.readyToDoneSecs))),
      runs: runs.length,
      recordsBeforeReady: runs.map((r) => r.recordsBeforeReady),
      loadAverageBefore: runs.map((r) => r.load1 ?? NaN),
    });
    /** runs `once(rep)` for each system, REPS times after a warm-up; a failing system is reported, not fatal */
    const perSystem = async (label: string, once: (id: SystemId, rep: string, warm: boolean) => Promise<RunResult>): Promise<Record<string, Figures>> => {
      // round by round (every system once per round), so drift of the shared machine spreads over all systems
      const runs = new Map<SystemId, RunResult[]>(systems.map((id) => [id, []]));
      const errors = new Map<SystemId, string>();
      for (let r = WARMUP ? 0 : 1; r <= REPS; r++) {
        for (const id of systems) {
          if (errors.has(id)) continue;
          try {
            const load1 = loadavg()[0]!;
            const res = await once(id, `${r}`, r === 0);
            res.load1 = round(load1);
            log(`  ${label} ${id}${r === 0 ? ' (warm-up)' : ''}: ${Math.round(res.eventsPerSec).toLocaleString('en-US')} events/s over ${res.secs.toFixed(2)} s, ${res.cpuSecondsPerMillion.toFixed(1)} CPU-s/M, peak RSS ${mb(res.peakRss)} MB (load average ${load1.toFixed(2)} before)`);
            if (r > 0) runs.get(id)!.push(res);
          } catch (e) {
            log(`  ${label} ${id} FAILED: ${(e as Error).message.slice(0, 2000)}`);
            errors.set(id, (e as Error).message.slice(0, 500));
          }
        }
      }
      // slots left by a failed system (or its later rounds) hold WAL back: drop what is left
      for (const r of (await sql.query(`SELECT slot_name FROM pg_replication_slots WHERE NOT active`)).rows) await dropSlot(String(r.slot_name));
      const out: Record<string, Figures> = {};
      for (const id of systems) out[id] = errors.has(id) ? { ...summarize(runs.get(id)!), error: errors.get(id)! } : summarize(runs.get(id)!);
      return out;
    };

    // ------------------------------------------------------------------------------------------ backlog drain
    if (workloads.has('drain')) {
      log(`Backlog drain: ${N.toLocaleString('en-US')} single-row transactions per run…`);
      const recv = findRecvlogical(pgVersion);
      const proto = Number(pgVersion.split('.')[0]) >= 16 ? 4 : 3;
      const recvRuns: number[] = [];
      const toolRuns: number[] = [];
      let recordBytes = 0;
      const byRep = new Map<string, Promise<void>>();
      /** one backlog per repetition, shared by all systems: every slot exists before the rows are inserted */
      const backlog = (rep: string, warm: boolean) => {
        let p = byRep.get(rep);
        if (!p) {
          p = (async () => {
            const n = warm ? Math.max(1000, Math.round(N / 10)) : N;
            const slots = [...systems.map((s) => `d${rep}_${SHORT[s]}`), `d${rep}_recv`];
            for (const s of slots) await sql.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [s]);
            const t0 = now();
            await sql.query(`CALL bench_gen('bench_cdc', $1, 0)`, [n]);
            log(`  backlog ${rep}: ${n.toLocaleString('en-US')} rows in ${secondsSince(t0).toFixed(1)} s (rows ~${await rowBytes('bench_cdc')} B)`);
            const endLsn = String((await sql.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l);
            if (recv) {
              const t1 = now();
              const code = await new Promise<number | null>((resolve) => {
                const child = spawn(recv, ['-h', db.host, '-p', String(db.port), '-U', db.user, '-d', 'postgres', '-S', `d${rep}_recv`, '--start', '-E', endLsn, '--no-loop', '-s', '1',
                  '-o', `proto_version=${proto}`, '-o', 'publication_names=pub_drain', '-o', 'streaming=on', '-o', 'messages=true', '-f', '/dev/null'], { env: { ...process.env, PGPASSWORD: db.password }, stdio: ['ignore', 'ignore', 'inherit'] });
                child.on('exit', (c) => resolve(c));
              });
              const secs = secondsSince(t1);
              if (code === 0 && !warm) recvRuns.push(n / secs);
              log(`  pg_recvlogical ${rep}: ${code === 0 ? `${Math.round(n / secs).toLocaleString('en-US')} events/s` : `exit ${code}`}`);
            }
            await dropSlot(`d${rep}_recv`);
          })();
          byRep.set(rep, p);
        }
        return { ready: p, n: warm ? Math.max(1000, Math.round(N / 10)) : N };
      };
      const drain = await perSystem('drain', async (id, rep, warm) => {
        const b = backlog(rep, warm);
        await b.ready;
        const prefix = `d${rep}${SHORT[id]}`;
        try {
          const res = await runToCount(id, { pg: pgConn, slot: `d${rep}_${SHORT[id]}`, publication: 'pub_drain', prefix, snapshotMode: 'no_data' }, `${prefix}.public.bench_cdc`, b.n);
          if (id === 'tributary' || !recordBytes) recordBytes = Math.round(res.avgRecordBytes);
          return res;
        } finally {
          await dropSlot(`d${rep}_${SHORT[id]}`);
        }
      });
      // the produce ceiling at the record size the systems wrote
      if (recordBytes) {
        for (let r = 1; r <= REPS; r++) {
          const k = await runKafkaBench({ records: N, recordSize: recordBytes, compression, clients: [], bootstrap, log: () => undefined });
          const row = k.rows[0];
          if (row && !row.error) toolRuns.push(row.recordsPerSec);
          log(`  ProducerPerformance ${r}: ${row?.error ? `error ${row.error.slice(0, 300)}` : `${Math.round(row!.recordsPerSec).toLocaleString('en-US')} records/s × ${recordBytes} B`}`);
        }
      }
      const ceilings = {
        pgRecvlogical: { eventsPerSec: Math.round(median(recvRuns)), tool: recv ?? 'not found' },
        producerPerformance: { eventsPerSec: Math.round(median(toolRuns)), recordBytes, settings: 'acks=all, idempotence, batch.size=262144, linger.ms=5' },
      };
      results.drain = { events: N, ceilings, systems: drain, ratios: ratios(drain, Math.min(ceilings.pgRecvlogical.eventsPerSec || Infinity, ceilings.producerPerformance.eventsPerSec || Infinity)) };
      table.push(...rowsFor(`drain ${N.toLocaleString('en-US')}`, drain, Math.min(ceilings.pgRecvlogical.eventsPerSec || Infinity, ceilings.producerPerformance.eventsPerSec || Infinity)));
      table.push(['', 'ceiling: pg_recvlogical → /dev/null', ceilings.pgRecvlogical.eventsPerSec, '', '', '', '', '', '', '', '']);
      table.push(['', `ceiling: ProducerPerformance ${recordBytes} B`, ceilings.producerPerformance.eventsPerSec, '', '', '', '', '', '', '', '']);
    }

    // ------------------------------------------------------------------------------------------ snapshot
    if (workloads.has('snapshot')) {
      log(`Snapshot of ${N.toLocaleString('en-US')} rows…`);
      await sql.query(`INSERT INTO bench_snap (born_us, name, amount, pad) SELECT 0, 'customer-' || g, (g % 100000) / 100.0, repeat(md5(g::text), 4) FROM generate_series(1, $1) g`, [N]);
      await sql.query('VACUUM ANALYZE bench_snap');
      const snap = await perSystem('snapshot', async (id, rep) => {
        const prefix = `s${rep}${SHORT[id]}`;
        const slot = `s${rep}_${SHORT[id]}`;
        try {
          return await runToCount(id, { pg: pgConn, slot, publication: 'pub_snap', prefix, snapshotMode: 'initial_only' }, `${prefix}.public.bench_snap`, N);
        } finally {
          await dropSlot(slot);
        }
      });
      results.snapshot = { rows: N, systems: snap, ratios: ratios(snap) };
      table.push(...rowsFor(`snapshot ${N.toLocaleString('en-US')}`, snap));
    }

    // ------------------------------------------------------------------------------------------ large transaction
    if (workloads.has('big')) {
      log(`One transaction of ${N.toLocaleString('en-US')} rows while streaming…`);
      const big = await perSystem('large tx', async (id, rep, warm) => {
        const prefix = `b${rep}${SHORT[id]}`;
        const slot = `b${rep}_${SHORT[id]}`;
        const n = warm ? Math.max(1000, Math.round(N / 10)) : N;
        try {
          return await runToCount(id, { pg: pgConn, slot, publication: 'pub_big', prefix, snapshotMode: 'no_data' }, `${prefix}.public.bench_big`, n, async (sys) => {
            await slotActive(slot, sys);
            await sql.query(`INSERT INTO bench_big (born_us, name, amount, pad) SELECT 0, 'customer-' || g, (g % 100000) / 100.0, repeat(md5(g::text), 4) FROM generate_series(1, $1) g`, [n]);
          });
        } finally {
          await dropSlot(slot);
        }
      });
      results.largeTransaction = { rows: N, systems: big, ratios: ratios(big) };
      table.push(...rowsFor(`1 tx of ${N.toLocaleString('en-US')}`, big));
    }

    // ------------------------------------------------------------------------------------------ steady state
    if (workloads.has('steady')) {
      log(`Steady state at ${RATES.join(', ')} changes/s (${STEP_SECS} s each), latency = row clock_timestamp() → Kafka log-append time…`);
      const steady: Record<string, { steps: Array<Record<string, number | boolean>>; maxSustained: number; peakRssMB: number; cpuSecondsPerMillion: number; error?: string }> = {};
      for (const id of systems) {
        const prefix = `l${SHORT[id]}`;
        const slot = `l_${SHORT[id]}`;
        const topic = `${prefix}.public.bench_lat`;
        const steps: Array<Record<string, number | boolean>> = [];
        let sys: RunningSystem | undefined;
        let rss: ReturnType<typeof sampleRss> | undefined;
        let maxSustained = 0;
        let cpu = NaN;
        let events = 0;
        try {
          sys = await startSystem(id, { pg: pgConn, slot, publication: 'pub_lat', prefix, snapshotMode: 'no_data' }, startOpts);
          rss = sampleRss(sys.pid);
          await slotActive(slot, sys);
          // warm-up: one second at the first rate
          const base0 = await watcher.count(topic);
          await generate('bench_lat', RATES[0]!, RATES[0]!);
          let sent = base0 + RATES[0]!;
          for (const end = Date.now() + 120_000; (await watcher.count(topic)) < sent; await sleep(50)) if (Date.now() > end) throw new Error('warm-up records never arrived');
          const cpu0 = cpuSecondsOf(sys.pid);
          for (const rate of RATES) {
            const n = rate * STEP_SECS;
            const from = sent;
            const t0 = now();
            await generate('bench_lat', n, rate);
            const genSecs = secondsSince(t0);
            const lagBytes = await slotLag(slot);
            sent += n;
            const t1 = Date.now();
            let arrived = await watcher.count(topic);
            for (const end = t1 + 60_000; arrived < sent && Date.now() < end; await sleep(20)) arrived = await watcher.count(topic);
            const catchUpMs = Date.now() - t1;
            const lat: number[] = [];
            await scanTopic(bootstrap, topic, from, Math.min(arrived, sent), (r) => r.value && lat.push(r.timestamp - bornMs(r.value)));
            events += n;
            const achieved = n / genSecs;
            const sustained = arrived >= sent && catchUpMs <= 2000;
            const step = { rate, achievedPerSec: Math.round(achieved), p50Ms: round(percentile(lat, 50), 1), p99Ms: round(percentile(lat, 99), 1), maxMs: round(lat.reduce((a, b) => (b > a ? b : a), -Infinity), 1), catchUpMs, slotLagBytesAtLoadEnd: lagBytes, delivered: lat.length, sustained, generatorLimited: achieved < 0.9 * rate };
            steps.push(step);
            log(`  ${id} at ${rate}/s (achieved ${Math.round(achieved)}/s): p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, caught up ${catchUpMs} ms after the load${sustained ? '' : ' — NOT sustained'}`);
            if (!sustained) break;
            maxSustained = Math.round(achieved);
            if (step.generatorLimited) {
              log(`  the load generator reached only ${Math.round(achieved)}/s: no higher steps`);
              break;
            }
          }
          cpu = cpuSecondsOf(sys.pid) - cpu0;
          steady[id] = { steps, maxSustained, peakRssMB: mb(rss.stop()), cpuSecondsPerMillion: round((cpu / Math.max(1, events)) * 1e6, 1) };
        } catch (e) {
          log(`  steady ${id} FAILED: ${(e as Error).message.slice(0, 2000)}`);
          steady[id] = { steps, maxSustained, peakRssMB: rss ? mb(rss.stop()) : NaN, cpuSecondsPerMillion: NaN, error: (e as Error).message.slice(0, 500) };
        } finally {
          rss?.stop();
          await sys?.stop();
          await dropSlot(slot);
        }
      }
      results.steady = { stepSecs: STEP_SECS, rates: RATES, systems: steady };
      for (const id of systems) {
        const s = steady[id]!;
        for (const st of s.steps) {
          const dbz = (['debezium-default', 'debezium-tuned'] as const).map((d) => steady[d]?.steps.find((x) => x.rate === st.rate));
          table.push([`steady ${st.rate}/s`, id + (st.sustained ? '' : ' (not sustained)'), st.achievedPerSec as number, st.p50Ms as number, st.p99Ms as number, s.cpuSecondsPerMillion, s.peakRssMB,
            id === 'tributary' && dbz[0] ? `p99 ${round((st.p99Ms as number) / (dbz[0].p99Ms as number))}×` : '',
            id === 'tributary' && dbz[1] ? `p99 ${round((st.p99Ms as number) / (dbz[1].p99Ms as number))}×` : '', '', '']);
        }
        table.push(['', `${id}: highest rate sustained${s.error ? ` (error: ${s.error.slice(0, 60)})` : ''}`, s.maxSustained, '', '', '', '', '', '', '', '']);
      }
    }
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
    await watcher.close();
    await sql.end().catch(() => undefined);
    await broker.stop().catch(() => undefined);
    rmSync(brokerDir, { recursive: true, force: true });
    await db.stop();
  }

  const out = {
    benchmark: 'compare',
    date: started.toISOString(),
    command: `npm run bench -- compare${opts.rows ? ` --rows ${opts.rows}` : ''}${quick ? ' --quick' : ''}`,
    machine: { ...machine(), loadAverageAtStart: load0.map((x) => round(x)), note: 'PostgreSQL, Kafka, the load generator and the system under test share these cores; the systems run one at a time' },
    postgres: { version: pgVersion, embedded: true, settings: 'fsync=off, synchronous_commit=off (embedded fast mode); load sessions commit synchronously' },
    kafka: { version: kafkaVersion(), bootstrap: 'single node, KRaft, log.message.timestamp.type=LogAppendTime', partitions: 1 },
    debezium: { version: debeziumVersion(), connectHeap: heap, tuned: DEBEZIUM_TUNED },
    fairness: { envelope: 'Debezium envelope, JsonConverter schemas.enable=false (key and value)', acks: 'all', idempotence: true, compression },
    runs: quick ? '1 (no warm-up)' : `median of ${REPS} after one warm-up round`,
    ...results,
    acceptance: acceptance(results),
  };
  if (opts.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  else {
    process.stdout.write(`\nTributary vs Kafka Connect + Debezium ${debeziumVersion()} (defaults / tuned), PostgreSQL ${pgVersion} embedded, Kafka ${kafkaVersion()} single node; ${machine().cpus} cores; compression ${compression}; ${out.runs}\n\n`);
    process.stdout.write(formatTable(['workload', 'system', 'events/s', 'p50 ms', 'p99 ms', 'CPU-s/M', 'peak RSS MB', 'vs Dbz default', 'vs Dbz tuned', 'RSS vs Dbz', 'of ceiling'], table) + '\n\n');
    process.stdout.write('Acceptance (issue 5):\n' + out.acceptance.map((a) => `  ${a.met === undefined ? 'n/a    ' : a.met ? 'met    ' : 'NOT met'}  ${a.criterion}: ${a.value}${a.reach ? `\n             ${a.reach}` : ''}`).join('\n') + '\n\n');
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  return out;
}

/** Tributary's figures as ratios to each Debezium setting and to the ceiling */
function ratios(f: Record<string, Figures>, ceiling?: number): Record<string, number> {
  const t = f['tributary'];
  const out: Record<string, number> = {};
  if (!t || t.error) return out;
  for (const d of ['debezium-default', 'debezium-tuned'] as const) {
    const x = f[d];
    if (!x || x.error) continue;
    out[`eventsPerSecVs_${d}`] = round(t.eventsPerSec / x.eventsPerSec);
    out[`peakRssVs_${d}`] = round(t.peakRssMB / x.peakRssMB, 3);
    out[`cpuPerMillionVs_${d}`] = round(t.cpuSecondsPerMillion / x.cpuSecondsPerMillion);
  }
  if (ceiling && Number.isFinite(ceiling)) out.ofLowerCeiling = round(t.eventsPerSec / ceiling);
  return out;
}

function rowsFor(workload: string, f: Record<string, Figures>, ceiling?: number): Array<Array<string | number>> {
  const r = ratios(f, ceiling);
  const x = (v: number | undefined) => (v === undefined ? '' : `${v}×`);
  // against the smaller Debezium process (as the acceptance criterion)
  const dbzRss = Math.min(...(['debezium-default', 'debezium-tuned'] as const).map((d) => (f[d] && !f[d]!.error ? f[d]!.peakRssMB : NaN)).filter(Number.isFinite));
  return Object.entries(f).map(([id, v], i) => [
    i === 0 ? workload : '',
    id + (v.error ? ` (error: ${v.error.slice(0, 60)})` : ''),
    v.eventsPerSec, '', '', v.cpuSecondsPerMillion, v.peakRssMB,
    id === 'tributary' ? x(r['eventsPerSecVs_debezium-default']) : '',
    id === 'tributary' ? x(r['eventsPerSecVs_debezium-tuned']) : '',
    id === 'tributary' && Number.isFinite(dbzRss) ? `1/${round(dbzRss / v.peakRssMB, 1)}` : '',
    id === 'tributary' && r.ofLowerCeiling !== undefined ? `${Math.round(r.ofLowerCeiling * 100)} %` : '',
  ]);
}

interface Criterion {
  criterion: string;
  value: string;
  /** undefined: not measured in this run */
  met?: boolean;
  /** what the same run's ceilings say about whether the target can be reached on this machine at all */
  reach?: string;
}

/** `target` events/s against a ceiling measured in the same run */
function reach(target: number, ceiling: number, what: string): string | undefined {
  if (!Number.isFinite(target) || !Number.isFinite(ceiling) || ceiling <= 0) return undefined;
  const pct = Math.round((100 * target) / ceiling);
  return target > ceiling
    ? `the target, ${Math.round(target)}/s, is ${pct} % of ${what} (${Math.round(ceiling)}/s): above the ceiling this run measured`
    : `the target, ${Math.round(target)}/s, is ${pct} % of ${what} (${Math.round(ceiling)}/s)`;
}

/** the acceptance criteria of issue 5, evaluated on this run's figures */
export function acceptance(results: Record<string, unknown>): Criterion[] {
  const out: Criterion[] = [];
  const ok = (f?: Figures) => !!f && !f.error && Number.isFinite(f.eventsPerSec);
  const drain = results.drain as { systems: Record<string, Figures>; ceilings: { pgRecvlogical: { eventsPerSec: number }; producerPerformance: { eventsPerSec: number } } } | undefined;
  const t = drain?.systems['tributary'];
  const dt = drain?.systems['debezium-tuned'];
  const ceil = drain ? Math.min(drain.ceilings.pgRecvlogical.eventsPerSec || Infinity, drain.ceilings.producerPerformance.eventsPerSec || Infinity) : NaN;
  // Kafka's own producer into this broker at the record size of the run: what any system can write at most
  const kafkaCeil = drain?.ceilings.producerPerformance.eventsPerSec || NaN;
  const lowerCeiling = 'the lower ceiling (pg_recvlogical, ProducerPerformance)';
  if (ok(t) && ok(dt)) out.push({ criterion: 'drain ≥ 2× Debezium (tuned)', value: `${round(t!.eventsPerSec / dt!.eventsPerSec)}×`, met: t!.eventsPerSec >= 2 * dt!.eventsPerSec, reach: reach(2 * dt!.eventsPerSec, ceil, lowerCeiling) });
  else out.push({ criterion: 'drain ≥ 2× Debezium (tuned)', value: 'not measured' });
  if (ok(t) && Number.isFinite(ceil)) out.push({ criterion: 'drain ≥ 50 % of the lower ceiling', value: `${Math.round((100 * t!.eventsPerSec) / ceil)} % of ${Math.round(ceil)}/s`, met: t!.eventsPerSec >= 0.5 * ceil });
  else out.push({ criterion: 'drain ≥ 50 % of the lower ceiling', value: 'not measured' });
  const snap = (results.snapshot as { systems: Record<string, Figures> } | undefined)?.systems;
  const dbzSnap = snap ? Math.max(...(['debezium-default', 'debezium-tuned'] as const).filter((d) => ok(snap[d])).map((d) => snap[d]!.eventsPerSec)) : -Infinity;
  if (snap && ok(snap['tributary']) && Number.isFinite(dbzSnap)) out.push({ criterion: 'snapshot ≥ 2× Debezium (the faster setting)', value: `${round(snap['tributary']!.eventsPerSec / dbzSnap)}×`, met: snap['tributary']!.eventsPerSec >= 2 * dbzSnap, reach: reach(2 * dbzSnap, kafkaCeil, "Kafka's ProducerPerformance into this broker") });
  else out.push({ criterion: 'snapshot ≥ 2× Debezium (the faster setting)', value: 'not measured' });
  type Steady = { steps: Array<Record<string, number | boolean>>; maxSustained: number; peakRssMB: number; error?: string };
  const steady = (results.steady as { systems: Record<string, Steady> } | undefined)?.systems;
  if (steady?.['tributary'] && (steady['debezium-default'] || steady['debezium-tuned'])) {
    const trib = steady['tributary'];
    const dbz = (['debezium-default', 'debezium-tuned'] as const).map((d) => steady[d]).filter((x): x is Steady => !!x);
    const dbzMax = Math.max(...dbz.map((d) => d.maxSustained));
    // the highest target rate a Debezium setting sustained, and the lower Debezium p99 there
    const rates = dbz.flatMap((d) => d.steps.filter((s) => s.sustained).map((s) => s.rate as number));
    const R = rates.length ? Math.max(...rates) : NaN;
    const dbzP99 = Math.min(...dbz.map((d) => d.steps.find((s) => s.rate === R && s.sustained)?.p99Ms as number | undefined).filter((x): x is number => x !== undefined));
    const tP99 = trib.steps.find((s) => s.rate === R)?.p99Ms as number | undefined;
    out.push(tP99 !== undefined && Number.isFinite(dbzP99)
      ? { criterion: `steady: p99 at the ${R}/s step (the highest Debezium sustained) below Debezium's`, value: `${tP99} ms at ${trib.steps.find((s) => s.rate === R)?.achievedPerSec}/s achieved vs ${dbzP99} ms`, met: tP99 < dbzP99 }
      : { criterion: 'steady: p99 at the highest rate Debezium sustained below Debezium\'s', value: 'not measured' });
    // undetermined when Tributary was never pushed past what it sustained (the load generator's limit, or the top step)
    const last = trib.steps[trib.steps.length - 1];
    const notPushed = !!last && last.sustained === true && !trib.error;
    const why = !notPushed ? '' : last?.generatorLimited ? ' (load generator limited)' : ' (every step sustained: higher rates not tried)';
    // compared as the rates the steps offered: a step whose generator reached ≥ 98 % of its rate counts as that
    // rate (the generator's own timing lands a few per mille short under load), else as what it reached; the
    // achieved rates are printed beside
    const offered = (x: Record<string, number | boolean>) => ((x.achievedPerSec as number) >= 0.98 * (x.rate as number) ? (x.rate as number) : (x.achievedPerSec as number));
    const best = (st: Steady) => Math.max(0, ...st.steps.filter((x) => x.sustained).map(offered));
    const tribStep = best(trib);
    const dbzStep = Math.max(...dbz.map(best));
    out.push({
      criterion: 'steady: Tributary sustains ≥ 2× the highest rate Debezium sustains',
      value: `the ${tribStep}/s step (achieved ${trib.maxSustained}/s) vs the ${dbzStep}/s step (achieved ${dbzMax}/s)${why}`,
      met: dbzStep > 0 && tribStep >= 2 * dbzStep ? true : notPushed ? undefined : false,
      reach: reach(2 * dbzStep, ceil, lowerCeiling),
    });
  } else out.push({ criterion: 'steady state', value: 'not measured' });
  // RSS: every workload, against the smaller Debezium process
  const rss: Array<[string, number, number]> = [];
  for (const w of ['drain', 'snapshot', 'largeTransaction'] as const) {
    const sys = (results[w] as { systems: Record<string, Figures> } | undefined)?.systems;
    if (!sys || !ok(sys['tributary'])) continue;
    const d = (['debezium-default', 'debezium-tuned'] as const).filter((x) => sys[x] && Number.isFinite(sys[x]!.peakRssMB)).map((x) => sys[x]!.peakRssMB);
    if (d.length) rss.push([w, sys['tributary']!.peakRssMB, Math.min(...d)]);
  }
  if (steady?.['tributary']) {
    const d = (['debezium-default', 'debezium-tuned'] as const).filter((x) => steady[x] && Number.isFinite(steady[x]!.peakRssMB)).map((x) => steady[x]!.peakRssMB);
    if (d.length) rss.push(['steady', steady['tributary'].peakRssMB, Math.min(...d)]);
  }
  out.push(rss.length
    ? { criterion: 'peak RSS ≤ 1/5 of Debezium\'s process on every workload', value: rss.map(([w, a, b]) => `${w} ${a}/${b} MB = 1/${round(b / a, 1)}`).join('; '), met: rss.every(([, a, b]) => a <= b / 5) }
    : { criterion: 'peak RSS ≤ 1/5 of Debezium\'s process on every workload', value: 'not measured' });
  return out;
}
