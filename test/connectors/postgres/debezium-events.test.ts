/**
 * Event details where Tributary follows Debezium 3.6.1 byte for byte (docs/debezium-compat.md): headers, the
 * source block, snapshot markers and transaction metadata order. Unit tests first, then the task against the
 * embedded PostgreSQL 18. Value encodings: debezium-values.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { hashMapCapacity, javaHashMapOrder, javaStringHash, SOURCE_SCHEMA } from '../../../src/connectors/postgres/events.js';
import { connectToString, uuidV7 } from '../../../src/connectors/postgres/headers.js';
import type { Schema } from '../../../src/sdk/schema.js';
import type { SourceRecord } from '../../../src/sdk/record.js';
import { embeddedPg18, stopFixture, rnd, baseConfig, Harness, cleanupSlot } from './pg-fixture.js';

after(async () => {
  await stopFixture();
});

// ------------------------------------------------------------------ units

test('END data_collections follow java.util.HashMap iteration order, its table never shrinking within a task run', () => {
  assert.equal(javaStringHash('compat.misc'), 'compat.misc'.split('').reduce((h, c) => (Math.imul(31, h) + c.charCodeAt(0)) | 0, 0));
  // expected orders printed by a JVM (HashMap<String, Long>, keys put in the order given)
  assert.deepEqual(javaHashMapOrder(['compat.num', 'compat.txt', 'compat.misc'], hashMapCapacity(3)), ['compat.misc', 'compat.num', 'compat.txt']);
  const twenty = Array.from({ length: 20 }, (_, i) => `public.t${i}`);
  const cap = hashMapCapacity(20);
  assert.equal(cap, 32);
  assert.deepEqual(javaHashMapOrder(twenty, cap).join(','),
    'public.t14,public.t15,public.t12,public.t13,public.t18,public.t19,public.t16,public.t17,public.t8,public.t7,public.t9,public.t4,public.t3,public.t6,public.t5,public.t0,public.t10,public.t11,public.t2,public.t1');
  const five = ['public.t7', 'public.t3', 'public.orders', 'sales.customers', 'public.t12'];
  assert.deepEqual(javaHashMapOrder(five, hashMapCapacity(5)), ['public.t12', 'public.t7', 'public.orders', 'sales.customers', 'public.t3']);
  // after clear() of the map that grew to 32 buckets
  assert.deepEqual(javaHashMapOrder(five, hashMapCapacity(5, cap)), ['public.t12', 'public.orders', 'sales.customers', 'public.t7', 'public.t3']);
});

test('key-change headers render the key as Connect\'s SimpleHeaderConverter does', () => {
  const key: Schema = {
    type: 'struct', optional: false, fields: [
      { name: 'tenant', schema: { type: 'int32', optional: false } },
      { name: 'code', schema: { type: 'string', optional: false } },
      { name: 'day', schema: { type: 'int32', optional: false, name: 'io.debezium.time.Date', version: 1 } },
    ],
  };
  assert.equal(connectToString(key, { tenant: 1, code: 'bb', day: 19724 }), '{"tenant":1,"code":"bb","day":19724}');
  assert.equal(connectToString({ type: 'struct', fields: [{ name: 'id', schema: { type: 'int32' } }] } as Schema, { id: 200 }), '{"id":200}');
  const odd: Schema = {
    type: 'struct', optional: false, fields: [
      { name: 'n', schema: { type: 'bytes', optional: false, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '7' } } },
      { name: 'f', schema: { type: 'float64', optional: false } },
      { name: 's', schema: { type: 'string', optional: false } },
      { name: 'b', schema: { type: 'bytes', optional: false } },
      { name: 'd', schema: { type: 'int32', optional: false, name: 'org.apache.kafka.connect.data.Date' } },
      { name: 'v', schema: { type: 'struct', optional: false, fields: [{ name: 'scale', schema: { type: 'int32', optional: false } }, { name: 'value', schema: { type: 'bytes', optional: false } }] } },
      { name: 'big', schema: { type: 'int64', optional: false } },
    ],
  };
  assert.equal(connectToString(odd, { n: '0.0000001', f: 1e10, s: 'a"b\\c\n', b: Buffer.from([1, 2]), d: 19724, v: { scale: 1, value: Buffer.from([25]) }, big: 9007199254740993n }),
    '{"n":1E-7,"f":1.0E10,"s":"a\\"b\\\\c\n","b":"AQI=","d":2024-01-02,"v":{"scale":1,"value":"GQ=="},"big":9007199254740993}');
  assert.match(uuidV7(), /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(uuidV7(Date.UTC(2026, 0, 1)).startsWith((Date.UTC(2026, 0, 1)).toString(16).padStart(12, '0').slice(0, 8)));
});

test('the source block ends with origin and origin_lsn after xmin', () => {
  assert.deepEqual(SOURCE_SCHEMA.fields!.slice(-3).map((f) => [f.name, f.schema.type, f.schema.optional]), [['xmin', 'int64', true], ['origin', 'string', true], ['origin_lsn', 'int64', true]]);
});

// ------------------------------------------------------------------ the task on PostgreSQL 18

type Env = { before: Record<string, unknown> | null; after: Record<string, unknown> | null; op: string; source: Record<string, unknown> };
const val = (r: SourceRecord) => r.value as Env | null;
const hdrs = (r: SourceRecord) => (r.headers ?? []).map((h) => `${h.key}=${String(h.value)}`);

async function setup(names: { slot: string; pub: string; prefix: string }, tables: string[], ddl: string, extra: Record<string, unknown> = {}) {
  const s = await embeddedPg18();
  const c = await s.client();
  await c.query(ddl);
  const cfg = baseConfig(s, names, {
    'publication.autocreate.mode': 'filtered', 'table.include.list': tables.map((t) => `public\\.${t}`).join(','), 'skipped.operations': 'none', ...extra,
  });
  return { s, c, cfg };
}

test('context headers on every change and tombstone, key-change headers first; a new run id per task start', async () => {
  const t = rnd('hdr');
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const { s, c, cfg } = await setup(names, [t], `CREATE TABLE ${t} (id int PRIMARY KEY, v text); INSERT INTO ${t} VALUES (1, 'a');`);
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`INSERT INTO ${t} VALUES (2, 'b')`);
    await c.query(`UPDATE ${t} SET id = 200 WHERE id = 2`);
    await c.query(`DELETE FROM ${t} WHERE id = 1`);
    const rs = (await h.pollUntil((rs) => rs.length >= 7)).filter((r) => r.topic.endsWith(t));
    assert.deepEqual(rs.map((r) => val(r)?.op ?? '-'), ['r', 'c', 'd', '-', 'c', 'd', '-']);
    const runId = String(rs[0]!.headers?.[3]?.value);
    assert.match(runId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ctx = [
      `__debezium.context.connectorLogicalName=${names.prefix}`, '__debezium.context.taskId=0', '__debezium.context.connectorName=postgresql',
      `__debezium.context.runId=${runId}`,
    ];
    assert.deepEqual(rs.map(hdrs), [
      ctx, ctx,
      ['__debezium.newkey={"id":200}', ...ctx], ['__debezium.newkey={"id":200}', ...ctx], ['__debezium.oldkey={"id":2}', ...ctx],
      ctx, ctx,
    ]);
    await h.stop();
    h.received = [];
    await h.start(cfg);
    await c.query(`INSERT INTO ${t} VALUES (3, 'c')`);
    const next = (await h.pollUntil((rs) => rs.length >= 1))[0]!;
    assert.notEqual(String(next.headers?.[3]?.value), runId);
    await h.stop();
    // extended.headers.enabled=false: only the key-change headers
    h.received = [];
    await h.start({ ...cfg, 'extended.headers.enabled': 'false' });
    await c.query(`UPDATE ${t} SET id = 300 WHERE id = 3`);
    const kc = await h.pollUntil((rs) => rs.length >= 3);
    assert.deepEqual(kc.map(hdrs), [['__debezium.newkey={"id":300}'], ['__debezium.newkey={"id":300}'], ['__debezium.oldkey={"id":3}']]);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('snapshot: source.txId is the snapshot transaction id, first/last markers as Debezium even when the last table is empty', async () => {
  const p = rnd('snapm');
  const [a, b, z] = [`${p}_a`, `${p}_b`, `${p}_z`];
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const { s, c, cfg } = await setup(names, [a, b, z], `
    CREATE TABLE ${a} (id int PRIMARY KEY); CREATE TABLE ${b} (id int PRIMARY KEY); CREATE TABLE ${z} (id int PRIMARY KEY);
    INSERT INTO ${a} VALUES (1); INSERT INTO ${b} VALUES (1), (2), (3);`);
  const h = new Harness();
  try {
    await h.start(cfg);
    const rs = await h.pollUntil((rs) => rs.length >= 4);
    // a single-row first table gives 'first' (Debezium: first wins over last_in_data_collection), the final record
    // 'last' although the last table in order is empty
    assert.deepEqual(rs.map((r) => val(r)!.source.snapshot), ['first', 'first_in_data_collection', 'true', 'last']);
    assert.deepEqual(rs.map((r) => (r.sourceOffset as { last_snapshot_record: boolean }).last_snapshot_record), [false, false, false, true]);
    const txIds = new Set(rs.map((r) => val(r)!.source.txId));
    assert.equal(txIds.size, 1);
    const txId = [...txIds][0];
    assert.ok(typeof txId === 'number' && txId > 0, `snapshot txId ${String(txId)}`);
    assert.equal((rs[0]!.sourceOffset as { txId: number }).txId, txId);
    await c.query(`INSERT INTO ${z} VALUES (1)`);
    const ins = (await h.pollUntil((rs) => rs.length >= 5))[4]!;
    assert.ok(Number(val(ins)!.source.txId) > txId, 'the snapshot transaction precedes the later insert');
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('stream: sequence[0] is the end of the previous commit record; origin and origin_lsn come from a replication origin', async () => {
  const t = rnd('seq');
  const origin = rnd('origin');
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const { s, c, cfg } = await setup(names, [t], `CREATE TABLE ${t} (id int PRIMARY KEY);`, { 'snapshot.mode': 'no_data' });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`INSERT INTO ${t} VALUES (1)`);
    await c.query(`INSERT INTO ${t} VALUES (2)`);
    await c.query(`SELECT pg_replication_origin_create($1)`, [origin]);
    await c.query(`SELECT pg_replication_origin_session_setup($1)`, [origin]);
    await c.query(`BEGIN; SELECT pg_replication_origin_xact_setup('0/ABCDEF', now()); INSERT INTO ${t} VALUES (3); COMMIT;`);
    await c.query(`SELECT pg_replication_origin_session_reset()`);
    await c.query(`INSERT INTO ${t} VALUES (4)`);
    const rs = await h.pollUntil((rs) => rs.length >= 4);
    const src = rs.map((r) => val(r)!.source);
    const seq = src.map((x) => JSON.parse(String(x.sequence)) as [string | null, string]);
    const commitLsn = (r: SourceRecord) => (r.sourceOffset as { lsn_commit: number }).lsn_commit;
    // the commit record starts at lsn_commit; its end (the Commit message's end_lsn) lies after it, at or before the
    // next transaction's first change
    for (let i = 1; i < 4; i++) {
      const prevEnd = Number(seq[i]![0]);
      assert.ok(prevEnd > commitLsn(rs[i - 1]!), `sequence[0] ${prevEnd} is not after the previous commit record start ${commitLsn(rs[i - 1]!)}`);
      assert.ok(prevEnd <= Number(src[i]!.lsn), `sequence[0] ${prevEnd} lies after the change at ${String(src[i]!.lsn)}`);
    }
    assert.deepEqual(src.map((x) => [x.origin, x.origin_lsn]), [[null, null], [null, null], [origin, 0xabcdef], [null, null]]);
  } finally {
    await h.stop();
    await c.query(`SELECT pg_replication_origin_drop($1)`, [origin]).catch(() => undefined);
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('provide.transaction.metadata: END lists data collections in HashMap order', async () => {
  const s = await embeddedPg18();
  const c = await s.client();
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  // fixed names: the order depends on their hash codes (a JVM puts txorder.num, .txt, .misc as misc, num, txt)
  await c.query(`DROP SCHEMA IF EXISTS txorder CASCADE; CREATE SCHEMA txorder;
    CREATE TABLE txorder.num (id int PRIMARY KEY); CREATE TABLE txorder.txt (id int PRIMARY KEY); CREATE TABLE txorder.misc (id int PRIMARY KEY);`);
  const cfg = baseConfig(s, names, {
    'publication.autocreate.mode': 'filtered', 'schema.include.list': 'txorder', 'snapshot.mode': 'no_data', 'provide.transaction.metadata': 'true',
  });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`BEGIN; INSERT INTO txorder.num VALUES (1); INSERT INTO txorder.txt VALUES (1); INSERT INTO txorder.misc VALUES (1); COMMIT;`);
    const rs = await h.pollUntil((rs) => rs.some((r) => (r.value as { status?: string }).status === 'END'));
    const end = rs.find((r) => (r.value as { status?: string }).status === 'END')!.value as { data_collections: Array<{ data_collection: string; event_count: number }> };
    assert.deepEqual(end.data_collections, [
      { data_collection: 'txorder.misc', event_count: 1 }, { data_collection: 'txorder.num', event_count: 1 }, { data_collection: 'txorder.txt', event_count: 1 },
    ]);
    // transaction records carry no headers (Debezium's TransactionMonitor adds none)
    assert.ok(rs.filter((r) => r.topic.endsWith('.transaction')).every((r) => !r.headers));
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.query('DROP SCHEMA txorder CASCADE');
    await c.end();
  }
});

