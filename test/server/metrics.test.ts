import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { api, jdbcConfig, localPg, PASSWORD, parsePrometheus, randomName, sampleValue, startServerApp, waitFor, type ServerTestApp } from './helpers.js';
import { observeBatchLatency } from '../../src/server/metrics.js';

let app: ServerTestApp;
let db: pg.Client | null = null;
let table = '';

before(async () => {
  app = await startServerApp();
  db = await localPg();
});

after(async () => {
  await app?.dispose();
  if (db) {
    if (table) await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
  }
});

async function scrape() {
  const r = await api(app.url, 'GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.ok(!r.text.includes(PASSWORD));
  return parsePrometheus(r.text);
}

describe('metrics and health', () => {
  test('the parser rejects what the text format does not allow', () => {
    assert.throws(() => parsePrometheus('a{b="c} 1\n'));
    assert.throws(() => parsePrometheus('a 1 2 3\n'));
    assert.throws(() => parsePrometheus('# TYPE a counter\n# TYPE a gauge\n'));
    assert.throws(() => parsePrometheus('a one\n'));
    assert.equal(parsePrometheus('# TYPE a counter\na_total{x="1\\"2"} 3\n').get('a_total')?.samples[0]?.labels.x, '1"2');
  });

  test('/metrics parses and its counters move while rows are inserted', async (t) => {
    if (!db) return t.skip('PostgreSQL at 127.0.0.1:5432 is not available');
    table = randomName('metrics');
    await db.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL)`);
    await db.query(`INSERT INTO ${table} (name) SELECT 'n' || g FROM generate_series(1, 5) g`);
    const name = randomName('m');
    assert.equal((await api(app.url, 'POST', '/connectors', { name, config: jdbcConfig(table) })).status, 201);
    const l = { connector: name, task: '0' };

    const first = await waitFor(async () => {
      const f = await scrape();
      return (sampleValue(f, 'tributary_task_records_written_total', l) ?? 0) >= 5 ? f : null;
    }, '5 records written');
    assert.ok(first);
    // every family is typed and helped; counters end in _total; states are one-hot
    for (const f of first.values()) {
      assert.ok(f.type, `${f.name} has a TYPE`);
      assert.ok(f.help, `${f.name} has a HELP`);
      if (f.type === 'counter') assert.match(f.name, /_total$/);
    }
    assert.equal(sampleValue(first, 'tributary_task_state', { ...l, state: 'RUNNING' }), 1);
    assert.equal(sampleValue(first, 'tributary_task_state', { ...l, state: 'PAUSED' }), 0);
    assert.equal(sampleValue(first, 'tributary_connector_state', { connector: name, state: 'RUNNING' }), 1);
    assert.equal(sampleValue(first, 'tributary_task_records_polled_total', l), 5);
    assert.ok((sampleValue(first, 'tributary_task_bytes_written_total', l) ?? 0) > 0);
    assert.ok((sampleValue(first, 'tributary_task_batches_total', l) ?? 0) >= 1);
    assert.equal(typeof sampleValue(first, 'tributary_task_inflight_records', l), 'number');
    assert.equal(typeof sampleValue(first, 'tributary_task_inflight_bytes', l), 'number');
    assert.ok((sampleValue(first, 'process_resident_memory_bytes', {}) ?? 0) > 0);

    // data flows: counters move
    for (let i = 0; i < 3; i++) {
      await db.query(`INSERT INTO ${table} (name) SELECT 'more' || g FROM generate_series(1, 10) g`);
      await new Promise((r) => setTimeout(r, 150));
    }
    const later = await waitFor(async () => {
      const f = await scrape();
      return (sampleValue(f, 'tributary_task_records_written_total', l) ?? 0) >= 35 ? f : null;
    }, '35 records written');
    assert.ok(later);
    assert.equal(sampleValue(later, 'tributary_task_records_polled_total', l), 35);
    assert.ok(sampleValue(later, 'tributary_task_bytes_written_total', l)! > sampleValue(first, 'tributary_task_bytes_written_total', l)!);
    assert.ok(sampleValue(later, 'tributary_task_batches_total', l)! > sampleValue(first, 'tributary_task_batches_total', l)!);
    await waitFor(async () => (sampleValue(await scrape(), 'tributary_task_offset_commits_total', l) ?? 0) > 0, 'an offset commit');

    // paused shows in the state gauge
    await api(app.url, 'PUT', `/connectors/${name}/pause`);
    const paused = await scrape();
    assert.equal(sampleValue(paused, 'tributary_task_state', { ...l, state: 'PAUSED' }), 1);
    assert.equal((await api(app.url, 'DELETE', `/connectors/${name}`)).status, 204);
  });

  test('the batch latency histogram has cumulative buckets, a sum and a count', async () => {
    observeBatchLatency('hist', 0, 0.003);
    observeBatchLatency('hist', 0, 0.2);
    const f = await scrape();
    const fam = f.get('tributary_task_batch_latency_seconds');
    assert.equal(fam?.type, 'histogram');
    const l = { connector: 'hist', task: '0' };
    assert.equal(sampleValue(f, 'tributary_task_batch_latency_seconds_bucket', { ...l, le: '0.001' }), 0);
    assert.equal(sampleValue(f, 'tributary_task_batch_latency_seconds_bucket', { ...l, le: '0.005' }), 1);
    assert.equal(sampleValue(f, 'tributary_task_batch_latency_seconds_bucket', { ...l, le: '0.25' }), 2);
    assert.equal(sampleValue(f, 'tributary_task_batch_latency_seconds_bucket', { ...l, le: '+Inf' }), 2);
    assert.equal(sampleValue(f, 'tributary_task_batch_latency_seconds_count', l), 2);
    assert.ok(Math.abs(sampleValue(f, 'tributary_task_batch_latency_seconds_sum', l)! - 0.203) < 1e-9);
  });

  test('/health answers liveness and readiness', async () => {
    const h = await api(app.url, 'GET', '/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.live, true);
    assert.equal(typeof h.body.ready, 'boolean');
    assert.equal((await api(app.url, 'GET', '/health/live')).status, 200);
    assert.equal((await api(app.url, 'GET', '/health/ready')).status, 200);
  });
});
