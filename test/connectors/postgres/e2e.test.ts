/**
 * End to end through the worker: a Debezium-style CREATE SOURCE CONNECTOR statement, the task runner, the
 * JsonConverter and the platform — the embedded log and a real Kafka broker (read back from Kafka itself) — on
 * embedded PostgreSQL 18 and on the machine's PostgreSQL 15.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '@platformatic/kafka';
import { startTestApp, waitFor, type TestApp } from '../../helpers/app.js';
import { embeddedPg18, localPg15, stopFixture, rnd, cleanupSlot, type PgServer } from './pg-fixture.js';
import { getKafka, type KafkaFixture } from '../kafka/broker-fixture.js';
import { createKafkaPlatform } from '../../../src/connectors/kafka/platform.js';
import { createLogger } from '../../../src/runtime/logger.js';
import type { StoredRecord } from '../../../src/sdk/record.js';

/** the Kafka fixture, asked for only when a Kafka test runs (so the embedded-log tests never wait for a broker) */
let kafkaFixture: Promise<KafkaFixture> | undefined;
const kafka = (): Promise<KafkaFixture> => (kafkaFixture ??= getKafka());

after(async () => {
  await stopFixture();
  // a broker this process started (none when KAFKA_BOOTSTRAP_SERVERS names one)
  const k = await kafkaFixture?.catch(() => undefined);
  await k?.broker?.stop();
});

/** Where the connector writes, and how the test reads the records back. */
interface Sink {
  name: string;
  /** undefined to run, else the reason to skip (throws instead when REQUIRE_KAFKA=1 and no broker is available) */
  unavailable(): Promise<string | undefined>;
  start(): Promise<TestApp>;
  /**
   * The records of a topic, in offset order per partition, once it holds at least `n` (what it holds when
   * `timeoutMs` passes, so the assertions show what differs).
   */
  read(app: TestApp, topic: string, n: number, timeoutMs: number): Promise<StoredRecord[]>;
  /** removes the topics of `prefix` */
  dropTopics(prefix: string): Promise<void>;
}

const embeddedLog: Sink = {
  name: 'the embedded log',
  async unavailable() {
    return undefined;
  },
  start: () => startTestApp(),
  async read(app, topic, n, timeoutMs) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const recs = await app.records(topic);
      if (recs.length >= n || Date.now() >= end) return recs;
      await new Promise((r) => setTimeout(r, 100));
    }
  },
  async dropTopics() {
    // the log lives in the app's data dir, removed by dispose()
  },
};

/** once `n` records are in, a read of Kafka goes on this long, so records beyond the expected ones show */
const KAFKA_GRACE_MS = 750;

