/**
 * A real, single-node Apache Kafka broker for development and tests.
 *
 * Apache Kafka (`org.apache.kafka:kafka_2.13`, plus `kafka-tools` for ConsoleProducer and ProducerPerformance) is
 * resolved from Maven Central with `mvn dependency:copy-dependencies` into a cache folder
 * (`<repo>/.cache/kafka/<version>/libs`, or `$TRIBUTARY_CACHE/kafka/<version>/libs`) the first time, then reused.
 * The broker runs in KRaft combined mode (broker + controller in one JVM, no ZooKeeper) with a small heap and the
 * replication settings a single node needs. Its folder holds `server.properties`, `data/`, `broker.pid` and
 * `broker.log`, so a broker can be stopped, killed with SIGKILL and started again on the same port and data.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TributaryError } from '../../sdk/errors.js';
import type { Logger } from '../../sdk/logger.js';

/** Kafka version used when `TRIBUTARY_KAFKA_VERSION` is not set. */
export const DEFAULT_KAFKA_VERSION = '4.1.1';
/** log4j2 version matching the default Kafka release (binding for Kafka's slf4j 1.x logging). */
const LOG4J_VERSION = '2.24.3';

export interface BrokerOptions {
  /** client port on 127.0.0.1; default 9092 (0 → pick a free port) */
  port?: number;
  /** controller port; default: the one recorded in `dir`, else a free port */
  controllerPort?: number;
  /** broker folder (config, data, pid, log); default `<cache>/kafka/broker-<port>` */
  dir?: string;
  /** Kafka version; default `TRIBUTARY_KAFKA_VERSION` or {@link DEFAULT_KAFKA_VERSION} */
  version?: string;
  /** JVM heap, default `512m` */
  heap?: string;
  /**
   * Run the JVM in its own process group so it outlives this process (the CLI's `start`). Default false: the
   * broker is a child that is killed when this process exits.
   */
  detached?: boolean;
  /** how long to wait for the broker to answer metadata, default 90 s */
  startTimeoutMs?: number;
  /** extra `server.properties` lines (key → value) */
  properties?: Record<string, string | number | boolean>;
  logger?: Logger;
}

/** A running broker started by {@link startBroker}. */
export interface BrokerHandle {
  /** `127.0.0.1:<port>` */
  readonly bootstrap: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
  /** JVM process id of the current incarnation */
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 20 s; resolves when the process is gone. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash, for chaos tests); resolves when the process is gone. */
  kill(): Promise<void>;
  /** starts the broker again on the same port, controller port and data; stops it first if running */
  restart(): Promise<void>;
}

/** Folder of this repository (the one holding Tributary's package.json). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'tributary') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return process.cwd();
}

/** Cache root: `$TRIBUTARY_CACHE` or `<repo>/.cache`. */
export function cacheRoot(): string {
  return process.env.TRIBUTARY_CACHE ? path.resolve(process.env.TRIBUTARY_CACHE) : path.join(repoRoot(), '.cache');
}

export function kafkaVersion(v?: string): string {
  return v ?? process.env.TRIBUTARY_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
}

/** Why a local broker cannot be run here (no `java` or `mvn` on PATH), or undefined when it can. */
export function brokerUnavailableReason(version?: string): string | undefined {
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0) return 'no Java runtime (java) on PATH to run a Kafka broker';
  if (existsSync(path.join(libsDir(kafkaVersion(version)), '.complete'))) return undefined;
  const mvn = spawnSync('mvn', ['-v'], { stdio: 'ignore' });
  if (mvn.error || mvn.status !== 0) return 'no Maven (mvn) on PATH to fetch Apache Kafka, and no cached copy';
  return undefined;
}

export function libsDir(version: string): string {
  return path.join(cacheRoot(), 'kafka', version, 'libs');
}

function pomFor(version: string): string {
  const dep = (g: string, a: string, v: string) => `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tributary</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${dep('org.apache.kafka', 'kafka_2.13', version)}
${dep('org.apache.kafka', 'kafka-tools', version)}
${dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
  </dependencies>
</project>
`;
}

