import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type pg from 'pg';
import { createHttpServer } from '../../src/server/http.js';
import { createLogger } from '../../src/runtime/logger.js';
import { api, jdbcConfig, localPg, PASSWORD, randomName, startServerApp, waitFor, type ServerTestApp } from './helpers.js';

let app: ServerTestApp;
let db: pg.Client | null = null;
let table = '';
const servers: Server[] = [];

before(async () => {
  app = await startServerApp();
  db = await localPg();
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections?.();
    await new Promise((r) => s.close(() => r(undefined)));
  }
  await app?.dispose();
  if (db) {
    if (table) await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
  }
});

describe('web console', () => {
  test('the page is served self-contained, with a strict content security policy and a script that parses', async () => {
    const r = await fetch(app.url + '/console');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(r.headers.get('content-security-policy') ?? '', /connect-src 'self'/);
    const html = await r.text();
    assert.ok(!/\bhttps?:\/\//.test(html), 'no external resources');
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
    assert.ok(script);
    assert.doesNotThrow(() => new Function(script!));
    assert.ok(!/innerHTML/.test(script!), 'data never reaches the DOM as HTML');
  });

  test('the overview shows a running connector with its masked config and moving counters, and the topic viewer its latest records', async (t) => {
    if (!db) return t.skip('PostgreSQL at 127.0.0.1:5432 is not available');
    table = randomName('console');
    await db.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL)`);
    await db.query(`INSERT INTO ${table} (name) SELECT 'n' || g FROM generate_series(1, 30) g`);
    const name = randomName('c');
    assert.equal((await api(app.url, 'POST', '/connectors', { name, config: jdbcConfig(table) })).status, 201);
    const o = await waitFor(async () => {
      const r = await api(app.url, 'GET', '/console/api/overview');
      const c = r.body.connectors.find((x: any) => x.name === name);
      return c && c.state === 'RUNNING' && c.metrics.written >= 30 ? r : null;
    }, 'the connector running with 30 records written');
    assert.ok(o);
    const c = o.body.connectors.find((x: any) => x.name === name);
    assert.equal(c.config['connection.password'], '[hidden]');
    assert.deepEqual(c.tasks.map((x: any) => x.state), ['RUNNING']);
    assert.ok(!o.text.includes(PASSWORD));

    const topics = await api(app.url, 'GET', '/console/api/topics');
    assert.ok(topics.body.some((x: any) => x.name === `rest_${table}`));
    const latest = await api(app.url, 'GET', `/console/api/topics/rest_${table}/latest?n=5`);
    assert.equal(latest.status, 200, latest.text);
    assert.equal(latest.body.records.length, 5);
    assert.deepEqual(latest.body.records.map((r: any) => JSON.parse(r.value).payload?.id ?? JSON.parse(r.value).id), [26, 27, 28, 29, 30]);
    assert.equal((await api(app.url, 'GET', '/console/api/topics/nope_nope/latest')).status, 404);
    assert.equal((await api(app.url, 'DELETE', `/connectors/${name}`)).status, 204);
  });

  test('behind a token the page loads but its data needs the token', async () => {
    const server = createHttpServer(app.worker, createLogger(), { auth: { token: 'console-token-0123456789', ignoreEnv: true } });
    servers.push(server);
    await new Promise<void>((res) => server.listen(0, '0.0.0.0', () => res()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.equal((await fetch(base + '/console')).status, 200);
    assert.equal((await api(base, 'GET', '/console/api/overview')).status, 401);
    assert.equal((await api(base, 'GET', '/console/api/overview', undefined, { authorization: 'Bearer console-token-0123456789' })).status, 200);
  });
});