const kafkaSink: Sink = {
  name: 'Kafka',
  async unavailable() {
    const k = await kafka();
    return k.bootstrap ? undefined : k.reason;
  },
  async start() {
    const { bootstrap } = await kafka();
    // one partition per topic, as the scenario checks the order within a topic
    const platform = createKafkaPlatform({ 'bootstrap.servers': bootstrap!, 'topic.creation.default.partitions': '1' }, createLogger({ test: 'pg-e2e' }));
    return startTestApp({ platform });
  },
  async read(_app, topic, n, timeoutMs) {
    // a fresh client reading from the broker, not the worker's platform
    const reader = createKafkaPlatform({ 'bootstrap.servers': (await kafka()).bootstrap! }, createLogger({ test: 'pg-e2e-reader' }));
    const out: StoredRecord[] = [];
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    let grace: NodeJS.Timeout | undefined;
    try {
      // the topic appears when the connector first writes to it
      while (!ac.signal.aborted && !(await reader.listTopics()).some((t) => t.name === topic)) await new Promise((r) => setTimeout(r, 200));
      if (!ac.signal.aborted) {
        await reader.read(topic, {
          fromBeginning: true,
          signal: ac.signal,
          onRecord: (r) => {
            out.push(r);
            if (out.length >= n) grace ??= setTimeout(() => ac.abort(), KAFKA_GRACE_MS);
          },
        });
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(grace);
      await reader.close();
    }
    return out.sort((x, y) => x.partition - y.partition || Number(x.offset) - Number(y.offset));
  },
  async dropTopics(prefix) {
    const admin = new Admin({ clientId: 'pg-e2e-admin', bootstrapBrokers: (await kafka()).bootstrap!.split(',') });
    try {
      const topics = (await admin.listTopics()).filter((t) => t === prefix || t.startsWith(prefix + '.'));
      if (topics.length) await admin.deleteTopics({ topics });
    } finally {
      await admin.close();
    }
  },
};

interface Env {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  op: string;
  source: Record<string, any>;
  ts_ms: number;
}

/** base64 of a Decimal's unscaled two's-complement bytes, as Kafka's JsonConverter writes it */
function dec(unscaled: bigint): string {
  let hex = unscaled.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (parseInt(hex[0]!, 16) >= 8) hex = '00' + hex;
  return Buffer.from(hex, 'hex').toString('base64');
}

function lsnText(n: number): string {
  return `${Math.floor(n / 2 ** 32).toString(16)}/${(n % 2 ** 32).toString(16)}`;
}

async function scenario(s: PgServer, sink: Sink): Promise<void> {
  const [a, b] = [rnd('a'), rnd('b')];
  const slot = rnd('slot');
  const pub = rnd('pub');
  const prefix = rnd('srv');
  const name = rnd('CDC').toUpperCase();
  const c = await s.client();
  let app: TestApp | null = null;
  try {
    await c.query(`
      CREATE TABLE ${a} (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), at timestamptz);
      CREATE TABLE ${b} (k text PRIMARY KEY, v int);
      INSERT INTO ${a} VALUES (1, 'one', 1.50, '2024-01-02 03:04:05.5+00'), (2, 'two', 2.00, NULL);
      INSERT INTO ${b} VALUES ('x', 10);`);
    app = await sink.start();
    const created = await app.sql(`CREATE SOURCE CONNECTOR ${name} WITH (
      'connector.class' = 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname' = '${s.host}',
      'database.port' = '${s.port}',
      'database.user' = '${s.user}',
      'database.password' = '${s.password}',
      'database.dbname' = '${s.database}',
      'topic.prefix' = '${prefix}',
      'table.include.list' = 'public.${a},public.${b}',
      'slot.name' = '${slot}',
      'publication.name' = '${pub}',
      'publication.autocreate.mode' = 'filtered',
      'skipped.operations' = 'none',
      'status.update.interval.ms' = '200',
      'offset.flush.interval.ms' = '100'
    );`);
    assert.ok(created.length >= 1);
    const ta = `${prefix}.public.${a}`;
    const tb = `${prefix}.public.${b}`;

    const json = (r: StoredRecord) => (r.value ? JSON.parse(r.value.toString('utf8')) : null);
    const [snapA, snapB] = await Promise.all([sink.read(app, ta, 2, 30_000), sink.read(app, tb, 1, 30_000)]);
    const snap = { va: snapA.map(json), vb: snapB.map(json) };
    const rows = [...snap.va, ...snap.vb].map((v) => v.payload as Env);
    assert.deepEqual(rows.map((r) => r.op), ['r', 'r', 'r']);
    const first = snap.va[0];
    assert.equal(first.schema.name, `${prefix}.public.${a}.Envelope`);
    assert.deepEqual(first.schema.fields.map((f: { field: string }) => f.field), ['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns']);
    assert.deepEqual(first.payload.after, { id: 1, name: 'one', price: dec(150n), at: '2024-01-02T03:04:05.500000Z' });
    assert.equal(first.payload.source.connector, 'postgresql');
    assert.equal(first.payload.source.db, s.database);
    assert.ok(['first', 'true', 'last', 'first_in_data_collection', 'last_in_data_collection'].includes(first.payload.source.snapshot));
    assert.equal(rows.filter((r) => r.source.snapshot === 'last').length, 1, 'exactly one last snapshot record');
    // keys through the JsonConverter
    const keyA = snapA[0]!.key!.toString();
    assert.deepEqual(JSON.parse(keyA).payload, { id: 1 });
    assert.equal(JSON.parse(keyA).schema.name, `${prefix}.public.${a}.Key`);

    // the stream: changes on both tables, in a known commit order
    await c.query(`INSERT INTO ${a} VALUES (3, 'three', 3.25, NULL)`);
    await c.query(`BEGIN; UPDATE ${a} SET name = 'uno' WHERE id = 1; INSERT INTO ${b} VALUES ('y', 20); COMMIT;`);
    await c.query(`UPDATE ${b} SET v = 11 WHERE k = 'x'`);
    await c.query(`DELETE FROM ${a} WHERE id = 2`);
    await c.query(`BEGIN; INSERT INTO ${b} VALUES ('z', 30); UPDATE ${a} SET price = 9.99 WHERE id = 3; COMMIT;`);
    await c.query(`TRUNCATE ${b}`);
    await c.query(`INSERT INTO ${b} VALUES ('after', 1)`);
    await c.query(`UPDATE ${a} SET id = 4 WHERE id = 3`);

    const expected = [
      `${a}:c:{"id":3,"name":"three","price":"${dec(325n)}","at":null}`,
      `${a}:u:{"id":1,"name":"uno","price":"${dec(150n)}","at":"2024-01-02T03:04:05.500000Z"}`,
      `${b}:c:{"k":"y","v":20}`,
      `${b}:u:{"k":"x","v":11}`,
      `${a}:d:{"id":2,"name":"","price":null,"at":null}`,
      `${a}:tombstone`,
      `${b}:c:{"k":"z","v":30}`,
      `${a}:u:{"id":3,"name":"three","price":"${dec(999n)}","at":null}`,
      `${b}:t:null`,
      `${b}:c:{"k":"after","v":1}`,
      `${a}:d:{"id":3,"name":"","price":null,"at":null}`,
      `${a}:tombstone`,
      `${a}:c:{"id":4,"name":"three","price":"${dec(999n)}","at":null}`,
    ];
    type Ev = { desc: string; lsn: number; txId: number | null; idx: number; payload: Env | null };
    // all the records of each topic: its snapshot records and its share of the expected changes
    const count = (table: string, snapshot: number) => snapshot + expected.filter((e) => e.startsWith(`${table}:`)).length;
    const [allA, allB] = await Promise.all([sink.read(app, ta, count(a, 2), 30_000), sink.read(app, tb, count(b, 1), 30_000)]);
    const streamed = (): Ev[] => {
      const out: Ev[] = [];
      for (const [recs, table] of [[allA, a], [allB, b]] as const) {
        let lastLsn = 0;
        let txId: number | null = null;
        recs.forEach((r, i) => {
          const v = r.value ? JSON.parse(r.value.toString()).payload as Env : null;
          if (v && v.op === 'r') return;
          // a tombstone sits right after its delete: same position
          const lsn = v ? Number(v.source.lsn) : lastLsn;
          if (v) txId = v.source.txId;
          const desc = v ? `${table}:${v.op}:${JSON.stringify(v.after ?? v.before ?? null)}` : `${table}:tombstone`;
          out.push({ desc, lsn, txId, idx: i, payload: v });
          if (v) lastLsn = lsn;
        });
      }
      // commit order across the two topics: by LSN (transactions here do not overlap)
      return out.sort((x, y) => x.lsn - y.lsn || x.idx - y.idx);
    };
    const evs = streamed();
    assert.deepEqual(evs.map((e) => e.desc), expected);
    for (const e of evs) {
      if (!e.payload) continue;
      assert.equal(e.payload.source.snapshot, 'false');
      assert.equal(typeof e.payload.source.txId, 'number');
      assert.match(String(e.payload.source.sequence), /^\[("\d+"|null),"\d+"\]$/);
      assert.ok(e.payload.ts_ms >= e.payload.source.ts_ms);
    }
    // the two changes of one transaction share its txId
    assert.equal(evs[1]!.payload!.source.txId, evs[2]!.payload!.source.txId);
    assert.notEqual(evs[0]!.payload!.source.txId, evs[1]!.payload!.source.txId);

    // the slot advances past the last acknowledged change
    const lastLsn = lsnText(Math.max(...evs.map((e) => Math.floor(e.lsn))));
    await waitFor(async () => {
      const r = await c.query(`SELECT confirmed_flush_lsn >= $2::pg_lsn AS caught FROM pg_replication_slots WHERE slot_name = $1`, [slot, lastLsn]);
      return r.rows[0]?.caught ? true : null;
    }, 'slot flush position', 10_000);
    const details = app.worker.details(name) as unknown as { tasks: Array<{ source: Record<string, unknown> }> };
    assert.equal(details.tasks[0]!.source.phase, 'streaming');

    await app.sql(`DROP CONNECTOR ${name};`);
  } finally {
    await app?.dispose();
    await cleanupSlot(s, slot, pub).catch(() => undefined);
    await c.query(`DROP TABLE IF EXISTS ${a}, ${b}`).catch(() => undefined);
    await c.end();
    await sink.dropTopics(prefix).catch(() => undefined);
  }
}

for (const sink of [embeddedLog, kafkaSink]) {
  test(`CREATE SOURCE CONNECTOR (Debezium keys) on embedded PostgreSQL 18: snapshot, then c/u/d/t of two tables in commit order into ${sink.name}`, async (t) => {
    const skip = await sink.unavailable();
    if (skip) return t.skip(skip);
    await scenario(await embeddedPg18(), sink);
  });

  test(`the same statement on the machine PostgreSQL 15 (pgoutput protocol 3) into ${sink.name}`, async (t) => {
    const local = await localPg15();
    if (typeof local === 'string') return t.skip(local);
    const skip = await sink.unavailable();
    if (skip) return t.skip(skip);
    await scenario(local, sink);
  });
}
