/**
 * The fault-injection run (issue #6): a PostgreSQL CDC connector in a `tributary server` child process, a
 * workload of single-row transactions, faults injected while it runs, and the delivery checker at the end.
 *
 * - Workload: table `chaos(id bigserial pk, k int, seq bigint, v text, unique (k, seq))`. `writers` connections
 *   each own the key buckets k ≡ writer (mod writers) and insert one row per transaction with the next `seq` of a
 *   key, paced so that `rows` rows take `minutes`. After a failed insert (PostgreSQL restarting) the writer
 *   reconnects and reads the key's highest seq back: a row whose commit outcome was unknown is never written
 *   twice and never skipped. PostgreSQL is the audit: at the end `SELECT k, seq FROM chaos` is what was committed.
 * - Connector: Debezium keys, key = the bucket `k` (`message.key.columns`) so that per-key order is a platform
 *   guarantee (one partition per key), `provide.transaction.metadata=true` so that every event names its commit
 *   LSN (`transaction.id` = `<xid>:<commit LSN>`).
 * - Faults: kill -9 of the server at random every 5–20 s (then a restart on the same data dir and port), kill -9 of
 *   the Kafka broker (then a restart), a restart of PostgreSQL (fast shutdown, start on the same data dir and
 *   port), SIGSTOP of the server for longer than `wal_sender_timeout` (then SIGCONT).
 * - Flush sampler: every 200 ms, the slot's confirmed_flush_lsn, then the data topic's end offsets.
 * - After the faults and the writes: wait until the slot's flush position reaches the WAL position at the end of
 *   the writes (everything acknowledged), then read the topic back and check (see checker.ts).
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { startBroker, type BrokerHandle } from '../../src/connectors/kafka/broker.js';
import { parseLsn } from '../../src/connectors/postgres/lsn.js';
import { startServerProcess, type ServerProcess } from '../../test/helpers/server-process.js';
import { checkDelivery, checkFlush, type CommittedRow, type DeliveredEvent, type FlushSample } from './checker.js';
import { embeddedProbe, kafkaProbe, type PlatformProbe } from './platform.js';
import { startChaosPg, type ChaosPg } from './postgres.js';

export interface ChaosOptions {
  platform: 'kafka' | 'embedded';
  /** single-row transactions to commit */
  rows: number;
  /** planned duration of the writes and faults */
  minutes: number;
  /** kill -9 of the Tributary server: at random every 5–20 s for the whole run, at least this many */
  kills: number;
  /** kill -9 of the Kafka broker (Kafka with a broker of the run's own only) */
  brokerKills: number;
  /** restarts of PostgreSQL */
  pgRestarts: number;
  /** SIGSTOP/SIGCONT of the server */
  pauses: number;
  pauseSeconds: number;
  walSenderTimeoutSeconds: number;
  exactlyOnce: boolean;
  writers: number;
  keys: number;
  /** partitions of the data topic */
  partitions: number;
  /** an existing Kafka cluster instead of a broker of the run's own (no broker kills then) */
  bootstrap?: string;
  /** a broker the caller started (e.g. a test's `startOwnBroker()`): killed and restarted by the run, not stopped */
  broker?: BrokerHandle;
  seed: number;
  /** how long to wait for the connector to catch up after the faults */
  catchUpTimeoutSeconds: number;
  /** keep the run's folder (data dir, logs) */
  keep?: boolean;
  /** extra worker settings (written to a properties file passed with --config) */
  workerConfig?: Record<string, string>;
  /** extra connector settings, over the run's own */
  connectorConfig?: Record<string, string>;
  /** progress lines */
  log?: (line: string) => void;
}

export const DEFAULTS: ChaosOptions = {
  platform: 'kafka',
  rows: 100_000,
  minutes: 8,
  kills: 20,
  brokerKills: 1,
  pgRestarts: 1,
  pauses: 1,
  pauseSeconds: 15,
  walSenderTimeoutSeconds: 10,
  exactlyOnce: false,
  writers: 4,
  keys: 64,
  partitions: 3,
  seed: 0,
  catchUpTimeoutSeconds: 180,
};

