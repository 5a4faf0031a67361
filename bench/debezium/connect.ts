/**
 * Kafka Connect (standalone worker) running Debezium's PostgreSQL connector, for side-by-side comparisons with
 * Tributary: `npm run compat -- debezium` now, `npm run bench -- compare` later.
 *
 * What is obtained, and from where (Maven Central only, cached under `<cache>/debezium`, `<cache>` being
 * `$TRIBUTARY_CACHE` or `<repo>/.cache`, which .gitignore excludes):
 *
 * - The Kafka Connect runtime is Apache Kafka's own jars, resolved by the Kafka module
 *   (`ensureKafkaLibs` in src/connectors/kafka/broker.ts → `<cache>/kafka/<version>/libs`). `kafka-tools`
 *   depends on `connect-runtime`, so that folder already holds everything a standalone worker needs:
 *   `connect-runtime` (ConnectStandalone, the worker, REST server), `connect-api`, `connect-json`
 *   (JsonConverter), `connect-transforms` (SMTs), `kafka-clients`, Jetty/Jersey/Jackson, log4j2.
 *   `connect-file` (FileStream connectors) is not needed. Should a Kafka version lack one of the required jars,
 *   the missing artifacts are resolved into `<cache>/debezium/connect-<kafka version>/libs` and added to the
 *   class path.
 * - Debezium's PostgreSQL connector as Debezium ships it: the plug-in archive
 *   `io.debezium:debezium-connector-postgres:<version>:tar.gz:plugin` (the connector, debezium-core/api/common,
 *   the PostgreSQL JDBC driver, protobuf …), unpacked into `<cache>/debezium/<version>/plugins`, which becomes
 *   the worker's `plugin.path` (classes are loaded in isolation, Kafka's own from the worker's class path).
 *
 * `startDebezium()` writes a worker properties file, a connector properties file and a log4j2 configuration
 * into a run folder (temporary unless given), runs `org.apache.kafka.connect.cli.ConnectStandalone` with a
 * modest heap, logs to `<dir>/connect.log`, and returns once the connector and its task are RUNNING.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheRoot, ensureKafkaLibs, freePort, javaArgs, kafkaVersion, run, trackChild, untrackChild } from '../../src/connectors/kafka/broker.js';
import type { Logger } from '../../src/sdk/logger.js';

/** Debezium release compared against unless `TRIBUTARY_DEBEZIUM_VERSION` says otherwise. */
export const DEFAULT_DEBEZIUM_VERSION = '3.6.1.Final';

export function debeziumVersion(v?: string): string {
  return v ?? process.env.TRIBUTARY_DEBEZIUM_VERSION ?? DEFAULT_DEBEZIUM_VERSION;
}

/** Jars a standalone Connect worker needs on its class path (artifact ids, all `org.apache.kafka`). */
export const CONNECT_ARTIFACTS = ['connect-runtime', 'connect-api', 'connect-json', 'connect-transforms', 'kafka-clients'] as const;

export function debeziumPluginDir(version?: string): string {
  return path.join(cacheRoot(), 'debezium', debeziumVersion(version), 'plugins');
}

/**
 * Why Debezium cannot be run here (no java; or neither a cached plug-in nor mvn), or undefined when it can.
 * Does not contact Maven Central.
 */
export function debeziumUnavailableReason(version?: string): string | undefined {
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0) return 'no Java runtime (java) on PATH to run Kafka Connect';
  const kafkaCached = existsSync(path.join(cacheRoot(), 'kafka', kafkaVersion(), 'libs', '.complete'));
  const pluginCached = existsSync(path.join(debeziumPluginDir(version), '.complete'));
  if (kafkaCached && pluginCached) return undefined;
  const mvn = spawnSync('mvn', ['-v'], { stdio: 'ignore' });
  if (mvn.error || mvn.status !== 0) return `no Maven (mvn) on PATH to fetch ${pluginCached ? 'Apache Kafka' : `Debezium ${debeziumVersion(version)}`}, and no cached copy`;
  return undefined;
}

