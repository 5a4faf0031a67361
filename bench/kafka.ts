/**
 * Kafka produce benchmark: N events of `recordSize` bytes written through Tributary's Kafka platform with each client
 * library, beside Apache Kafka's own `org.apache.kafka.tools.ProducerPerformance` with the same settings (acks=all,
 * idempotence, record size, compression, batch.size, linger.ms), in the same run against the same broker.
 *
 *   node dist/bench/kafka.js [--records 1000000] [--size 200] [--partitions 1] [--compression none]
 *                            [--batch-size 262144] [--linger-ms 5] [--clients tributary,platformatic,kafkajs] [--bootstrap h:p]
 *
 * Prints a table and one JSON line. A ratio, not an absolute figure, is the result: the machine (2 cores) is shared
 * by the broker, the tool and the producer.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Admin } from '@platformatic/kafka';
import type { KafkaClientName } from '../src/connectors/kafka/config.js';
import { ensureKafkaLibs, javaArgs, startBroker, tempBrokerDir, type BrokerHandle } from '../src/connectors/kafka/broker.js';
import { createKafkaPlatform } from '../src/connectors/kafka/platform.js';
import { createLogger, setLogLevel } from '../src/runtime/logger.js';
import type { PlatformRecord } from '../src/sdk/record.js';

export interface KafkaBenchOptions {
  records?: number;
  recordSize?: number;
  partitions?: number;
  compression?: string;
  batchSize?: number;
  lingerMs?: number;
  /** client libraries to run through the platform, in order */
  clients?: KafkaClientName[];
  /** records per `send` call, and how many calls are in flight */
  sendChunk?: number;
  sendsInFlight?: number;
  /** existing cluster; default: start a broker for the run */
  bootstrap?: string;
  /** skip ProducerPerformance */
  noTool?: boolean;
  log?: (line: string) => void;
}

export interface KafkaBenchRow {
  name: string;
  records: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** rate divided by ProducerPerformance's rate in the same run */
  ratioToTool?: number;
  /** CPU seconds of this Node.js process during the run (platform rows) */
  cpuSeconds?: number;
  error?: string;
}

export interface KafkaBenchResult {
  settings: Required<Omit<KafkaBenchOptions, 'bootstrap' | 'log' | 'noTool'>> & { kafkaVersion: string; node: string; cores: number };
  rows: KafkaBenchRow[];
}

async function createTopic(bootstrap: string, partitions: number): Promise<string> {
  const topic = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: bootstrap.split(',') });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    for (let i = 0; i < 50; i++) {
      const md = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
      if (md?.topics.get(topic)?.partitions.every((p) => p.leader >= 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.close();
  }
  return topic;
}

async function deleteTopics(bootstrap: string, topics: string[]): Promise<void> {
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: bootstrap.split(',') });
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.close();
}

/** Runs ProducerPerformance and parses its summary line. */
async function runTool(libs: string, bootstrap: string, topic: string, o: Required<KafkaBenchOptions>): Promise<KafkaBenchRow> {
  const props = [
    `bootstrap.servers=${bootstrap}`,
    'acks=all',
    'enable.idempotence=true',
    `compression.type=${o.compression}`,
    `batch.size=${o.batchSize}`,
    `linger.ms=${o.lingerMs}`,
  ];
  const args = javaArgs(libs, 'org.apache.kafka.tools.ProducerPerformance', ['--topic', topic, '--num-records', String(o.records), '--record-size', String(o.recordSize), '--throughput', '-1', '--producer-props', ...props], { heap: '512m' });
  const t0 = performance.now();
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (c) => resolve({ code: c, out }));
  });
  const wall = (performance.now() - t0) / 1000;
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)[^\n]*50th/.exec(out);
  if (code !== 0 || !m) return { name: 'kafka ProducerPerformance (Java)', records: o.records, seconds: wall, recordsPerSec: 0, mbPerSec: 0, error: out.slice(-800) };
  const rate = Number(m[2]);
  return { name: 'kafka ProducerPerformance (Java)', records: Number(m[1]), seconds: Number(m[1]) / rate, recordsPerSec: rate, mbPerSec: (rate * o.recordSize) / 1e6 };
}

