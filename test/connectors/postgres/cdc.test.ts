import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../../src/sdk/errors.js';
import { embeddedPg18, localPg15, stopFixture, rnd, baseConfig, Harness, ops, cleanupSlot, describe as desc } from './pg-fixture.js';
import type { SourceRecord } from '../../../src/sdk/record.js';

after(async () => {
  await stopFixture();
});

type Env = { before: Record<string, unknown> | null; after: Record<string, unknown> | null; op: string; source: Record<string, unknown>; transaction: unknown; ts_ms: number };
const val = (r: SourceRecord) => r.value as Env;
const changes = (rs: SourceRecord[]) => rs.filter((r) => r.value && !r.topic.endsWith('.transaction') && !r.topic.startsWith('__debezium'));

async function setup(tables: string[], ddl: (t: string[]) => string, extra: Record<string, unknown> = {}) {
  const s = await embeddedPg18();
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const c = await s.client();
  await c.query(ddl(tables));
  const cfg = baseConfig(s, names, {
    'publication.autocreate.mode': 'filtered',
    'table.include.list': tables.map((t) => `public\\.${t}`).join(','),
    'skipped.operations': 'none',
    ...extra,
  });
  return { s, c, names, cfg };
}

test('snapshot reads existing rows then streams inserts, updates, deletes and truncates in commit order', async () => {
  const [a, b] = [rnd('a'), rnd('b')];
  const { s, c, names, cfg } = await setup([a, b], ([a, b]) => `
    CREATE TABLE ${a} (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2));
    CREATE TABLE ${b} (k text PRIMARY KEY, v int);
    INSERT INTO ${a} VALUES (1, 'one', 1.50), (2, 'two', 2.00);
    INSERT INTO ${b} VALUES ('x', 10);`);
  const h = new Harness();
  try {
    await h.start(cfg);
    let rs = await h.pollUntil((rs) => rs.length >= 3);
    assert.deepEqual(ops(rs), ['r', 'r', 'r']);
    const first = val(rs[0]!);
    assert.equal(first.source.snapshot, 'first');
    assert.equal(val(rs[2]!).source.snapshot, 'last');
    assert.equal(rs[0]!.topic, `${names.prefix}.public.${a}`);
    assert.deepEqual(rs[0]!.key, { id: 1 });
    assert.deepEqual(first.after, { id: 1, name: 'one', price: '1.50' });
    assert.equal(rs[0]!.valueSchema!.name, `${names.prefix}.public.${a}.Envelope`);
    assert.equal(rs[0]!.keySchema!.name, `${names.prefix}.public.${a}.Key`);
    assert.deepEqual(rs[0]!.valueSchema!.fields!.map((f) => f.name), ['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns']);
    const nameField = rs[0]!.valueSchema!.fields![1]!.schema.fields!.find((f) => f.name === 'name')!;
    assert.equal(nameField.schema.optional, false);

    await c.query(`INSERT INTO ${a} VALUES (3, 'three', 3.25)`);
    await c.query(`BEGIN; UPDATE ${a} SET name = 'uno' WHERE id = 1; INSERT INTO ${b} VALUES ('y', 20); COMMIT;`);
    await c.query(`DELETE FROM ${a} WHERE id = 2`);
    await c.query(`TRUNCATE ${b}`);
    rs = await h.pollUntil((rs) => ops(rs).includes('t'));
    const stream = rs.slice(3);
    assert.deepEqual(stream.map(desc), [
      `${a}:c:{"id":3,"name":"three","price":"3.25"}`,
      `${a}:u:{"id":1,"name":"uno","price":"1.50"}`,
      `${b}:c:{"k":"y","v":20}`,
      `${a}:d:{"id":2,"name":"","price":null}`,
      `${a}:tombstone`,
      `${b}:t:null`,
    ]);
    const upd = val(stream[1]!);
    assert.equal(upd.before, null);
    assert.equal(upd.source.connector, 'postgresql');
    assert.equal(upd.source.snapshot, 'false');
    assert.equal(typeof upd.source.lsn, 'number');
    assert.equal(typeof upd.source.txId, 'number');
    assert.match(String(upd.source.sequence), /^\["\d+","\d+"\]$/);
    assert.equal(upd.source.txId, val(stream[2]!).source.txId);
    const off = stream[1]!.sourceOffset as { lsn_commit: number; event_index: number };
    assert.equal(off.event_index, 0);
    assert.equal((stream[2]!.sourceOffset as { event_index: number }).event_index, 1);
    assert.deepEqual(stream[3]!.key, { id: 2 });
    assert.equal(stream[4]!.value, null);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('an update of another column keeps an unchanged TOASTed value as the placeholder, never null', async () => {
  const [t] = [rnd('toast')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `
    CREATE TABLE ${t} (id int PRIMARY KEY, n int, big text);
    ALTER TABLE ${t} ALTER COLUMN big SET STORAGE EXTERNAL;`, { 'snapshot.mode': 'no_data' });
  const h = new Harness();
  try {
    await h.start(cfg);
    const big = Array.from({ length: 20000 }, (_, i) => (i * 7919).toString(36)).join('').slice(0, 1_000_000);
    await c.query(`INSERT INTO ${t} VALUES (1, 0, $1)`, [big]);
    await c.query(`UPDATE ${t} SET n = 1 WHERE id = 1`);
    const rs = await h.pollUntil((rs) => ops(rs).includes('u'));
    const ins = val(changes(rs)[0]!);
    assert.equal((ins.after!.big as string).length, big.length);
    const upd = val(changes(rs)[1]!);
    assert.equal(upd.after!.n, 1);
    assert.equal(upd.after!.big, '__debezium_unavailable_value');
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('deletes under replica identity DEFAULT carry the key, FULL the whole row, and NOTHING is refused by PostgreSQL', async () => {
  const [d, f, n] = [rnd('rid'), rnd('rif'), rnd('rin')];
  const { s, c, names, cfg } = await setup([d, f, n], ([d, f, n]) => `
    CREATE TABLE ${d} (id int PRIMARY KEY, v text);
    CREATE TABLE ${f} (id int PRIMARY KEY, v text); ALTER TABLE ${f} REPLICA IDENTITY FULL;
    CREATE TABLE ${n} (id int PRIMARY KEY, v text); ALTER TABLE ${n} REPLICA IDENTITY NOTHING;
    INSERT INTO ${d} VALUES (1, 'a'); INSERT INTO ${f} VALUES (1, 'a'); INSERT INTO ${n} VALUES (1, 'a');`, { 'snapshot.mode': 'no_data', 'tombstones.on.delete': false });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`UPDATE ${f} SET v = 'b' WHERE id = 1`);
    await c.query(`DELETE FROM ${d} WHERE id = 1`);
    await c.query(`DELETE FROM ${f} WHERE id = 1`);
    await assert.rejects(c.query(`DELETE FROM ${n} WHERE id = 1`), /replica identity/);
    const rs = await h.pollUntil((rs) => ops(rs).filter((o) => o === 'd').length >= 2);
    const [u, dd, fd] = changes(rs).map(val);
    assert.deepEqual(u!.before, { id: 1, v: 'a' });
    assert.deepEqual(u!.after, { id: 1, v: 'b' });
    assert.deepEqual(dd!.before, { id: 1, v: null });
    assert.deepEqual(fd!.before, { id: 1, v: 'b' });
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('ALTER TABLE ADD and DROP COLUMN between inserts: each event uses the columns in effect at its point', async () => {
  const [t] = [rnd('alt')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY, a text);`, { 'snapshot.mode': 'no_data' });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`INSERT INTO ${t} VALUES (1, 'x')`);
    await c.query(`ALTER TABLE ${t} ADD COLUMN b int`);
    await c.query(`INSERT INTO ${t} VALUES (2, 'y', 7)`);
    await c.query(`ALTER TABLE ${t} DROP COLUMN a`);
    await c.query(`INSERT INTO ${t} VALUES (3, 8)`);
    const rs = changes(await h.pollUntil((rs) => changes(rs).length >= 3));
    assert.deepEqual(rs.map((r) => val(r).after), [{ id: 1, a: 'x' }, { id: 2, a: 'y', b: 7 }, { id: 3, b: 8 }]);
    assert.deepEqual(val(rs[2]!) && rs[2]!.valueSchema!.fields![1]!.schema.fields!.map((f) => f.name), ['id', 'b']);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('numeric(38,18), NaN, infinity and timestamptz across DST round-trip exactly on a non-UTC session', async () => {
  const [t] = [rnd('num')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `
    CREATE TABLE ${t} (id int PRIMARY KEY, n numeric(38,18), u numeric, f float8, ts timestamp, tz timestamptz, d date, i interval, j jsonb, arr int[], e text);`,
  { 'snapshot.mode': 'no_data' });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`SET TIME ZONE 'America/New_York'`);
    await c.query(`INSERT INTO ${t} VALUES
      (1, '12345678901234567890.123456789012345678', '-0.000001', 1.5, '2024-03-10 02:30:00', '2024-03-10 01:59:59.999999-05', '2024-02-29', '1 day 02:00:00', '{"a": 1}', '{1,NULL,3}', 'x'),
      (2, 'NaN', 'NaN', 'NaN', 'infinity', '2024-11-03 01:30:00-04', '1970-01-01', '-1 mons', 'null', '{}', NULL),
      (3, '-0.000000000000000001', '123', '-Infinity', '1999-12-31 23:59:59.5', '2024-11-03 01:30:00-05', '0044-03-15 BC', '00:00:00.000001', '[]', '{-1}', NULL)`);
    const rs = changes(await h.pollUntil((rs) => changes(rs).length >= 3));
    const [r1, r2, r3] = rs.map((r) => val(r).after!);
    assert.equal(r1!.n, '12345678901234567890.123456789012345678');
    const nSchema = rs[0]!.valueSchema!.fields![1]!.schema.fields!.find((f) => f.name === 'n')!.schema;
    assert.deepEqual(nSchema.parameters, { scale: '18', 'connect.decimal.precision': '38' });
    assert.equal(nSchema.name, 'org.apache.kafka.connect.data.Decimal');
    assert.deepEqual(r1!.u, { scale: 6, value: Buffer.from([0xff]) });
    assert.equal(r1!.ts, Date.UTC(2024, 2, 10, 2, 30) * 1000);
    assert.equal(r1!.tz, '2024-03-10T06:59:59.999999Z');
    assert.equal(r1!.d, 19782);
    assert.equal(r1!.i, 26 * 3600e6);
    assert.equal(r1!.j, '{"a": 1}');
    assert.deepEqual(r1!.arr, [1, null, 3]);
    assert.equal(r2!.n, null); // precise mode has no NaN: documented
    assert.ok(Number.isNaN(r2!.f));
    assert.equal(r2!.ts, 9223372036825200000n); // PGStatement.DATE_POSITIVE_INFINITY, as Debezium
    assert.equal(r2!.tz, '2024-11-03T05:30:00.000000Z'); // timestamptz: always 6 fraction digits
    assert.equal(r2!.i, -30.4375 * 86400e6);
    assert.equal(r3!.n, '-0.000000000000000001');
    assert.equal(r3!.f, -Infinity);
    assert.equal(r3!.ts, Date.UTC(1999, 11, 31, 23, 59, 59, 500) * 1000);
    assert.equal(r3!.tz, '2024-11-03T06:30:00.000000Z');
    assert.equal(r3!.i, 1);
    assert.deepEqual(r3!.arr, [-1]);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('a large streamed transaction is delivered once after commit, and an aborted one emits nothing', async () => {
  const [t] = [rnd('big')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY, pad text);`, {
    'snapshot.mode': 'no_data', 'tombstones.on.delete': false, 'streaming.buffer.memory.bytes': 100000, 'max.queue.size': 1000,
  });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`BEGIN; INSERT INTO ${t} SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g; ROLLBACK;`);
    await c.query(`BEGIN; INSERT INTO ${t} SELECT g, repeat('y', 100) FROM generate_series(1, 20000) g; SAVEPOINT s1; INSERT INTO ${t} SELECT g, 'z' FROM generate_series(20001, 20500) g; ROLLBACK TO s1; COMMIT;`);
    await c.query(`INSERT INTO ${t} VALUES (-1, 'end')`);
    const rs = changes(await h.pollUntil((rs) => rs.some((r) => (val(r)?.after as { id?: number } | null)?.id === -1), { timeoutMs: 60000 }));
    assert.equal(rs.length, 20001);
    assert.ok(rs.every((r, i) => i === 20000 || (val(r).after as { pad: string }).pad.startsWith('y')));
    assert.deepEqual(rs.slice(0, 3).map((r) => (val(r).after as { id: number }).id), [1, 2, 3]);
    const idx = rs.slice(0, 20000).map((r) => (r.sourceOffset as { event_index: number }).event_index);
    assert.ok(idx.every((x, i) => x === i));
    const st = h.task!.status();
    assert.equal(st.streamedTransactions, 0);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('restart from a committed offset skips exactly the acknowledged events of a partly delivered transaction', async () => {
  const [t] = [rnd('rs')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY);`, { 'snapshot.mode': 'no_data' });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`INSERT INTO ${t} SELECT g FROM generate_series(1, 10) g`); // one transaction, ten events
    // the platform acknowledges only the first four
    await h.pollUntil((rs) => rs.length >= 10, { ack: (r) => ((val(r).after as { id: number }).id <= 4) });
    const slotBefore = await c.query('SELECT confirmed_flush_lsn::text AS f FROM pg_replication_slots WHERE slot_name = $1', [names.slot]);
    await h.stop();
    const lsnCommit = (h.received[0]!.sourceOffset as { lsn_commit: number }).lsn_commit;
    // the transaction is not flushed: its commit record is at or after confirmed_flush_lsn
    const [hi, lo] = String(slotBefore.rows[0].f).split('/').map((x) => parseInt(x, 16));
    assert.ok(hi! * 2 ** 32 + lo! <= lsnCommit, 'confirmed_flush_lsn passed an unacknowledged event');
    h.received = [];
    await h.start(cfg);
    await c.query(`INSERT INTO ${t} VALUES (11)`);
    const rs = await h.pollUntil((rs) => rs.some((r) => (val(r).after as { id: number }).id === 11));
    assert.deepEqual(rs.map((r) => (val(r).after as { id: number }).id), [5, 6, 7, 8, 9, 10, 11]);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('confirmed_flush_lsn never passes what commit() reported, and an idle slot still advances', async () => {
  const [t, other] = [rnd('ack'), rnd('oth')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY); CREATE TABLE ${other} (id int);`, { 'snapshot.mode': 'no_data' });
  const h = new Harness();
  const flush = async () => {
    const r = await c.query('SELECT confirmed_flush_lsn::text AS f FROM pg_replication_slots WHERE slot_name = $1', [names.slot]);
    const [hi, lo] = String(r.rows[0].f).split('/').map((x) => parseInt(x, 16));
    return hi! * 2 ** 32 + lo!;
  };
  try {
    await h.start(cfg);
    await c.query(`INSERT INTO ${t} VALUES (1)`);
    const rs = await h.pollUntil((rs) => rs.length >= 1, { ack: false });
    const commitLsn = (rs[0]!.sourceOffset as { lsn_commit: number }).lsn_commit;
    await new Promise((r) => setTimeout(r, 1200)); // several status updates and keepalives
    assert.ok(await flush() <= commitLsn, 'flushed past an unacknowledged event');
    await h.ack(rs[0]!);
    await new Promise((r) => setTimeout(r, 300));
    const afterAck = await flush();
    assert.ok(afterAck > commitLsn);
    // writes to a table outside the publication only: the slot keeps advancing
    for (let i = 0; i < 5; i++) await c.query(`INSERT INTO ${other} SELECT g FROM generate_series(1, 1000) g`);
    const walNow = (await c.query('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l as string;
    const [hi, lo] = walNow.split('/').map((x) => parseInt(x, 16));
    const deadline = Date.now() + 15000;
    while ((await flush()) < hi! * 2 ** 32 + lo! - 1000 && Date.now() < deadline) {
      await h.task!.poll(new AbortController().signal);
    }
    assert.ok(await flush() > afterAck, `idle slot did not advance: ${JSON.stringify(h.task!.status())} wal ${walNow} afterAck ${afterAck} commit ${commitLsn}`);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('a missing slot with a stored position fails closed, and when_needed takes a new snapshot instead', async () => {
  const [t] = [rnd('lost')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY); INSERT INTO ${t} VALUES (1);`, { 'snapshot.mode': 'no_data' });
  const h = new Harness();
  try {
    h.offsets.set(JSON.stringify({ server: names.prefix }), { lsn_commit: 1234, lsn: 1234, event_index: 0, txId: 5, ts_usec: 0 });
    await assert.rejects(h.start(cfg), (e: unknown) => e instanceof TributaryError && e.code === 'source.position_lost' && !e.retriable && /does not exist/.test(e.message));
    await h.start({ ...cfg, 'snapshot.mode': 'when_needed' });
    const rs = await h.pollUntil((rs) => rs.length >= 1);
    assert.equal(val(rs[0]!).op, 'r');
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('transaction metadata brackets each transaction and heartbeats carry an acknowledgeable position', async () => {
  const [t] = [rnd('txm')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY); INSERT INTO ${t} VALUES (0);`, {
    'provide.transaction.metadata': true, 'heartbeat.interval.ms': 300, 'snapshot.max.threads': 2,
  });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`BEGIN; INSERT INTO ${t} VALUES (1); INSERT INTO ${t} VALUES (2); COMMIT;`);
    const rs = await h.pollUntil((rs) => rs.some((r) => r.topic.endsWith('.transaction') && (r.value as { status: string }).status === 'END')
      && rs.some((r) => r.topic.startsWith('__debezium-heartbeat')));
    const tx = rs.filter((r) => r.topic === `${names.prefix}.transaction`).map((r) => r.value as Record<string, unknown>);
    assert.equal(tx[0]!.status, 'BEGIN');
    assert.equal(tx[1]!.status, 'END');
    assert.equal(tx[1]!.event_count, 2);
    assert.deepEqual(tx[1]!.data_collections, [{ data_collection: `public.${t}`, event_count: 2 }]);
    const evs = changes(rs).filter((r) => val(r).op === 'c');
    assert.deepEqual(evs.map((r) => val(r).transaction), [
      { id: tx[0]!.id, total_order: 1, data_collection_order: 1 },
      { id: tx[0]!.id, total_order: 2, data_collection_order: 2 },
    ]);
    const hb = rs.find((r) => r.topic === `__debezium-heartbeat.${names.prefix}`)!;
    assert.deepEqual(hb.key, { serverName: names.prefix });
    assert.equal(typeof (hb.value as { ts_ms: number }).ts_ms, 'number');
    const st = h.task!.status();
    assert.equal(st.phase, 'streaming');
    assert.deepEqual((st.snapshot as { tablesDone: number; rowsDone: number }).rowsDone, 1);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});

test('on the machine PostgreSQL 15 the connector snapshots and streams when wal_level is logical', async (t) => {
  const local = await localPg15();
  if (typeof local === 'string') {
    t.skip(local);
    return;
  }
  const tbl = rnd('pg15');
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const c = await local.client();
  await c.query(`CREATE TABLE ${tbl} (id int PRIMARY KEY, v text); INSERT INTO ${tbl} VALUES (1, 'a');`);
  const h = new Harness();
  try {
    await h.start(baseConfig(local, names, { 'publication.autocreate.mode': 'filtered', 'table.include.list': `public\\.${tbl}` }));
    await c.query(`UPDATE ${tbl} SET v = 'b'`);
    const rs = await h.pollUntil((rs) => ops(rs).includes('u'));
    assert.deepEqual(ops(rs), ['r', 'u']);
  } finally {
    await h.stop();
    await cleanupSlot(local, names.slot, names.pub);
    await c.query(`DROP TABLE ${tbl}`);
    await c.end();
  }
});

test('a task stopped during the snapshot redoes it on restart with a fresh slot and then streams without gaps', async () => {
  const [t] = [rnd('snap')];
  const { s, c, names, cfg } = await setup([t], ([t]) => `CREATE TABLE ${t} (id int PRIMARY KEY); INSERT INTO ${t} SELECT g FROM generate_series(1, 5000) g;`, {
    'max.batch.size': 100, 'max.queue.size': 200, 'snapshot.fetch.size': 100,
  });
  const h = new Harness();
  try {
    await h.start(cfg);
    await h.pollUntil((rs) => rs.length >= 300);
    await h.stop(); // as a crash: offsets say the snapshot is unfinished
    await c.query(`INSERT INTO ${t} VALUES (5001)`); // committed while the connector is down
    h.received = [];
    await h.start(cfg);
    await c.query(`INSERT INTO ${t} VALUES (5002)`);
    const rs = await h.pollUntil((rs) => rs.some((r) => (val(r).after as { id: number }).id === 5002), { timeoutMs: 30000 });
    const snap = rs.filter((r) => val(r).op === 'r').map((r) => (val(r).after as { id: number }).id);
    assert.equal(snap.length, 5001);
    assert.equal(new Set(snap).size, 5001);
    assert.deepEqual(rs.filter((r) => val(r).op === 'c').map((r) => (val(r).after as { id: number }).id), [5002]);
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});