/** Builds `target` in a private temporary folder and renames it into place (safe against concurrent callers). */
async function buildOnce(target: string, build: (work: string) => Promise<void>): Promise<string> {
  if (existsSync(path.join(target, '.complete'))) return target;
  const base = path.dirname(target);
  mkdirSync(base, { recursive: true });
  const work = path.join(base, `resolve-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(work, { recursive: true });
  try {
    const out = path.join(work, 'out');
    mkdirSync(out);
    await build(out);
    writeFileSync(path.join(out, '.complete'), `${new Date().toISOString()}\n`);
    try {
      renameSync(out, target);
    } catch {
      if (!existsSync(path.join(target, '.complete'))) {
        rmSync(target, { recursive: true, force: true });
        renameSync(out, target);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}

/**
 * Debezium's PostgreSQL connector plug-in folder (the worker's `plugin.path`), fetched from Maven Central and
 * unpacked the first time.
 */
export async function ensureDebeziumPlugin(opts: { version?: string; logger?: Logger } = {}): Promise<string> {
  const version = debeziumVersion(opts.version);
  const dir = debeziumPluginDir(version);
  return buildOnce(dir, async (out) => {
    opts.logger?.info('fetching Debezium PostgreSQL connector from Maven Central (first time only)', { version, into: dir });
    const dl = path.join(path.dirname(out), 'dl');
    const artifact = `io.debezium:debezium-connector-postgres:${version}:tar.gz:plugin`;
    const got = await run('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${dl}`], path.dirname(out));
    const archive = existsSync(dl) ? readdirSync(dl).find((f) => f.endsWith('.tar.gz')) : undefined;
    if (got.code !== 0 || !archive) throw new Error(`could not fetch ${artifact} with Maven (exit ${got.code}):\n${got.output.slice(-3000)}`);
    const untar = await run('tar', ['xzf', path.join(dl, archive), '-C', out], out);
    if (untar.code !== 0) throw new Error(`could not unpack ${archive}: ${untar.output}`);
    if (!existsSync(path.join(out, 'debezium-connector-postgres', `debezium-connector-postgres-${version}.jar`))) {
      throw new Error(`${archive} does not contain debezium-connector-postgres-${version}.jar`);
    }
  });
}

/**
 * Class path folders of a standalone Connect worker for Kafka `version`: Kafka's libs (through the Kafka
 * module), plus a folder of whatever of {@link CONNECT_ARTIFACTS} those lack, resolved with Maven.
 */
