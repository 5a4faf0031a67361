/**
 * The systems under comparison, each a separate OS process whose RSS and CPU are read from /proc the same way:
 *  - Tributary: a `tributary server` process (node with the flags bin/tributary.js uses) writing to Kafka, its
 *    PostgreSQL connector created through the Kafka Connect REST API;
 *  - Kafka Connect standalone + Debezium's PostgreSQL connector, at Debezium's defaults or at the tuned setting of
 *    ../shared/reference/performance.md (the Conduit harness's).
 *
 * Fairness (performance.md): the same envelope (Debezium's, JSON with schemas.enable=false for key and value),
 * acks=all with idempotence, the same compression for everybody, one partition per topic.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDebezium, type PgConnection } from '../debezium/connect.js';
import { startServer } from '../pg-cdc.js';

export type SystemId = 'tributary' | 'debezium-default' | 'debezium-tuned';

export const SYSTEMS: SystemId[] = ['tributary', 'debezium-default', 'debezium-tuned'];

/** what one run streams: a slot, a publication, a topic prefix, a snapshot mode */
export interface Source {
  pg: PgConnection;
  slot: string;
  publication: string;
  /** topic prefix; the topic is `<prefix>.public.<table>` */
  prefix: string;
  snapshotMode: 'no_data' | 'initial_only';
}

export interface RunningSystem {
  id: SystemId;
  pid: number;
  /** a failure trace when the connector or its task failed */
  failure(): Promise<string | undefined>;
  stop(): Promise<void>;
  log(): string;
}

/** The tuned Debezium setting (performance.md): queue and batch sizes, poll interval, producer batching. */
export const DEBEZIUM_TUNED = {
  connector: { 'max.batch.size': 20000, 'max.queue.size': 100000, 'poll.interval.ms': 100 },
  producer: { 'producer.batch.size': 1000000, 'producer.linger.ms': 50 },
};

export interface StartOptions {
  bootstrap: string;
  compression: string;
  /** JVM max heap of the Connect worker */
  heap: string;
}

export async function startSystem(id: SystemId, src: Source, o: StartOptions): Promise<RunningSystem> {
  return id === 'tributary' ? startTributary(src, o) : startConnect(id, src, o);
}

async function startTributary(src: Source, o: StartOptions): Promise<RunningSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-compare-'));
  // the server process takes its platform from the environment it inherits
  const saved = process.env.KAFKA_BOOTSTRAP_SERVERS;
  process.env.KAFKA_BOOTSTRAP_SERVERS = o.bootstrap;
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(dir);
  } finally {
    if (saved === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS;
    else process.env.KAFKA_BOOTSTRAP_SERVERS = saved;
  }
  const name = 'compare';
  const stop = async () => {
    await server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  const res = await fetch(`${server.url}/connectors`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name,
      config: {
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        'database.hostname': src.pg.host, 'database.port': String(src.pg.port), 'database.user': src.pg.user,
        'database.password': src.pg.password ?? '', 'database.dbname': src.pg.dbname,
        'topic.prefix': src.prefix, 'slot.name': src.slot, 'publication.name': src.publication, 'publication.autocreate.mode': 'disabled',
        'snapshot.mode': src.snapshotMode,
        'key.converter.schemas.enable': 'false', 'value.converter.schemas.enable': 'false',
        ...(o.compression !== 'none' ? { 'producer.override.compression.type': o.compression } : {}),
        // experiments: BENCH_TRIBUTARY_CONFIG='{"producer.override.batch.size":"1048576"}'
        ...(process.env.BENCH_TRIBUTARY_CONFIG ? (JSON.parse(process.env.BENCH_TRIBUTARY_CONFIG) as Record<string, string>) : {}),
      },
    }),
  });
  if (res.status !== 201) {
    const text = await res.text();
    await stop();
    throw new Error(`creating the Tributary connector: HTTP ${res.status} ${text}`);
  }
  return {
    id: 'tributary',
    pid: server.child.pid!,
    async failure() {
      if (server.child.exitCode !== null || server.child.signalCode !== null) return `tributary server exited: ${server.output().slice(-3000)}`;
      const st = await fetch(`${server.url}/connectors/${name}/status`).then((r) => r.json() as Promise<{ connector: { state: string; trace?: string }; tasks: Array<{ state: string; trace?: string }> }>).catch(() => null);
      if (!st) return undefined;
      if (st.connector.state === 'FAILED') return st.connector.trace ?? 'connector FAILED';
      return st.tasks.find((t) => t.state === 'FAILED')?.trace;
    },
    stop,
    log: () => server.output().slice(-3000),
  };
}

async function startConnect(id: SystemId, src: Source, o: StartOptions): Promise<RunningSystem> {
  const tuned = id === 'debezium-tuned';
  const h = await startDebezium({
    bootstrap: o.bootstrap,
    pg: src.pg,
    heap: o.heap,
    connectorConfig: {
      'topic.prefix': src.prefix, 'slot.name': src.slot, 'publication.name': src.publication, 'publication.autocreate.mode': 'disabled',
      'snapshot.mode': src.snapshotMode,
      ...(tuned ? DEBEZIUM_TUNED.connector : {}),
    },
    workerOverrides: {
      'key.converter.schemas.enable': false,
      'value.converter.schemas.enable': false,
      'producer.acks': 'all',
      'producer.enable.idempotence': true,
      'producer.compression.type': o.compression,
      ...(tuned ? DEBEZIUM_TUNED.producer : {}),
    },
  });
  return {
    id,
    pid: h.pid,
    async failure() {
      const st = await h.status().catch(() => null);
      if (!st) return undefined;
      if (st.connector.state === 'FAILED') return st.connector.trace ?? 'connector FAILED';
      return st.tasks.find((t) => t.state === 'FAILED')?.trace;
    },
    stop: () => h.stop({ graceMs: 10_000 }),
    log: () => h.logTail(40),
  };
}
