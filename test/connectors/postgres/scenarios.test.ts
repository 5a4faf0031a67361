/**
 * Correctness scenarios a and d (bounded forms):
 *  a — writes only to tables outside the publication: the slot's lag stays bounded (keepalive acknowledgement,
 *      heartbeats), on embedded PostgreSQL 18 and the machine's PostgreSQL 15 at once;
 *  d — one transaction of a million rows with the server process's heap capped at 200 MB: spilled, not crashed;
 *      an aborted one emits nothing, a committed one is delivered whole.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, waitFor } from '../../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { embeddedPg18, localPg15, stopFixture, rnd, cleanupSlot, type PgServer } from './pg-fixture.js';
import { createConnector, readTopic, topicEnd } from './proc-fixture.js';

after(async () => {
  await stopFixture();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function filteredTrafficLag(s: PgServer, seconds: number, heartbeatMs: number): Promise<{ maxLag: number; finalLag: number; walWritten: number; heartbeats: number }> {
  const [captured, other] = [rnd('cap'), rnd('other')];
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const c = await s.client();
  const app = await startTestApp();
  try {
    await c.query(`CREATE TABLE ${captured} (id int PRIMARY KEY); CREATE TABLE ${other} (id bigserial PRIMARY KEY, pad text)`);
    await app.sql(`CREATE SOURCE CONNECTOR lag WITH (
      'connector.class' = 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname' = '${s.host}', 'database.port' = '${s.port}', 'database.user' = '${s.user}',
      'database.password' = '${s.password}', 'database.dbname' = '${s.database}', 'topic.prefix' = '${names.prefix}',
      'slot.name' = '${names.slot}', 'publication.name' = '${names.pub}', 'publication.autocreate.mode' = 'filtered',
      'table.include.list' = 'public.${captured}', 'status.update.interval.ms' = '1000',
      'heartbeat.interval.ms' = '${heartbeatMs}', 'offset.flush.interval.ms' = '200');`);
    await waitFor(async () => (await c.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [names.slot])).rows[0]?.active === true, 'slot active', 30_000);
    const lag = async () => Number((await c.query(`SELECT pg_current_wal_lsn() - confirmed_flush_lsn AS lag FROM pg_replication_slots WHERE slot_name = $1`, [names.slot])).rows[0].lag);
    const start = Number((await c.query(`SELECT pg_current_wal_lsn() - '0/0'::pg_lsn AS l`)).rows[0].l);
    const w = await s.client();
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await w.query(`INSERT INTO ${other} (pad) SELECT repeat('p', 200) FROM generate_series(1, 50)`);
        await sleep(2);
      }
      await w.end();
    })();
    let maxLag = 0;
    const until = Date.now() + seconds * 1000;
    // the first seconds are warm-up (a status period); then the lag must stay bounded
    await sleep(3000);
    while (Date.now() < until) {
      maxLag = Math.max(maxLag, await lag());
      await sleep(250);
    }
    writing = false;
    await writer;
    const walWritten = Number((await c.query(`SELECT pg_current_wal_lsn() - '0/0'::pg_lsn AS l`)).rows[0].l) - start;
    // with writes stopped, the slot catches up to the end of WAL
    const finalLag = await waitFor(async () => {
      const l = await lag();
      return l < 64 * 1024 ? l + 1 : null;
    }, 'slot caught up after filtered writes', 15_000, 200) - 1;
    const heartbeats = (await app.records(`__debezium-heartbeat.${names.prefix}`)).length;
    assert.equal((await app.records(`${names.prefix}.public.${captured}`)).length, 0);
    return { maxLag, finalLag, walWritten, heartbeats };
  } finally {
    await app.dispose();
    await cleanupSlot(s, names.slot, names.pub).catch(() => undefined);
    await c.query(`DROP TABLE IF EXISTS ${captured}, ${other}`).catch(() => undefined);
    await c.end();
  }
}

test('scenario a: 12 s of writes only outside the publication keep the slot lag bounded (PG 18 with heartbeats, PG 15 with keepalive acks only)', async (t) => {
  const local = await localPg15();
  const runs: Array<Promise<[string, Awaited<ReturnType<typeof filteredTrafficLag>>]>> = [
    filteredTrafficLag(await embeddedPg18(), 12, 1000).then((r) => ['pg18', r]),
  ];
  if (typeof local !== 'string') runs.push(filteredTrafficLag(local, 12, 0).then((r) => ['pg15', r]));
  else t.diagnostic(`PostgreSQL 15 part skipped: ${local}`);
  for (const [name, r] of await Promise.all(runs)) {
    t.diagnostic(`${name}: ${(r.walWritten / 1048576).toFixed(1)} MB of WAL written outside the publication, max slot lag ${(r.maxLag / 1048576).toFixed(2)} MB, final ${r.finalLag} B, heartbeats ${r.heartbeats}`);
    assert.ok(r.walWritten > 20 * 1048576, `${name}: enough filtered WAL to matter (${r.walWritten} B)`);
    // bounded: a fixed bound well below what was written (an unacknowledged slot would lag by all of it)
    assert.ok(r.maxLag < 16 * 1048576, `${name}: slot lag ${r.maxLag} B stays bounded (WAL written ${r.walWritten} B)`);
    if (name === 'pg18') assert.ok(r.heartbeats >= 5, `${name}: heartbeats emitted (${r.heartbeats})`);
  }
});

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

test('scenario d: a 1M-row transaction with the server heap capped at 200 MB spills instead of crashing; an aborted one emits nothing, a committed 500k-row one arrives whole', async (t) => {
  const s = await embeddedPg18(); // logical_decoding_work_mem = 64kB: PostgreSQL streams the transaction in chunks
  const table = rnd('big');
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const topic = `${names.prefix}.public.${table}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-pgbig-'));
  const c = await s.client();
  let server: ServerProcess | null = null;
  let peak = 0;
  let sampling = true;
  try {
    await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, pad text)`);
    server = await startServerProcess(dataDir, { env: { NODE_OPTIONS: '--max-old-space-size=200' } });
    const pid = server.child.pid!;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rssOf(pid));
        await sleep(100);
      }
    })();
    await createConnector(server.url, 'big', {
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname': s.host, 'database.port': s.port, 'database.user': s.user, 'database.password': s.password,
      'database.dbname': s.database, 'topic.prefix': names.prefix, 'slot.name': names.slot, 'publication.name': names.pub,
      'publication.autocreate.mode': 'filtered', 'table.include.list': `public\\.${table}`,
      'streaming.buffer.memory.bytes': 8 * 1048576, 'max.batch.size': 4096,
      'value.converter.schemas.enable': 'false', 'key.converter.schemas.enable': 'false',
    });
    await waitFor(async () => (await c.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [names.slot])).rows[0]?.active === true, 'slot active', 30_000);
    const ROWS = 1_000_000;
    // aborted: a million rows rolled back, then one marker row committed
    await c.query(`BEGIN; INSERT INTO ${table} SELECT g, repeat('a', 100) FROM generate_series(1, ${ROWS}) g; ROLLBACK;`);
    await c.query(`INSERT INTO ${table} VALUES (0, 'marker')`);
    await waitFor(async () => (await topicEnd(dataDir, topic)) >= 1, 'marker row', 120_000, 200);
    const afterAbort = await readTopic(dataDir, topic);
    assert.equal(afterAbort.length, 1, 'nothing of the aborted transaction is emitted');
    assert.equal(afterAbort[0]!.value.after.pad, 'marker');
    assert.equal(server.child.exitCode, null, 'the server is alive after the aborted transaction');
    const peakAbort = peak;

    // committed: half a million rows (≈ 60 MB of changes, far beyond the 8 MB buffer) delivered whole, in order
    const COMMITTED = 500_000;
    const tc = Date.now();
    await c.query(`INSERT INTO ${table} SELECT g, repeat('c', 100) FROM generate_series(1, ${COMMITTED}) g`);
    await waitFor(async () => {
      if (server!.child.exitCode !== null || server!.child.signalCode !== null) throw new Error(`server died: ${server!.output().slice(-2000)}`);
      return (await topicEnd(dataDir, topic)) >= COMMITTED + 1;
    }, 'the committed transaction delivered', 120_000, 250);
    const secs = (Date.now() - tc) / 1000;
    sampling = false;
    await sampler;
    assert.equal(server.child.exitCode, null, 'the server is alive');
    const evs = await readTopic(dataDir, topic, 1);
    assert.equal(evs.length, COMMITTED);
    let inOrder = true;
    for (let i = 0; i < evs.length; i++) if (evs[i]!.value.after.id !== i + 1) { inOrder = false; break; }
    assert.ok(inOrder, 'rows in transaction order');
    t.diagnostic(`peak RSS ${(peakAbort / 1048576).toFixed(0)} MB during the aborted transaction, ${(peak / 1048576).toFixed(0)} MB overall; committed 500k rows in ${secs.toFixed(1)} s`);
    assert.ok(peak < 400 * 1048576, `peak RSS ${peak} B`);
  } finally {
    sampling = false;
    await server?.kill('SIGKILL');
    await cleanupSlot(s, names.slot, names.pub).catch(() => undefined);
    await c.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await c.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
