/**
 * End to end through the worker: a Debezium-style CREATE SOURCE CONNECTOR statement, the task runner, the
 * JsonConverter and the embedded log — on embedded PostgreSQL 18 and on the machine's PostgreSQL 15.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, waitFor, type TestApp } from '../../helpers/app.js';
import { embeddedPg18, localPg15, stopFixture, rnd, cleanupSlot, type PgServer } from './pg-fixture.js';

after(async () => {
  await stopFixture();
});

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

async function scenario(s: PgServer, t: { skip(msg: string): void }): Promise<void> {
  void t;
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
    app = await startTestApp();
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

    const snap = await waitFor(async () => {
      const va = await app!.values(ta);
      const vb = await app!.values(tb);
      return va.length >= 2 && vb.length >= 1 ? { va, vb } : null;
    }, 'snapshot records', 30_000);
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
    const keyA = (await app.records(ta))[0]!.key!.toString();
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
    const streamed = async (): Promise<Ev[]> => {
      const out: Ev[] = [];
      for (const [topic, table] of [[ta, a], [tb, b]] as const) {
        const recs = await app!.records(topic);
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
    const evs = await waitFor(async () => {
      const e = await streamed();
      return e.length >= expected.length ? e : null;
    }, 'streamed changes', 30_000);
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
  }
}

test('CREATE SOURCE CONNECTOR (Debezium keys) on embedded PostgreSQL 18: snapshot, then c/u/d/t of two tables in commit order into the embedded log', async (t) => {
  await scenario(await embeddedPg18(), t);
});

test('the same statement on the machine PostgreSQL 15 (pgoutput protocol 3)', async (t) => {
  const local = await localPg15();
  if (typeof local === 'string') {
    t.skip(local);
    return;
  }
  await scenario(local, t);
});
