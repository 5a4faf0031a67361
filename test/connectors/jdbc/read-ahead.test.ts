import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { connectPg } from '../../../src/connectors/jdbc/pg-connect.js';
import { jdbcSourcePlugin } from '../../../src/connectors/jdbc/index.js';
import { resolveConfig } from '../../../src/runtime/config.js';
import { createLogger } from '../../../src/runtime/logger.js';
import type { SourceRecord } from '../../../src/sdk/record.js';
import type { SourceTask } from '../../../src/sdk/source.js';
import { embeddedPg, randomName, stopEmbeddedPg, type PgTarget } from '../../helpers/postgres.js';

/**
 * The JDBC task requests the next batches of a table with a backlog before the runtime polls for them (its
 * querier's position moves when a batch arrives). A batch that arrived must still be handed out when the
 * connection is lost before the runtime polls for it: dropping it would skip its rows for good.
 */
let target: PgTarget;
let admin: pg.Client;
before(async () => {
  target = await embeddedPg();
  admin = await connectPg({ url: target.jdbcUrl, user: target.user, password: target.password });
});
after(async () => {
  await admin?.end();
  await stopEmbeddedPg();
});

/** a table of `rows` rows (of `width` bytes, or short) and a task reading it in batches of 10 on a connection named `appName` */
async function startTask(rows: number, width = 0): Promise<{ task: SourceTask; appName: string; signal: AbortSignal }> {
  const table = randomName('ra');
  await admin.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, v text NOT NULL)`);
  if (width) await admin.query(`INSERT INTO ${table} (v) SELECT repeat(md5(g::text), $2 / 32) FROM generate_series(1, $1) g`, [rows, width]);
  else await admin.query(`INSERT INTO ${table} (v) SELECT 'v' || g FROM generate_series(1, $1) g`, [rows]);
  const appName = randomName('tributary_ra');
  const r = resolveConfig(jdbcSourcePlugin.spec, {
    'connection.url': `${target.jdbcUrl}${target.jdbcUrl.includes('?') ? '&' : '?'}ApplicationName=${appName}`,
    'connection.user': target.user,
    'connection.password': target.password,
    mode: 'incrementing',
    'incrementing.column.name': 'id',
    'topic.prefix': 'ra_',
    'table.whitelist': table,
    'batch.max.rows': '10',
    'poll.interval.ms': '100',
  });
  assert.deepEqual(r.problems, []);
  const task = jdbcSourcePlugin.createTask();
  await task.start({ ...r.values, tables: [{ schema: 'public', table }] }, { connector: 'ra', taskId: 0, logger: createLogger(), offset: async () => null, rawStructs: false });
  return { task, appName, signal: new AbortController().signal };
}

const ids = (rs: SourceRecord[]) => rs.map((r) => (r.value as { id: number }).id);

test('batches read ahead before the connection was lost are still handed out, in order, with no gap', async () => {
  const { task, appName, signal } = await startTask(100);
  try {
    const got: number[] = ids(await task.poll(signal));
    assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => i + 1));
    // let the batches requested ahead arrive, then kill the task's connection before polling for them
    await new Promise((r) => setTimeout(r, 500));
    const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [appName]);
    assert.equal(killed.rowCount, 1, 'the task has one connection');
    await new Promise((r) => setTimeout(r, 300)); // the client notices the lost connection
    for (let i = 0; i < 50 && got.length < 100; i++) {
      try {
        got.push(...ids(await task.poll(signal)));
      } catch {
        // a batch requested on the lost connection fails; the next poll reconnects
      }
    }
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i + 1), 'every row once, in order');
  } finally {
    await task.stop();
  }
});

test('a portal the runtime stops reading from is closed after a while (no open transaction holds back vacuum), and reading goes on where it stopped', async () => {
  const { task, appName, signal } = await startTask(200);
  // an open portal is an open transaction (holding a snapshot); a closed one leaves the session idle
  const state = async () =>
    (await admin.query(`SELECT CASE WHEN xact_start IS NULL THEN 'closed' ELSE 'open' END AS s FROM pg_stat_activity WHERE application_name = $1`, [appName])).rows.map((r) => r.s as string);
  try {
    const got: number[] = ids(await task.poll(signal));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await state(), ['open'], 'batches are read through an open portal');
    await new Promise((r) => setTimeout(r, 6000));
    assert.deepEqual(await state(), ['closed'], 'the portal was closed');
    for (let i = 0; i < 50 && got.length < 200; i++) got.push(...ids(await task.poll(signal)));
    assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i + 1), 'every row once, in order');
  } finally {
    await task.stop();
  }
});

test('read-ahead is bounded by bytes: batches of wide rows are read one ahead, short ones two', async () => {
  const settle = async (task: SourceTask, signal: AbortSignal) => {
    await task.poll(signal);
    await new Promise((r) => setTimeout(r, 500)); // let what was requested ahead arrive
    return task.status!()['readAhead'] as { batches: number; bytes: number };
  };
  const narrow = await startTask(100);
  try {
    const ra = await settle(narrow.task, narrow.signal);
    assert.equal(ra.batches, 2, 'short rows: READ_AHEAD batches ahead');
  } finally {
    await narrow.task.stop();
  }
  // 10 rows of 1 MiB: one batch holds more than the 8 MiB bound
  const wide = await startTask(60, 1024 * 1024);
  try {
    const ra = await settle(wide.task, wide.signal);
    assert.equal(ra.batches, 1, 'wide rows: one batch ahead');
    assert.ok(ra.bytes > 10 * 1024 * 1024, `the batch ahead holds its rows (${ra.bytes} bytes)`);
    // and every row still comes, in order
    const got: number[] = [];
    for (let i = 0; i < 10 && got.length < 60; i++) got.push(...ids(await wide.task.poll(wide.signal)));
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i + 11));
  } finally {
    await wide.task.stop();
  }
});