/**
 * Returns the folder of Kafka's jars for `version`, resolving them from Maven Central the first time.
 * Safe against concurrent callers: each resolves into its own temporary folder and renames it into place.
 */
export async function ensureKafkaLibs(opts: { version?: string; logger?: Logger } = {}): Promise<string> {
  const version = kafkaVersion(opts.version);
  const libs = libsDir(version);
  if (existsSync(path.join(libs, '.complete'))) return libs;
  const base = path.dirname(libs);
  mkdirSync(base, { recursive: true });
  const work = path.join(base, `resolve-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(work, { recursive: true });
  writeFileSync(path.join(work, 'pom.xml'), pomFor(version));
  opts.logger?.info('resolving Apache Kafka from Maven Central (first time only)', { version, into: libs });
  const out = path.join(work, 'libs');
  const { code, output } = await run('mvn', ['-B', '-q', '-f', path.join(work, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${out}`, '-DincludeScope=runtime'], work);
  if (code !== 0 || !existsSync(path.join(out, `kafka_2.13-${version}.jar`))) {
    rmSync(work, { recursive: true, force: true });
    throw new TributaryError('platform.connection', `Could not resolve Apache Kafka ${version} with Maven (exit ${code})`, {
      hint: 'check that Maven Central is reachable and that the version exists (TRIBUTARY_KAFKA_VERSION)',
      details: output.slice(-4000),
    });
  }
  writeFileSync(path.join(out, '.complete'), `${new Date().toISOString()}\n`);
  try {
    renameSync(out, libs);
  } catch (e) {
    if (!existsSync(path.join(libs, '.complete'))) {
      rmSync(libs, { recursive: true, force: true });
      renameSync(out, libs);
    }
  }
  rmSync(work, { recursive: true, force: true });
  return libs;
}

/** Runs a command to its end; resolves with its exit code (-1 when it could not start) and its output. */
export function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('error', (e) => resolve({ code: -1, output: String(e) }));
    p.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function portAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Asks a broker for cluster metadata (Metadata v4, no topics) over a raw connection and returns how many live
 * brokers it reports; rejects on any failure. Used to tell "port open" from "broker ready".
 */
export function metadataBrokerCount(port: number, host = '127.0.0.1', timeoutMs = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from('tributary-probe');
    // header v1: api_key=3 (Metadata), api_version=4, correlation_id, client_id; body: topics=[] , allow_auto=false
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
    let o = 0;
    o = body.writeInt16BE(3, o);
    o = body.writeInt16BE(4, o);
    o = body.writeInt32BE(7, o);
    o = body.writeInt16BE(clientId.length, o);
    o += clientId.copy(body, o);
    o = body.writeInt32BE(0, o);
    body.writeInt8(0, o);
    const frame = Buffer.concat([Buffer.alloc(4), body]);
    frame.writeInt32BE(body.length, 0);
    const s = net.connect({ port, host });
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, n?: number) => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(n!);
    };
    const timer = setTimeout(() => done(new Error('metadata request timed out')), timeoutMs);
    s.on('connect', () => s.write(frame));
    s.on('error', (e) => done(e));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4) return;
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) return;
      // response header v0: correlation_id; body v4: throttle_time_ms, brokers[]
      if (buf.readInt32BE(4) !== 7) return done(new Error('unexpected correlation id'));
      done(null, buf.readInt32BE(12));
    });
    s.on('close', () => done(new Error('connection closed before a metadata response')));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is a Kafka JVM (guards against pid reuse after a crash). */
function isKafkaProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
  } catch {
    return pidAlive(pid);
  }
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function defaultDir(port: number): string {
  return path.join(cacheRoot(), 'kafka', `broker-${port}`);
}

/** Reads `key=value` lines. */
function readProperties(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const i = t.indexOf('=');
    if (i > 0) out[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return out;
}

function serverProperties(dir: string, port: number, controllerPort: number, extra: Record<string, string | number | boolean> = {}): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': path.join(dir, 'data'),
    'num.partitions': 1,
    'default.replication.factor': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'min.insync.replicas': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': false,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'log.segment.bytes': 268435456,
    'log.retention.check.interval.ms': 300000,
    ...extra,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';
}