export interface FaultCounts {
  tributaryKills: number;
  brokerKills: number;
  pgRestarts: number;
  pauses: number;
}

export interface ChaosReport {
  ok: boolean;
  /** why the run failed (checker findings or a harness error) */
  failures: string[];
  platform: 'kafka' | 'embedded';
  exactlyOnce: boolean;
  seed: number;
  options: Omit<ChaosOptions, 'log' | 'broker'>;
  /** the connector creation was refused (exactly-once before the runtime supports it) */
  createRefused?: string;
  committed: number;
  keys: number;
  delivered: number;
  distinctDelivered: number;
  missing: number;
  duplicated: number;
  keysWithDuplicates: number;
  unexpected: number;
  outOfOrderKeys: number;
  nonSuffixDuplicateKeys: number;
  replays: number;
  flushSamples: number;
  flushViolations: number;
  /** samples where the flush position covered the last record then in a partition (see checkFlush) */
  flushTightSamples: number;
  faults: FaultCounts;
  /** every fault: when (seconds since the writes started), how long the process was unavailable */
  timeline: Array<{ atSeconds: number; fault: string; outageSeconds: number; detail: string }>;
  /**
   * duplicates attributed to the fault that caused their replay: the first fault that started at or after the
   * event's commit time (its record timestamp); "before any fault" should stay 0
   */
  duplicatesByFault: Record<string, number>;
  /** whether PostgreSQL dropped the replication connection during each SIGSTOP (slot inactive) */
  pauseDroppedWalsender: boolean[];
  writerRetries: number;
  taskState: string;
  /** the task seen FAILED during the run (a later server kill may have restarted it) */
  taskFailures: string[];
  /** from the end of the writes and faults until the slot's flush position reached the end of the writes */
  catchUpSeconds: number | null;
  runSeconds: number;
  examples: string[];
  workDir?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** "RUNNING", or "FAILED (first line of the trace)"; null when the server does not answer */
async function taskStatus(url: string): Promise<string | null> {
  try {
    const r = await fetch(`${url}/connectors/${CONNECTOR}/status`, { signal: AbortSignal.timeout(2000) });
    const s = (await r.json()) as { tasks?: Array<{ state: string; trace?: string }> };
    return s.tasks?.map((t) => t.state + (t.trace ? ` (${t.trace.split('\n')[0]})` : '')).join(', ') || 'no task';
  } catch {
    return null;
  }
}

/** mulberry32: a small seeded generator, so a run's fault schedule can be repeated with --seed */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TABLE = 'chaos';
const PREFIX = 'chaos';
const CONNECTOR = 'chaos';
export const DATA_TOPIC = `${PREFIX}.public.${TABLE}`;

/** Runs one chaos run; never throws for a failed check (see `ok` and `failures`), cleans up every process it started. */
export async function runChaos(input: Partial<ChaosOptions>): Promise<ChaosReport> {
  const o: ChaosOptions = { ...DEFAULTS, ...input };
  if (!o.seed) o.seed = (Math.random() * 2 ** 31) >>> 0 || 1;
  if (o.platform !== 'kafka' || (o.bootstrap && !o.broker)) o.brokerKills = 0;
  if (o.broker) o.bootstrap = undefined;
  const log = o.log ?? (() => undefined);
  const random = rng(o.seed);
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const t0 = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'tributary-chaos-'));
  const dataDir = join(workDir, 'data');
  const serverLog = join(workDir, 'server.log');
  const faults: FaultCounts = { tributaryKills: 0, brokerKills: 0, pgRestarts: 0, pauses: 0 };
  const pauseDropped: boolean[] = [];
  const timeline: ChaosReport['timeline'] = [];
  const taskFailures: string[] = [];
  const faultStarts: Array<{ at: number; fault: string }> = [];
  const failures: string[] = [];
  const { log: _omit, broker: _broker, ...optionsOut } = o;
  const report: ChaosReport = {
    ok: false, failures, platform: o.platform, exactlyOnce: o.exactlyOnce, seed: o.seed, options: optionsOut,
    committed: 0, keys: 0, delivered: 0, distinctDelivered: 0, missing: 0, duplicated: 0, keysWithDuplicates: 0, unexpected: 0,
    outOfOrderKeys: 0, nonSuffixDuplicateKeys: 0, replays: 0, flushSamples: 0, flushViolations: 0, flushTightSamples: 0, faults,
    timeline, duplicatesByFault: {}, pauseDroppedWalsender: pauseDropped, writerRetries: 0, taskState: 'unknown', taskFailures, catchUpSeconds: null, runSeconds: 0, examples: [],
  };

  let pgServer: ChaosPg | null = null;
  let broker: BrokerHandle | null = null;
  let brokerDir: string | null = null;
  let server: ServerProcess | null = null;
  let probe: PlatformProbe | null = null;
  let admin: pg.Client | null = null;
  // if this process dies before the cleanup below, take the server child with it (the broker and PostgreSQL
  // modules kill theirs on exit)
  const onExit = () => {
    try {
      server?.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    pgServer?.killNow();
    if (!o.keep) rmSync(workDir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  try {
    log(`chaos: platform ${o.platform}${o.exactlyOnce ? ' (exactly-once)' : ''}, ${o.rows} rows over ${o.minutes} min, ${o.kills} Tributary kills, ${o.brokerKills} broker kills, ${o.pgRestarts} PostgreSQL restarts, ${o.pauses} pauses of ${o.pauseSeconds} s (wal_sender_timeout ${o.walSenderTimeoutSeconds} s), seed ${o.seed}`);
    log(`chaos: folder ${workDir}`);
    const starting: Array<Promise<unknown>> = [
      startChaosPg({ walSenderTimeoutS: o.walSenderTimeoutSeconds }).then((p) => (pgServer = p)),
    ];
    if (o.broker) broker = o.broker;
    else if (o.platform === 'kafka' && !o.bootstrap) {
      brokerDir = join(workDir, 'kafka');
      starting.push(startBroker({ port: 0, dir: brokerDir, heap: '512m' }).then((b) => (broker = b)));
    }
    const started = await Promise.allSettled(starting);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const pgs = pgServer as unknown as ChaosPg;
    const bootstrap = o.platform === 'kafka' ? (o.bootstrap ?? (broker as unknown as BrokerHandle).bootstrap) : undefined;
    log(`chaos: PostgreSQL on port ${pgs.port}${bootstrap ? `, Kafka at ${bootstrap}` : ''}`);

    // queries of the harness itself: a fresh connection after a failure (PostgreSQL restarts during the run)
    const query = async (sql: string, params: unknown[] = []): Promise<pg.QueryResult> => {
      for (let attempt = 0; ; attempt++) {
        try {
          admin ??= await pgs.client({ connectTimeoutMs: 2000 });
          return await admin.query(sql, params);
        } catch (e) {
          await admin?.end().catch(() => undefined);
          admin = null;
          if (attempt >= 20) throw e;
          await sleep(500);
        }
      }
    };
    await query(`CREATE TABLE ${TABLE} (id bigserial PRIMARY KEY, k int NOT NULL, seq bigint NOT NULL, v text NOT NULL, UNIQUE (k, seq))`);

    const serverArgs = bootstrap ? ['--bootstrap-servers', bootstrap] : [];
    if (o.workerConfig && Object.keys(o.workerConfig).length) {
      const file = join(workDir, 'worker.properties');
      writeFileSync(file, Object.entries(o.workerConfig).map(([k, v]) => `${k}=${v}\n`).join(''));
      serverArgs.push('--config', file);
    }
    const startServer = async (port?: number): Promise<ServerProcess> => {
      let last: unknown;
      // retried for a while: a start can fail for reasons outside the runtime (e.g. dist/ being rebuilt)
      for (let attempt = 0; attempt < 15; attempt++) {
        try {
          const s = await startServerProcess(dataDir, { port, args: serverArgs, env: { TRIBUTARY_LOG_LEVEL: 'warn' } });
          const tag = `--- server pid ${s.child.pid} started ${new Date().toISOString()}\n`;
          appendFileSync(serverLog, tag + s.output());
          s.child.stdout!.on('data', (d) => appendFileSync(serverLog, d));
          s.child.stderr!.on('data', (d) => appendFileSync(serverLog, d));
          return s;
        } catch (e) {
          last = e;
          appendFileSync(serverLog, `--- server start failed: ${(e as Error).message}\n`);
          await sleep(2000);
        }
      }
      throw new Error(`the Tributary server did not start again: ${(last as Error).message}`);
    };
    server = await startServer();
    const port = server.port;

    const config: Record<string, string> = {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname': pgs.host,
      'database.port': String(pgs.port),
      'database.user': pgs.user,
      'database.password': pgs.password,
      'database.dbname': pgs.database,
      'topic.prefix': PREFIX,
      'slot.name': 'chaos',
      'publication.name': 'chaos',
      'publication.autocreate.mode': 'filtered',
      'table.include.list': `public\\.${TABLE}`,
      'message.key.columns': `public\\.${TABLE}:k`,
      'provide.transaction.metadata': 'true',
      'topic.creation.default.partitions': String(o.partitions),
      'topic.creation.default.replication.factor': '1',
    };
    if (o.exactlyOnce) {
      config['exactly.once.support'] = 'required';
      config['transaction.boundary'] = 'poll';
    }
    Object.assign(config, o.connectorConfig ?? {});
    const res = await fetch(`${server.url}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: CONNECTOR, config }),
    });
    if (res.status !== 201) {
      const body = await res.text();
      let message = body;
      try {
        message = JSON.parse(body).message ?? body;
      } catch {
        /* not JSON */
      }
      report.createRefused = `HTTP ${res.status}: ${message}`;
      failures.push(`CREATE of the connector was refused (HTTP ${res.status}): ${message}`);
      log(`chaos: CREATE refused (HTTP ${res.status}): ${message}`);
      return report;
    }
    const slotActive = async () => (await query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', ['chaos'])).rows[0]?.active === true;
    for (const deadline = Date.now() + 60_000; !(await slotActive()); ) {
      if (Date.now() > deadline) throw new Error(`the connector did not start streaming within 60 s:\n${server.output().slice(-4000)}`);
      await sleep(200);
    }
    log('chaos: connector streaming');

    probe = bootstrap ? kafkaProbe(bootstrap, { readCommitted: o.exactlyOnce }) : await embeddedProbe(dataDir);

    // ---- flush sampler: confirmed_flush_lsn first, then the platform's end offsets
    const samples: FlushSample[] = [];
    let sampling = true;
    let samplerClient: pg.Client | null = null;
    const sampler = (async () => {
      while (sampling) {
        try {
          samplerClient ??= await pgs.client({ connectTimeoutMs: 1000 });
          const r = await samplerClient.query('SELECT confirmed_flush_lsn::text AS f FROM pg_replication_slots WHERE slot_name = $1', ['chaos']);
          const f = r.rows[0]?.f as string | undefined;
          if (f) {
            const at = Date.now();
            const ends = await probe!.endOffsets(DATA_TOPIC);
            if (ends) samples.push({ at, flush: parseLsn(f), ends });
          }
        } catch {
          // PostgreSQL or the broker is down, or the client broke: a new client next time
          await samplerClient?.end().catch(() => undefined);
          samplerClient = null;
        }
        await sleep(200);
      }
      await samplerClient?.end().catch(() => undefined);
    })();

    // ---- writers
    const runMs = o.minutes * 60_000;
    const rate = o.rows / (runMs / 1000);
    const wStart = Date.now();
    let written = 0;
    let retries = 0;
    const writer = async (w: number): Promise<void> => {
      const keys: number[] = [];
      for (let k = w; k < o.keys; k += o.writers) keys.push(k);
      const next = new Map(keys.map((k) => [k, 1]));
      let client: pg.Client | null = null;
      let resync = false;
      const quota = Math.floor(o.rows / o.writers) + (w < o.rows % o.writers ? 1 : 0);
      try {
        for (let i = 0; i < quota; i++) {
          const due = wStart + ((i * o.writers + w) / rate) * 1000;
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait);
          const k = keys[i % keys.length]!;
          for (;;) {
            const seq = next.get(k)!;
            try {
              if (!client) {
                client = await pgs.client({ connectTimeoutMs: 2000 });
                if (resync) {
                  const r = await client.query('SELECT k, max(seq)::int AS s FROM chaos WHERE k = ANY($1) GROUP BY k', [keys]);
                  for (const row of r.rows) next.set(row.k, row.s + 1);
                  resync = false;
                  // the failed insert had committed after all
                  if (next.get(k)! > seq) break;
                }
              }
              await client.query('INSERT INTO chaos (k, seq, v) VALUES ($1, $2, $3)', [k, seq, `${k}:${seq}:${randomBytes(12).toString('hex')}`]);
              next.set(k, seq + 1);
              break;
            } catch {
              retries++;
              await client?.end().catch(() => undefined);
              client = null;
              resync = true;
              await sleep(250);
            }
          }
          written++;
        }
      } finally {
        await client?.end().catch(() => undefined);
      }
    };
    let writersDone = false;
    const writing = Promise.all(Array.from({ length: o.writers }, (_, w) => writer(w))).finally(() => (writersDone = true));
    const progress = setInterval(() => log(`chaos: ${Math.round((Date.now() - wStart) / 1000)} s, ${written}/${o.rows} rows, faults ${JSON.stringify(faults)}`), 30_000);
    // the task's state every second: a FAILED task is a finding even when a later server kill restarts it
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await sleep(1000);
        const st = await taskStatus(server!.url);
        if (st && /^FAILED/.test(st)) {
          const line = `${Math.round((Date.now() - wStart) / 1000)} s: ${st}`;
          if (taskFailures.at(-1)?.replace(/^\d+ s: /, '') !== st) {
            taskFailures.push(line);
            log(`chaos: task FAILED at ${line}`);
          }
        }
      }
    })();

    // ---- faults
    const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
    const mark = (fault: string, start: number, detail: string) => {
      faultStarts.push({ at: start, fault });
      timeline.push({ atSeconds: Math.round((start - wStart) / 100) / 10, fault, outageSeconds: Math.round((Date.now() - start) / 100) / 10, detail });
      log(`chaos: ${fault} at ${((start - wStart) / 1000).toFixed(0)} s, ${detail}`);
    };
    const killTributary = async () => {
      const start = Date.now();
      await server!.kill('SIGKILL');
      faults.tributaryKills++;
      await sleep(between(200, 1500));
      server = await startServer(port);
      mark(`server kill -9 #${faults.tributaryKills}`, start, `listening again after ${since(start)} (pid ${server.child.pid})`);
    };
    const killBroker = async () => {
      const b = broker as unknown as BrokerHandle;
      const start = Date.now();
      await b.kill();
      faults.brokerKills++;
      await sleep(between(3000, 8000));
      await b.restart();
      mark('Kafka broker kill -9', start, `answering again after ${since(start)}`);
    };
    const restartPg = async () => {
      const start = Date.now();
      await pgs.restart(between(1000, 3000));
      faults.pgRestarts++;
      mark('PostgreSQL restart', start, `accepting connections again after ${since(start)}`);
    };
    const pause = async () => {
      const s = server!;
      let dropped = false;
      const c = await pgs.client();
      const start = Date.now();
      try {
        s.child.kill('SIGSTOP');
        const until = Date.now() + o.pauseSeconds * 1000;
        while (Date.now() < until) {
          await sleep(500);
          const r = await c.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', ['chaos']).catch(() => null);
          if (r?.rows[0]?.active === false) dropped = true;
        }
      } finally {
        s.child.kill('SIGCONT');
        await c.end().catch(() => undefined);
      }
      faults.pauses++;
      pauseDropped.push(dropped);
      mark('server SIGSTOP', start, `SIGCONT after ${since(start)}; PostgreSQL ${dropped ? 'dropped' : 'did not drop'} the replication connection`);
    };
    type Special = { at: number; run: () => Promise<void> };
    const kinds: Array<() => Promise<void>> = [];
    const maxN = Math.max(o.brokerKills, o.pgRestarts, o.pauses);
    for (let i = 0; i < maxN; i++) {
      if (i < o.brokerKills) kinds.push(killBroker);
      if (i < o.pgRestarts) kinds.push(restartPg);
      if (i < o.pauses) kinds.push(pause);
    }
    // spread over 20 %–80 % of the run
    const specials: Special[] = kinds.map((run, i) => ({ at: wStart + runMs * (0.2 + (0.6 * (i + 1)) / (kinds.length + 1)), run }));
    // server kills every 5–20 s for the whole run (--kills is the minimum: closer together if needed to reach
    // it), the other faults at their times
    const runEnd = wStart + runMs;
    const faultLoop = async () => {
      for (;;) {
        const killsLeft = o.kills - faults.tributaryKills;
        const now = Date.now();
        const running = now < runEnd && !writersDone;
        let nextKill = Infinity;
        if (o.kills > 0 && (killsLeft > 0 || running)) {
          const perKill = killsLeft > 0 ? Math.max(0, runEnd - now) / killsLeft : Infinity;
          nextKill = now + between(5000, Math.min(20_000, Math.max(5000, perKill)));
          // the minimum is met and the run is over by then: no more kills
          if (killsLeft <= 0 && (nextKill >= runEnd || writersDone)) nextKill = Infinity;
        }
        const special = specials[0];
        if (!special && nextKill === Infinity) return;
        if (special && special.at <= nextKill) {
          await sleep(Math.max(0, special.at - Date.now()));
          specials.shift();
          await special.run();
        } else {
          await sleep(Math.max(0, nextKill - Date.now()));
          await killTributary();
        }
      }
    };
    try {
      await Promise.all([writing, faultLoop()]);
    } finally {
      clearInterval(progress);
      watching = false;
      await watcher;
    }
    const faultsDone = Date.now();
    log(`chaos: writes and faults done after ${Math.round((faultsDone - wStart) / 1000)} s (${written} rows, ${retries} writer retries)`);
    report.writerRetries = retries;

    // ---- catch-up: the slot's flush position reaches the WAL position after the last write
    const target = parseLsn((await query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l);
    const committed = Number((await query(`SELECT count(*)::int AS n FROM ${TABLE}`)).rows[0].n);
    const caughtUp = async () => {
      const r = await query('SELECT confirmed_flush_lsn::text AS f FROM pg_replication_slots WHERE slot_name = $1', ['chaos']);
      if (!r.rows[0]?.f || parseLsn(r.rows[0].f) < target) return false;
      const ends = await probe!.endOffsets(DATA_TOPIC).catch(() => null);
      return !!ends && ends.reduce((a, b) => a + b, 0) >= committed;
    };
    for (const deadline = Date.now() + o.catchUpTimeoutSeconds * 1000; ; ) {
      if (await caughtUp()) {
        report.catchUpSeconds = Math.round((Date.now() - faultsDone) / 100) / 10;
        break;
      }
      if (Date.now() > deadline) {
        failures.push(`the connector did not catch up within ${o.catchUpTimeoutSeconds} s after the faults`);
        break;
      }
      await sleep(250);
    }
    log(`chaos: ${report.catchUpSeconds !== null ? `caught up in ${report.catchUpSeconds} s` : 'did not catch up'}`);
    sampling = false;
    await sampler;
    report.taskState = (await taskStatus(server.url)) ?? 'unknown (no answer)';

    // ---- read back and check
    const records = await probe.readAll(DATA_TOPIC);
    const delivered: DeliveredEvent[] = [];
    const commitTime = new Map<string, number>();
    for (const r of records) {
      if (!r.value) continue; // tombstones (none: inserts only)
      const p = JSON.parse(r.value.toString('utf8')).payload;
      const row = p?.after;
      if (!row) continue;
      const tx = p.transaction?.id as string | undefined;
      delivered.push({ partition: r.partition, offset: r.offset, k: Number(row.k), seq: Number(row.seq), commitLsn: tx ? Number(tx.slice(tx.indexOf(':') + 1)) : null });
      commitTime.set(`${row.k}:${row.seq}`, r.timestamp);
    }
    const audit: CommittedRow[] = (await query(`SELECT k, seq::int AS seq FROM ${TABLE}`)).rows;
    const d = checkDelivery(audit, delivered);
    const f = checkFlush(delivered, samples);
    Object.assign(report, {
      committed: d.committed, keys: d.keys, delivered: d.delivered, distinctDelivered: d.distinctDelivered, missing: d.missing,
      duplicated: d.duplicated, keysWithDuplicates: d.keysWithDuplicates, unexpected: d.unexpected, outOfOrderKeys: d.outOfOrderKeys,
      nonSuffixDuplicateKeys: d.nonSuffixDuplicateKeys, replays: d.replays, flushSamples: f.samples, flushViolations: f.violations, flushTightSamples: f.tight,
      examples: [...d.examples, ...f.examples],
    });
    for (const dup of d.duplicates) {
      const t = commitTime.get(`${dup.k}:${dup.seq}`) ?? 0;
      const cause = faultStarts.find((x) => x.at >= t)?.fault ?? 'after the last fault';
      report.duplicatesByFault[cause] = (report.duplicatesByFault[cause] ?? 0) + 1;
    }
    if (d.committed !== o.rows) failures.push(`the workload committed ${d.committed} rows instead of ${o.rows}`);
    if (d.missing) failures.push(`${d.missing} committed changes missing`);
    if (d.unexpected) failures.push(`${d.unexpected} records of changes that were never committed`);
    if (d.outOfOrderKeys) failures.push(`${d.outOfOrderKeys} keys out of order (${d.nonSuffixDuplicateKeys} with duplicates that are not a replayed suffix)`);
    if (f.violations) failures.push(`${f.violations} flush samples where confirmed_flush_lsn covered an event not yet in the platform`);
    if (o.exactlyOnce && d.duplicated) failures.push(`${d.duplicated} duplicates under exactly-once`);
    if (f.samples < 10) failures.push(`only ${f.samples} flush samples taken`);
    if (faults.tributaryKills < o.kills) failures.push(`only ${faults.tributaryKills} of ${o.kills} server kills done`);
    if (taskFailures.length) failures.push(`the task was FAILED during the run: ${taskFailures.join('; ')}`);
    if (!/^RUNNING/.test(report.taskState)) failures.push(`the task is ${report.taskState} at the end`);
  } catch (e) {
    failures.push(`harness error: ${(e as Error).stack ?? String(e)}`);
  } finally {
    report.runSeconds = Math.round((Date.now() - t0) / 100) / 10;
    await probe?.close().catch(() => undefined);
    await (admin as pg.Client | null)?.end().catch(() => undefined);
    await (server as ServerProcess | null)?.kill('SIGKILL').catch(() => undefined);
    if (!o.broker) await (broker as BrokerHandle | null)?.stop().catch(() => undefined);
    await (pgServer as ChaosPg | null)?.stop().catch(() => undefined);
    if (brokerDir && !o.keep) rmSync(join(brokerDir, 'data'), { recursive: true, force: true });
    process.off('exit', onExit);
    report.ok = failures.length === 0;
    if (o.keep) {
      report.workDir = workDir;
    } else if (!report.ok && !report.createRefused) {
      // keep the server's log (not the data) of a failed run
      rmSync(dataDir, { recursive: true, force: true });
      report.workDir = workDir;
    } else {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  return report;
}
