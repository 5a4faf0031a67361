/**
 * Transient loss of the connector's PostgreSQL connections: the task is started again from its committed position
 * by itself (no FAILED, no manual restart), and nothing is lost.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, waitFor, type TestApp } from '../../helpers/app.js';
import { embeddedPg18, stopFixture, rnd, cleanupSlot } from './pg-fixture.js';

after(async () => {
  await stopFixture();
});

test('the catalog connection and then the replication connection are terminated: the task restarts itself and every row arrives', { timeout: 120_000 }, async () => {
  const s = await embeddedPg18();
  const table = rnd('rc');
  const slot = rnd('slot');
  const pub = rnd('pub');
  const prefix = rnd('rcp');
  const name = rnd('RC').toUpperCase();
  const c = await s.client();
  let app: TestApp | null = null;
  try {
    await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    await c.query(`INSERT INTO ${table} SELECT g, 'r' || g FROM generate_series(1, 5) g`);
    app = await startTestApp();
    await app.sql(`CREATE SOURCE CONNECTOR ${name} WITH (
      'connector.class' = 'io.debezium.connector.postgresql.PostgresConnector',
      'database.hostname' = '${s.host}', 'database.port' = '${s.port}', 'database.user' = '${s.user}',
      'database.password' = '${s.password}', 'database.dbname' = '${s.database}', 'topic.prefix' = '${prefix}',
      'table.include.list' = 'public.${table}', 'slot.name' = '${slot}', 'publication.name' = '${pub}',
      'key.converter.schemas.enable' = 'false', 'value.converter.schemas.enable' = 'false');`);
    const topic = `${prefix}.public.${table}`;
    const ids = async () => new Set((await app!.values(topic)).filter((v) => v && v.after).map((v) => v.after.id as number));
    await waitFor(async () => (await ids()).size === 5, 'snapshot of 5 rows', 30_000);
    const app0 = app;
    const state = () => app0.worker.status(name).tasks[0]!.state;

    // 1. the connector's ordinary (catalog) connection dies; a new column makes the task read the catalog
    const killed = await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name LIKE 'tributary%' AND pid <> pg_backend_pid()`);
    assert.ok(killed.rowCount! >= 1, 'the catalog connection was found');
    await c.query(`ALTER TABLE ${table} ADD COLUMN w int`);
    await c.query(`INSERT INTO ${table} VALUES (6, 'r6', 60)`);
    await waitFor(async () => (await ids()).has(6), 'row 6 after the catalog connection was terminated', 60_000);
    assert.notEqual(state(), 'FAILED');

    // 2. the replication connection dies (as on a PostgreSQL restart or a network cut)
    const wal = await c.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`, [slot]);
    assert.equal(wal.rowCount, 1, 'the walsender was found');
    await c.query(`INSERT INTO ${table} VALUES (7, 'r7', 70), (8, 'r8', 80)`);
    await waitFor(async () => (await ids()).has(8), 'rows 7 and 8 after the replication connection was terminated', 60_000);
    assert.equal(state(), 'RUNNING');
    const all = await ids();
    for (let id = 1; id <= 8; id++) assert.ok(all.has(id), `row ${id}`);
  } finally {
    await app?.dispose();
    await cleanupSlot(s, slot, pub).catch(() => undefined);
    await c.end();
  }
});