const LOG4J2 = `status = warn
appender.file.type = Console
appender.file.name = STDOUT
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.coord.name = org.apache.kafka.coordinator
logger.coord.level = WARN
`;

/** Java command line for a class from Kafka's jars (the broker, StorageTool, or a tool such as ProducerPerformance). */
export function javaArgs(libs: string, mainClass: string, args: string[], opts: { heap?: string; log4j?: string } = {}): string[] {
  const out = [`-Xmx${opts.heap ?? '512m'}`, `-Xms${opts.heap ?? '512m'}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true'];
  if (opts.log4j) out.push(`-Dlog4j2.configurationFile=${opts.log4j}`);
  out.push('-cp', path.join(libs, '*'), mainClass, ...args);
  return out;
}

/** Pid recorded in a broker folder, if that process is still a running Kafka broker. */
export function runningPid(dir: string): number | undefined {
  const pf = path.join(dir, 'broker.pid');
  if (!existsSync(pf)) return undefined;
  const pid = Number(readFileSync(pf, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return pidAlive(pid) && isKafkaProcess(pid) ? pid : undefined;
}

/**
 * Starts (or restarts) a single-node KRaft broker and resolves once it answers metadata.
 *
 * The first call for a folder formats its storage with a new cluster id; later calls reuse the folder's
 * `server.properties` (same ports) and data. Throws TributaryError `platform.connection` when the broker does
 * not come up (the last lines of `broker.log` are in `details`).
 */
export async function startBroker(opts: BrokerOptions = {}): Promise<BrokerHandle> {
  const version = kafkaVersion(opts.version);
  const log = opts.logger;
  let port = opts.port ?? 9092;
  if (port === 0) port = await freePort();
  const dir = path.resolve(opts.dir ?? defaultDir(port));
  mkdirSync(dir, { recursive: true });
  const libs = await ensureKafkaLibs({ version, logger: log });
  const propsFile = path.join(dir, 'server.properties');
  const existing = readProperties(propsFile);
  const existingListeners = existing['listeners'] ?? '';
  const recordedController = /CONTROLLER:\/\/[^:]+:(\d+)/.exec(existingListeners)?.[1];
  const controllerPort = opts.controllerPort ?? (recordedController ? Number(recordedController) : await freePort());
  writeFileSync(propsFile, serverProperties(dir, port, controllerPort, opts.properties));
  const log4j = path.join(dir, 'log4j2.properties');
  writeFileSync(log4j, LOG4J2);
  const heap = opts.heap ?? '512m';

  if (!existsSync(path.join(dir, 'data', 'meta.properties'))) {
    const clusterId = randomBytes(16).toString('base64url').replace(/^[-_]/, 'A');
    const fmt = await run('java', javaArgs(libs, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', propsFile, '--ignore-formatted'], { heap: '256m', log4j }), dir);
    if (fmt.code !== 0) {
      throw new TributaryError('platform.connection', `Could not format Kafka storage in ${dir} (exit ${fmt.code})`, { details: fmt.output.slice(-4000) });
    }
  }

  let pid = 0;
  let exited: Promise<void> = Promise.resolve();
  const launch = async (): Promise<void> => {
    const already = runningPid(dir);
    if (already) throw new TributaryError('platform.connection', `A Kafka broker is already running from ${dir} (pid ${already})`, { hint: 'stop it first' });
    if (await portAccepts(port)) {
      throw new TributaryError('platform.connection', `Port ${port} is already in use on 127.0.0.1`, { hint: 'choose another port with --port' });
    }
    const logFile = path.join(dir, 'broker.log');
    const fd = openSync(logFile, 'a');
    const child = spawn('java', javaArgs(libs, 'kafka.Kafka', [propsFile], { heap, log4j }), {
      cwd: dir,
      detached: opts.detached ?? false,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    pid = child.pid ?? 0;
    if (!pid) throw new TributaryError('platform.connection', 'Could not start java for the Kafka broker');
    writeFileSync(path.join(dir, 'broker.pid'), `${pid}\n`);
    let gone = false;
    exited = new Promise((resolve) => child.once('exit', () => ((gone = true), resolve())));
    // never keep this process alive for the broker; a non-detached broker is killed when this process exits
    child.unref();
    if (!opts.detached) trackChild(pid);
    log?.info('starting Kafka broker', { version, port, controllerPort, dir, pid });
    const ready = await waitFor(
      async () => gone || ((await portAccepts(port)) && (await metadataBrokerCount(port).then((n) => n > 0, () => false))),
      opts.startTimeoutMs ?? 90_000,
      200,
    );
    if (!ready || gone) {
      if (!gone) await signalAndWait(pid, 'SIGKILL', 10_000);
      throw new TributaryError('platform.connection', `Kafka broker did not become ready on port ${port}${gone ? ' (the JVM exited)' : ''}`, {
        hint: `see ${logFile}`,
        details: tail(logFile, 40),
      });
    }
    log?.info('Kafka broker ready', { bootstrap: `127.0.0.1:${port}`, pid });
  };

  const terminate = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    if (!pid || !pidAlive(pid)) return;
    if (signal === 'SIGTERM') {
      if (!(await signalAndWait(pid, 'SIGTERM', 20_000))) await signalAndWait(pid, 'SIGKILL', 10_000);
    } else {
      await signalAndWait(pid, 'SIGKILL', 10_000);
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
    untrackChild(pid);
    rmSync(path.join(dir, 'broker.pid'), { force: true });
  };

  await launch();
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    controllerPort,
    dir,
    get pid() {
      return pid;
    },
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
  };
}

/** Sends `signal` and waits up to `timeoutMs` for the process to go; true when it is gone. */
async function signalAndWait(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch {
    return true;
  }
  return waitFor(() => !pidAlive(pid) || isZombie(pid), timeoutMs, 100);
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// Non-detached brokers (and other JVMs started with trackChild) die with this process, even on an uncaught
// exception or process.exit().
const children = new Set<number>();
let exitHookInstalled = false;
/** SIGKILLs `pid` when this process exits, unless {@link untrackChild} was called first. */
export function trackChild(pid: number): void {
  children.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of children) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}
export function untrackChild(pid: number): void {
  children.delete(pid);
}

/** State of the broker recorded in a folder. */
export interface BrokerStatus {
  running: boolean;
  pid?: number;
  port?: number;
  dir: string;
  /** broker answered metadata */
  ready?: boolean;
}

/** Reports whether the broker recorded in `dir` runs and answers. */
export async function brokerStatus(dir: string): Promise<BrokerStatus> {
  const props = readProperties(path.join(dir, 'server.properties'));
  const port = Number(/PLAINTEXT:\/\/[^:]+:(\d+)/.exec(props['listeners'] ?? '')?.[1]) || undefined;
  const pid = runningPid(dir);
  if (!pid) return { running: false, port, dir };
  const ready = port ? await metadataBrokerCount(port).then((n) => n > 0, () => false) : false;
  return { running: true, pid, port, dir, ready };
}

/** Stops the broker recorded in `dir` (SIGTERM, then SIGKILL after `graceMs`). Returns false if none ran. */
export async function stopBrokerAt(dir: string, graceMs = 20_000): Promise<boolean> {
  const pid = runningPid(dir);
  if (!pid) {
    rmSync(path.join(dir, 'broker.pid'), { force: true });
    return false;
  }
  if (!(await signalAndWait(pid, 'SIGTERM', graceMs))) await signalAndWait(pid, 'SIGKILL', 10_000);
  rmSync(path.join(dir, 'broker.pid'), { force: true });
  return true;
}

/** Default broker folder for a port (what the CLI uses without `--dir`). */
export function brokerDirFor(port: number): string {
  return defaultDir(port);
}

/** Lists broker folders under the cache (for `status` without arguments). */
export function knownBrokerDirs(): string[] {
  const base = path.join(cacheRoot(), 'kafka');
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((n) => n.startsWith('broker-'))
    .map((n) => path.join(base, n))
    .filter((d) => statSync(d).isDirectory());
}

/** Temporary folder for a throwaway broker (tests). */
export function tempBrokerDir(): string {
  return path.join(os.tmpdir(), `tributary-kafka-${process.pid}-${randomBytes(4).toString('hex')}`);
}