export async function ensureConnectLibs(opts: { version?: string; logger?: Logger } = {}): Promise<string[]> {
  const version = kafkaVersion(opts.version);
  const libs = await ensureKafkaLibs({ version, logger: opts.logger });
  const have = new Set(readdirSync(libs));
  const missing = CONNECT_ARTIFACTS.filter((a) => !have.has(`${a}-${version}.jar`));
  if (!missing.length) return [libs];
  const extra = path.join(cacheRoot(), 'debezium', `connect-${version}`, 'libs');
  await buildOnce(extra, async (out) => {
    opts.logger?.info('resolving Kafka Connect artifacts missing from the Kafka libs', { missing });
    const deps = missing.map((a) => `<dependency><groupId>org.apache.kafka</groupId><artifactId>${a}</artifactId><version>${version}</version></dependency>`).join('');
    const pom = path.join(path.dirname(out), 'pom.xml');
    writeFileSync(pom, `<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>dev.tributary</groupId><artifactId>connect-runtime</artifactId><version>${version}</version><packaging>pom</packaging><dependencies>${deps}</dependencies></project>`);
    const r = await run('mvn', ['-B', '-q', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${out}`, '-DincludeScope=runtime'], path.dirname(out));
    if (r.code !== 0) throw new Error(`could not resolve ${missing.join(', ')} ${version} with Maven (exit ${r.code}):\n${r.output.slice(-3000)}`);
    // jars the Kafka folder already has (same name) are not duplicated on the class path
    for (const f of readdirSync(out)) if (have.has(f)) rmSync(path.join(out, f));
  });
  return [libs, extra];
}

export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
  dbname: string;
}

export interface DebeziumStartOptions {
  /** Kafka bootstrap servers, e.g. `127.0.0.1:9092` */
  bootstrap: string;
  pg: PgConnection;
  /**
   * Connector properties on top of the defaults (`connector.class`, `database.*` from `pg`, `plugin.name=pgoutput`,
   * `tasks.max=1`, `topic.creation.default.replication.factor=1`, `topic.creation.default.partitions=1`);
   * `topic.prefix` is required here.
   */
  connectorConfig: Record<string, string | number | boolean>;
  /** worker properties on top of the defaults (JsonConverter with schemas for key and value, file offsets …) */
  workerOverrides?: Record<string, string | number | boolean>;
  /** connector name, default `debezium-<random>` */
  name?: string;
  /** run folder (properties, offsets, log); default a new temporary folder, removed by `stop()` */
  dir?: string;
  /** JVM max heap, default `512m` */
  heap?: string;
  /** JVM initial heap, default `128m` */
  initialHeap?: string;
  /** Kafka (Connect runtime) version, default the Kafka module's */
  kafkaVersion?: string;
  /** Debezium version, default {@link DEFAULT_DEBEZIUM_VERSION} */
  debeziumVersion?: string;
  /** how long to wait for connector + task RUNNING, default 180 s */
  startTimeoutMs?: number;
  /** root log level of the worker, default INFO */
  logLevel?: string;
  logger?: Logger;
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string; trace?: string };
  tasks: Array<{ id: number; state: string; worker_id: string; trace?: string }>;
  type?: string;
}

export interface DebeziumHandle {
  /** JVM process id (for RSS / CPU sampling) */
  readonly pid: number;
  readonly name: string;
  /** the worker's REST endpoint, `http://127.0.0.1:<port>` */
  readonly restUrl: string;
  readonly dir: string;
  readonly logFile: string;
  readonly connectorConfig: Record<string, string>;
  /** `GET /connectors/<name>/status` */
  status(): Promise<ConnectorStatus>;
  /** topics the connector has written to (Connect's topic tracking: `GET /connectors/<name>/topics`) */
  topics(): Promise<string[]>;
  /** resolves once the connector reports `topic` among its active topics; rejects on timeout or a failed task */
  waitForTopic(topic: string, timeoutMs?: number): Promise<void>;
  /** the last `lines` lines of the worker log */
  logTail(lines?: number): string;
  /** SIGTERM (Connect stops the connector and flushes offsets), SIGKILL after `graceMs` (default 20 s). Idempotent. */
  stop(opts?: { graceMs?: number; keepDir?: boolean }): Promise<void>;
  /** SIGKILL */
  kill(): Promise<void>;
  /** resolves when the JVM has exited */
  readonly exited: Promise<number | null>;
}

function propertiesText(props: Record<string, string | number | boolean>): string {
  // java.util.Properties escaping: backslashes, and ':' '=' '#' '!' are fine in values after the first '='
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return Object.entries(props).map(([k, v]) => `${esc(k).replace(/([=:])/g, '\\$1')}=${esc(String(v))}`).join('\n') + '\n';
}

function log4j2(logFile: string, level: string): string {
  return `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${logFile}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ${level}
rootLogger.appenderRef.file.ref = FILE
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.kafkaclients.name = org.apache.kafka.clients
logger.kafkaclients.level = WARN
logger.kafkacommon.name = org.apache.kafka.common
logger.kafkacommon.level = WARN
`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts Kafka Connect standalone with Debezium's PostgreSQL connector; resolves when connector and task run. */
export async function startDebezium(opts: DebeziumStartOptions): Promise<DebeziumHandle> {
  const log = opts.logger;
  if (!opts.connectorConfig['topic.prefix']) throw new Error('connectorConfig needs topic.prefix');
  const [classpath, plugins] = await Promise.all([
    ensureConnectLibs({ version: opts.kafkaVersion, logger: log }),
    ensureDebeziumPlugin({ version: opts.debeziumVersion, logger: log }),
  ]);
  const ownDir = !opts.dir;
  const dir = path.resolve(opts.dir ?? mkdtempSync(path.join(tmpdir(), 'tributary-debezium-')));
  mkdirSync(dir, { recursive: true });
  const name = opts.name ?? `debezium-${randomBytes(3).toString('hex')}`;
  const restPort = await freePort();
  const logFile = path.join(dir, 'connect.log');

  const worker: Record<string, string | number | boolean> = {
    'bootstrap.servers': opts.bootstrap,
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': true,
    'value.converter.schemas.enable': true,
    'offset.storage.file.filename': path.join(dir, 'connect.offsets'),
    'offset.flush.interval.ms': 1000,
    'plugin.path': plugins,
    listeners: `http://127.0.0.1:${restPort}`,
    'rest.advertised.host.name': '127.0.0.1',
    ...opts.workerOverrides,
  };
  const connector: Record<string, string> = Object.fromEntries(
    Object.entries({
      name,
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': 1,
      'database.hostname': opts.pg.host,
      'database.port': opts.pg.port,
      'database.user': opts.pg.user,
      'database.password': opts.pg.password ?? '',
      'database.dbname': opts.pg.dbname,
      'plugin.name': 'pgoutput',
      'topic.creation.default.replication.factor': 1,
      'topic.creation.default.partitions': 1,
      ...opts.connectorConfig,
    }).map(([k, v]) => [k, String(v)]),
  );
  const workerFile = path.join(dir, 'worker.properties');
  const connectorFile = path.join(dir, 'connector.properties');
  const log4jFile = path.join(dir, 'log4j2.properties');
  writeFileSync(workerFile, propertiesText(worker));
  writeFileSync(connectorFile, propertiesText(connector));
  writeFileSync(log4jFile, log4j2(logFile, opts.logLevel ?? 'INFO'));

  const args = javaArgs(classpath[0]!, 'org.apache.kafka.connect.cli.ConnectStandalone', [workerFile, connectorFile], { heap: opts.heap ?? '512m', log4j: log4jFile });
  const xms = args.findIndex((a) => a.startsWith('-Xms'));
  if (xms >= 0) args[xms] = `-Xms${opts.initialHeap ?? '128m'}`;
  const cp = args.indexOf('-cp');
  args[cp + 1] = classpath.map((d) => path.join(d, '*')).join(path.delimiter);

  // stdout/stderr (JVM errors before log4j is up) go to the same file
  const fd = openSync(path.join(dir, 'connect.out'), 'a');
  const child = spawn('java', args, { cwd: dir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid ?? 0;
  if (!pid) throw new Error('could not start java for Kafka Connect');
  child.unref();
  trackChild(pid);
  let gone = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((gone = true), untrackChild(pid), resolve(code))));
  log?.info('starting Kafka Connect standalone with Debezium', { pid, name, rest: restPort, dir });

  const restUrl = `http://127.0.0.1:${restPort}`;
  const rest = async <T>(p: string): Promise<T> => {
    const res = await fetch(restUrl + p, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${p}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const tail = (lines = 60): string => {
    const parts: string[] = [];
    for (const f of [path.join(dir, 'connect.out'), logFile]) {
      try {
        parts.push(readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n'));
      } catch {
        /* not there yet */
      }
    }
    return parts.join('\n');
  };
  const status = () => rest<ConnectorStatus>(`/connectors/${encodeURIComponent(name)}/status`);
  const failed = (st: ConnectorStatus) => (st.connector.state === 'FAILED' ? st.connector.trace ?? 'connector FAILED' : st.tasks.find((t) => t.state === 'FAILED')?.trace);

  let stopped = false;
  const terminate = async (signal: NodeJS.Signals, graceMs: number, keepDir: boolean) => {
    if (!gone) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
      const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await exited;
      }
    }
    if (!stopped && ownDir && !keepDir) rmSync(dir, { recursive: true, force: true });
    stopped = true;
  };

  const handle: DebeziumHandle = {
    pid,
    name,
    restUrl,
    dir,
    logFile,
    connectorConfig: connector,
    exited,
    status,
    topics: async () => (await rest<Record<string, { topics: string[] }>>(`/connectors/${encodeURIComponent(name)}/topics`))[name]?.topics ?? [],
    async waitForTopic(topic, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        if (gone) throw new Error(`Kafka Connect exited while waiting for topic ${topic}:\n${tail()}`);
        const st = await status().catch(() => null);
        const trace = st && failed(st);
        if (trace) throw new Error(`Debezium failed while waiting for topic ${topic}:\n${trace}`);
        if ((await handle.topics().catch((): string[] => [])).includes(topic)) return;
        if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for Debezium to write to ${topic}`);
        await sleep(250);
      }
    },
    logTail: tail,
    stop: (o = {}) => terminate('SIGTERM', o.graceMs ?? 20_000, o.keepDir ?? false),
    kill: () => terminate('SIGKILL', 10_000, false),
  };

  // ready = connector and its task RUNNING
  const end = Date.now() + (opts.startTimeoutMs ?? 180_000);
  for (;;) {
    if (gone) {
      const t = tail();
      await handle.stop({ keepDir: true });
      throw new Error(`Kafka Connect exited during start-up (log ${logFile}):\n${t}`);
    }
    const st = await status().catch(() => null);
    if (st) {
      const trace = failed(st);
      if (trace) {
        await handle.stop({ keepDir: true });
        throw new Error(`Debezium connector failed to start (log ${logFile}):\n${trace}`);
      }
      if (st.connector.state === 'RUNNING' && st.tasks.length && st.tasks.every((t) => t.state === 'RUNNING')) break;
    }
    if (Date.now() > end) {
      const t = tail();
      await handle.stop({ keepDir: true });
      throw new Error(`Kafka Connect/Debezium not RUNNING after ${opts.startTimeoutMs ?? 180_000} ms (log ${logFile}):\n${t}`);
    }
    await sleep(500);
  }
  log?.info('Debezium connector running', { name, pid });
  return handle;
}