/** Writes the records through Tributary's Kafka platform with one client library. */
async function runPlatform(client: KafkaClientName, bootstrap: string, topic: string, o: Required<KafkaBenchOptions>): Promise<KafkaBenchRow> {
  const name = `tributary kafka platform (${{ tributary: 'own record batches', platformatic: '@platformatic/kafka producer', kafkajs: 'kafkajs' }[client]})`;
  let platform: ReturnType<typeof createKafkaPlatform>;
  try {
    platform = createKafkaPlatform(
      { 'bootstrap.servers': bootstrap, 'kafka.client': client, 'compression.type': o.compression, 'batch.size': o.batchSize, 'linger.ms': o.lingerMs, 'auto.create': false },
      createLogger({ bench: client }),
    );
  } catch (e) {
    return { name, records: 0, seconds: 0, recordsPerSec: 0, mbPerSec: 0, error: (e as Error).message.replace(/\s+/g, ' ') };
  }
  // distinct payloads, made before timing (ProducerPerformance also prepares its payload up front)
  const payloads = Array.from({ length: 1024 }, () => Buffer.from(randomBytes(o.recordSize).toString('base64').slice(0, o.recordSize)));
  let next = 0;
  const makeChunk = (): PlatformRecord[] => {
    const n = Math.min(o.sendChunk, o.records - next);
    const out = new Array<PlatformRecord>(n);
    const ts = Date.now();
    for (let i = 0; i < n; i++) out[i] = { topic, key: null, value: payloads[(next + i) & 1023]!, timestamp: ts };
    next += n;
    return out;
  };
  try {
    await platform.ensureTopic(topic); // metadata warm-up, not timed
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const inflight = new Set<Promise<void>>();
    while (next < o.records) {
      const p = platform.send(makeChunk());
      inflight.add(p);
      void p.finally(() => inflight.delete(p)).catch(() => undefined);
      if (inflight.size >= o.sendsInFlight) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { name, records: o.records, seconds, recordsPerSec: o.records / seconds, mbPerSec: (o.records * o.recordSize) / seconds / 1e6, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } catch (e) {
    return { name, records: next, seconds: 0, recordsPerSec: 0, mbPerSec: 0, error: (e as Error).message };
  } finally {
    await platform.close();
  }
}

/** Runs the benchmark and returns its rows (also printed through `log`). */
export async function runKafkaBench(opts: KafkaBenchOptions = {}): Promise<KafkaBenchResult> {
  const o: Required<KafkaBenchOptions> = {
    records: opts.records ?? 1_000_000,
    recordSize: opts.recordSize ?? 200,
    partitions: opts.partitions ?? 1,
    compression: opts.compression ?? 'none',
    batchSize: opts.batchSize ?? 262144,
    lingerMs: opts.lingerMs ?? 5,
    clients: opts.clients ?? ['tributary', 'platformatic', 'kafkajs'],
    sendChunk: opts.sendChunk ?? 10_000,
    sendsInFlight: opts.sendsInFlight ?? 4,
    bootstrap: opts.bootstrap ?? process.env.KAFKA_BOOTSTRAP_SERVERS ?? '',
    noTool: opts.noTool ?? false,
    log: opts.log ?? ((l) => console.log(l)),
  };
  setLogLevel('warn');
  const libs = await ensureKafkaLibs();
  let broker: BrokerHandle | undefined;
  let dir: string | undefined;
  if (!o.bootstrap) {
    dir = tempBrokerDir();
    o.log(`starting a Kafka broker for the run (${dir}) …`);
    broker = await startBroker({ port: 0, dir, heap: '1g' });
    o.bootstrap = broker.bootstrap;
  }
  const rows: KafkaBenchRow[] = [];
  const topics: string[] = [];
  try {
    if (!o.noTool) {
      const topic = await createTopic(o.bootstrap, o.partitions);
      topics.push(topic);
      o.log(`running ProducerPerformance: ${o.records} × ${o.recordSize} B …`);
      rows.push(await runTool(libs, o.bootstrap, topic, o));
    }
    for (const client of o.clients) {
      const topic = await createTopic(o.bootstrap, o.partitions);
      topics.push(topic);
      o.log(`running Tributary's Kafka platform with ${client}: ${o.records} × ${o.recordSize} B …`);
      rows.push(await runPlatform(client, o.bootstrap, topic, o));
    }
  } finally {
    await deleteTopics(o.bootstrap, topics).catch(() => undefined);
    if (broker) await broker.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  const tool = rows.find((r) => r.name.startsWith('kafka ProducerPerformance') && !r.error);
  if (tool) for (const r of rows) if (!r.error) r.ratioToTool = r.recordsPerSec / tool.recordsPerSec;

  const { kafkaVersion } = await import('../src/connectors/kafka/broker.js');
  const result: KafkaBenchResult = {
    settings: { records: o.records, recordSize: o.recordSize, partitions: o.partitions, compression: o.compression, batchSize: o.batchSize, lingerMs: o.lingerMs, clients: o.clients, sendChunk: o.sendChunk, sendsInFlight: o.sendsInFlight, kafkaVersion: kafkaVersion(), node: process.versions.node, cores: (await import('node:os')).cpus().length },
    rows,
  };
  o.log('');
  o.log(`Kafka produce, ${o.records} records × ${o.recordSize} B, acks=all, idempotence, compression=${o.compression}, batch.size=${o.batchSize}, linger.ms=${o.lingerMs}, ${o.partitions} partition(s); ${result.settings.cores} cores shared by broker and producer`);
  const header = ['producer', 'records/s', 'MB/s', 'seconds', 'ratio to tool', 'node CPU s'];
  const table = rows.map((r) => [r.name, r.error ? 'ERROR' : Math.round(r.recordsPerSec).toLocaleString('en-US'), r.error ? '' : r.mbPerSec.toFixed(1), r.error ? '' : r.seconds.toFixed(2), r.ratioToTool === undefined ? '' : `${(r.ratioToTool * 100).toFixed(0)} %`, r.cpuSeconds === undefined ? '' : r.cpuSeconds.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  o.log(line(header));
  o.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of table) o.log(line(row));
  for (const r of rows) if (r.error) o.log(`${r.name}: ${r.error}`);
  o.log(JSON.stringify(result));
  return result;
}

function parseArgs(argv: string[]): KafkaBenchOptions {
  const o: KafkaBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const v = () => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--records': o.records = Number(v()); break;
      case '--size': case '--record-size': o.recordSize = Number(v()); break;
      case '--partitions': o.partitions = Number(v()); break;
      case '--compression': o.compression = v(); break;
      case '--batch-size': o.batchSize = Number(v()); break;
      case '--linger-ms': o.lingerMs = Number(v()); break;
      case '--clients': o.clients = v().split(',') as KafkaBenchOptions['clients']; break;
      case '--send-chunk': o.sendChunk = Number(v()); break;
      case '--sends-in-flight': o.sendsInFlight = Number(v()); break;
      case '--bootstrap': o.bootstrap = v(); break;
      case '--no-tool': o.noTool = true; break;
      case 'kafka': break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

/** Entry for `bench/main` dispatchers: `runKafkaBenchCli(process.argv.slice(3))`. */
export async function runKafkaBenchCli(argv: string[]): Promise<void> {
  await runKafkaBench(parseArgs(argv));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runKafkaBenchCli(process.argv.slice(2)).then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
