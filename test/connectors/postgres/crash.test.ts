/**
 * kill -9 of `tributary server` (a child process) during the snapshot and during streaming: after a restart every
 * change is present once or as a replayed suffix, per key in commit order, and the slot's confirmed_flush_lsn never
 * covers an event that was not yet in the embedded log.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { waitFor } from '../../helpers/app.js';
import { embeddedPg18, stopFixture, rnd, cleanupSlot } from './pg-fixture.js';
import { checkReplayOrder, createConnector, flushViolations, readTopic, sampleFlush, topicEnd } from './proc-fixture.js';

after(async () => {
  await stopFixture();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connectorConfig(s: Awaited<ReturnType<typeof embeddedPg18>>, names: { slot: string; pub: string; prefix: string }, table: string, extra: Record<string, unknown> = {}) {
  return {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'database.hostname': s.host, 'database.port': s.port, 'database.user': s.user, 'database.password': s.password,
    'database.dbname': s.database, 'topic.prefix': names.prefix, 'slot.name': names.slot, 'publication.name': names.pub,
    'publication.autocreate.mode': 'filtered', 'table.include.list': `public\\.${table}`,
    'provide.transaction.metadata': 'true', 'status.update.interval.ms': '200', 'offset.flush.interval.ms': '200',
    ...extra,
  };
}

test('the delivery checkers catch a gap, a skip inside a replay, and a flush position ahead of the log', () => {
  assert.deepEqual(checkReplayOrder([1, 2, 3, 2, 3, 4, 5], 5), { restarts: 1, problems: [] });
  assert.match(checkReplayOrder([1, 2, 4, 5], 5).problems.join(), /gap at log index 2/);
  assert.match(checkReplayOrder([1, 2, 3, 1, 3, 4], 4).problems.join(), /skip/);
  const ev = (offset: number, commit: number, order: number) => ({ offset, value: { payload: { transaction: { id: `7:${commit}`, total_order: order } } } });
  const events = [ev(0, 100, 1), ev(1, 100, 2), ev(2, 200, 1)];
  assert.deepEqual(flushViolations(events, [{ at: 0, flush: 150, logEnd: 2 }]), []);
  assert.equal(flushViolations(events, [{ at: 0, flush: 150, logEnd: 1 }]).length, 1);
  assert.equal(flushViolations(events, [{ at: 0, flush: 250, logEnd: 2 }]).length, 1);
});

test('kill -9 during the snapshot of 200k rows: the snapshot is redone, later changes stream without gap, duplicate or reordering', async (t) => {
  const s = await embeddedPg18();
  const table = rnd('snap');
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const topic = `${names.prefix}.public.${table}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-pgcrash-'));
  const c = await s.client();
  let server: ServerProcess | null = null;
  let writing = true;
  let writer: Promise<void> | null = null;
  const writes: Array<{ w: number; at: number }> = [];
  try {
    const N = 200_000;
    await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, w bigint NOT NULL, pad text)`);
    await c.query(`INSERT INTO ${table} SELECT g, 0, repeat('x', 120) FROM generate_series(1, ${N}) g`);
    server = await startServerProcess(dataDir);
    const sampler = sampleFlush(s, names.slot, dataDir, topic);
    await createConnector(server.url, 'snap', connectorConfig(s, names, table, { 'snapshot.fetch.size': 1000, 'max.batch.size': 500, 'max.queue.size': 2000 }));
    // one writer: updates of existing rows and inserts of new ones, each with a unique, increasing w
    let w = 0;
    let nextId = N + 1;
    const wc = await s.client();
    writer = (async () => {
      while (writing) {
        w++;
        if (w % 3 === 0) await wc.query(`INSERT INTO ${table} VALUES ($1, $2, 'new')`, [nextId++, w]);
        else await wc.query(`UPDATE ${table} SET w = $2 WHERE id = $1`, [1 + ((w * 7919) % N), w]);
        writes.push({ w, at: Date.now() });
        await sleep(5);
      }
      await wc.end();
    })();
    await waitFor(async () => (await topicEnd(dataDir, topic)) >= 30_000, 'part of the snapshot in the log', 60_000, 50);
    const t0 = Date.now();
    await server.kill('SIGKILL');
    const partial = await readTopic(dataDir, topic);
    assert.ok(partial.length < N, `the snapshot was still running at the kill (${partial.length} records)`);
    assert.ok(!partial.some((e) => e.value?.payload?.source?.snapshot === 'last'), 'the snapshot had not finished');
    await sleep(500);
    server = await startServerProcess(dataDir, { port: server.port });
    // wait for the redone snapshot to finish, then keep writing a little so that changes stream after it
    // the redone snapshot holds at least N rows: its 'last' record lies at or after partial + N - 1 (reading the tail only)
    await waitFor(async () => (await topicEnd(dataDir, topic)) >= partial.length + N, 'the snapshot redone', 90_000, 250);
    await waitFor(async () => {
      const evs = await readTopic(dataDir, topic, partial.length + N - 1);
      return evs.some((e) => e.value?.payload?.source?.snapshot === 'last');
    }, 'the snapshot redone to its end', 90_000, 250);
    const snapshotDoneAt = Date.now();
    t.diagnostic(`redo snapshot took ${snapshotDoneAt - t0} ms`);
    await sleep(1500);
    writing = false;
    await writer;
    const final = new Map<number, number>();
    for (const r of (await c.query(`SELECT id, w FROM ${table}`)).rows) final.set(r.id, Number(r.w));
    const lastW = writes.at(-1)!.w;
    await waitFor(async () => {
      const end = await topicEnd(dataDir, topic);
      const evs = await readTopic(dataDir, topic, Math.max(0, end - 500));
      return evs.some((e) => Number(e.value?.payload?.after?.w) === lastW);
    }, `the last write (w=${lastW}) streamed`, 60_000, 250);
    const events = await readTopic(dataDir, topic);
    const samples = await sampler.stop();
    await server.kill('SIGKILL');
    server = null;

    // the second snapshot starts at its 'first' record after the partial one
    const secondStart = events.findIndex((e, i) => i >= partial.length && e.value?.payload?.source?.snapshot === 'first');
    assert.ok(secondStart >= partial.length, 'a second snapshot was taken');
    const perKey = new Map<number, number[]>();
    const perKeySecond = new Map<number, number[]>();
    for (let i = 0; i < events.length; i++) {
      const p = events[i]!.value?.payload;
      if (!p) continue; // tombstones (none here)
      const row = p.after ?? p.before;
      (perKey.get(row.id) ?? perKey.set(row.id, []).get(row.id)!).push(Number(row.w));
      if (i >= secondStart) (perKeySecond.get(row.id) ?? perKeySecond.set(row.id, []).get(row.id)!).push(Number(row.w));
    }
    const problems: string[] = [];
    for (const [id, w] of final) {
      const seq = perKeySecond.get(id);
      if (!seq) { problems.push(`id ${id} missing after the restart`); continue; }
      for (let i = 1; i < seq.length; i++) if (seq[i]! <= seq[i - 1]!) problems.push(`id ${id}: w ${seq[i]} after ${seq[i - 1]} (duplicate or reordered)`);
      if (seq.at(-1) !== w) problems.push(`id ${id}: last event w=${seq.at(-1)}, table has ${w}`);
      const all = perKey.get(id)!;
      for (let i = 1; i < all.length; i++) if (all[i]! < all[i - 1]!) problems.push(`id ${id}: goes back from w ${all[i - 1]} to ${all[i]}`);
      if (problems.length > 10) break;
    }
    assert.deepEqual(problems, []);
    assert.equal(perKeySecond.size, final.size, 'no key outside the table');
    // writes made after the redone snapshot finished are each present as a stream event
    const streamed = new Set(events.slice(secondStart).filter((e) => e.value?.payload?.op !== 'r').map((e) => Number(e.value.payload.after.w)));
    const late = writes.filter((x) => x.at > snapshotDoneAt + 200);
    assert.ok(late.length > 10, `writes after the snapshot (${late.length})`);
    assert.deepEqual(late.filter((x) => !streamed.has(x.w)).map((x) => x.w), []);
    assert.deepEqual(flushViolations(events, samples), []);
    t.diagnostic(`partial snapshot ${partial.length} records, log ${events.length} records, ${late.length} writes after the snapshot, flush samples ${samples.length}`);
    assert.ok(samples.length > 5, `flush samples taken (${samples.length})`);
  } finally {
    writing = false;
    await writer?.catch(() => undefined);
    await server?.kill('SIGKILL');
    await cleanupSlot(s, names.slot, names.pub).catch(() => undefined);
    await c.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await c.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('kill -9 twice while streaming single-row transactions and a COPY of 10k rows: nothing lost, duplicates only as a replayed suffix, flush never ahead of the log', async (t) => {
  const s = await embeddedPg18();
  const table = rnd('stream');
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const topic = `${names.prefix}.public.${table}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-pgcrash-'));
  const copyFile = join(tmpdir(), `${rnd('copy')}.tsv`);
  const c = await s.client();
  let server: ServerProcess | null = null;
  try {
    await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, w bigint NOT NULL, pad text)`);
    server = await startServerProcess(dataDir);
    await createConnector(server.url, 'stream', connectorConfig(s, names, table, { 'max.batch.size': 500 }));
    const sampler = sampleFlush(s, names.slot, dataDir, topic);
    await waitFor(async () => {
      const r = await c.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [names.slot]);
      return r.rows[0]?.active === true;
    }, 'streaming started', 30_000);

    const SINGLE_BEFORE = 1500;
    const COPY_ROWS = 10_000;
    const SINGLE_AFTER = 1500;
    const n = SINGLE_BEFORE + COPY_ROWS + SINGLE_AFTER;
    const lines: string[] = [];
    for (let i = 1; i <= COPY_ROWS; i++) lines.push(`${SINGLE_BEFORE + i}\t${SINGLE_BEFORE + i}\tcopy-${'y'.repeat(100)}`);
    writeFileSync(copyFile, lines.join('\n') + '\n');
    chmodSync(copyFile, 0o644);

    let w = 0;
    const single = async (count: number) => {
      for (let i = 0; i < count; i++) {
        w++;
        // alternately a new row, and an update of an earlier row (keys see several events each)
        if (w % 4 === 0 && w > 10) await c.query(`UPDATE ${table} SET w = $2, pad = 'u' WHERE id = $1`, [w - 9 - ((w - 9) % 4 === 0 ? 1 : 0), w]);
        else await c.query(`INSERT INTO ${table} VALUES ($1::int, $1::bigint, 'single')`, [w]);
      }
    };
    // kill 1: while the COPY transaction is being delivered
    const writer = (async () => {
      await single(SINGLE_BEFORE);
      await c.query(`COPY ${table} (id, w, pad) FROM '${copyFile}'`);
      w += COPY_ROWS;
      await single(SINGLE_AFTER);
    })();
    let writerError: unknown = null;
    writer.catch((e) => { writerError = e; });
    const progress = async () => {
      if (writerError) throw writerError;
      return topicEnd(dataDir, topic);
    };
    await waitFor(async () => (await progress()) >= SINGLE_BEFORE + 3000, 'part of the COPY in the log', 60_000, 20);
    await server.kill('SIGKILL');
    const atKill1 = await topicEnd(dataDir, topic);
    await sleep(300);
    server = await startServerProcess(dataDir, { port: server.port });
    // kill 2: during the single-row transactions after the COPY
    await waitFor(async () => (await progress()) >= atKill1 + 200, 'progress after the first restart', 60_000, 20);
    await waitFor(async () => (await progress()) >= SINGLE_BEFORE + COPY_ROWS + 600 || w >= n, 'single-row writes after the COPY', 60_000, 20);
    await server.kill('SIGKILL');
    await sleep(300);
    server = await startServerProcess(dataDir, { port: server.port });
    await writer;
    assert.equal(w, n);

    // w of each event; updates of earlier rows carry their own w, so the log order is checkable against 1..n
    const events = await waitFor(async () => {
      const evs = await readTopic(dataDir, topic);
      return evs.some((e) => Number(e.value?.payload?.after?.w) === n) ? evs : null;
    }, 'every write in the log', 90_000, 250);
    const samples = await sampler.stop();
    const ws = events.filter((e) => e.value).map((e) => Number(e.value.payload.after.w));
    const { restarts, problems } = checkReplayOrder(ws, n);
    assert.deepEqual(problems, []);
    assert.ok(restarts <= 2, `at most one replay per kill (${restarts})`);
    t.diagnostic(`log records ${ws.length} for ${n} writes, replays ${restarts}, first kill at log end ${atKill1}, flush samples ${samples.length}`);
    assert.deepEqual(flushViolations(events, samples), []);
    assert.ok(samples.length > 10, `flush samples taken (${samples.length})`);
    // the slot ends at (or past) the last transaction once everything is acknowledged
    await waitFor(async () => {
      const r = await c.query('SELECT confirmed_flush_lsn >= pg_current_wal_lsn() AS caught FROM pg_replication_slots WHERE slot_name = $1', [names.slot]);
      return r.rows[0]?.caught === true;
    }, 'slot caught up', 20_000);
  } finally {
    await server?.kill('SIGKILL');
    await cleanupSlot(s, names.slot, names.pub).catch(() => undefined);
    await c.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await c.end();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(copyFile, { force: true });
  }
});
