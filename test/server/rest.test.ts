import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { api, jdbcConfig, localPg, PASSWORD, randomName, seen, startServerApp, waitFor, type ServerTestApp } from './helpers.js';

let app: ServerTestApp;
let db: pg.Client | null = null;
const tables: string[] = [];

before(async () => {
  app = await startServerApp();
  db = await localPg();
});

after(async () => {
  await app?.dispose();
  if (db) {
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${t}`);
    await db.end();
  }
});

async function makeTable(rows: number): Promise<string> {
  const table = randomName('rest');
  tables.push(table);
  await db!.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL)`);
  if (rows) await db!.query(`INSERT INTO ${table} (name) SELECT 'n' || g FROM generate_series(1, ${rows}) g`);
  return table;
}

const call = (method: string, path: string, body?: unknown) => api(app.url, method, path, body);

function assertConnectError(r: { status: number; body: any }, status: number): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error_code, status);
  assert.equal(typeof r.body.message, 'string');
}

describe('Kafka Connect REST API', () => {
  test('GET / answers version, commit and kafka_cluster_id', async () => {
    const r = await call('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(typeof r.body.version, 'string');
    assert.ok('commit' in r.body && 'kafka_cluster_id' in r.body);
  });

  test('connector-plugins lists the JDBC source with class, type and version, and its config keys as ConfigKeyInfo', async () => {
    const r = await call('GET', '/connector-plugins');
    assert.equal(r.status, 200);
    const jdbc = r.body.find((p: any) => p.class === 'io.confluent.connect.jdbc.JdbcSourceConnector');
    assert.deepEqual(Object.keys(jdbc).sort(), ['class', 'type', 'version']);
    assert.equal(jdbc.type, 'source');
    const c = await call('GET', '/connector-plugins/JdbcSourceConnector/config');
    assert.equal(c.status, 200);
    const url = c.body.find((k: any) => k.name === 'connection.url');
    assert.equal(url.type, 'STRING');
    assert.equal(url.required, true);
    assert.equal(url.importance, 'HIGH');
    for (const key of ['name', 'type', 'required', 'default_value', 'importance', 'documentation', 'group', 'order_in_group', 'width', 'display_name', 'dependents', 'order']) assert.ok(key in url, key);
    assert.equal(c.body.find((k: any) => k.name === 'connection.password').type, 'PASSWORD');
    assertConnectError(await call('GET', '/connector-plugins/NoSuchConnector/config'), 404);
  });

  test('a curl-like script creates a connector, waits for RUNNING, pauses, resumes, stops, reads and resets offsets, and deletes it', async (t) => {
    if (!db) return t.skip('PostgreSQL at 127.0.0.1:5432 is not available');
    const table = await makeTable(10);
    const name = randomName('conn');

    // create
    const created = await call('POST', '/connectors', { name, config: jdbcConfig(table) });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('location'), `/connectors/${name}`);
    assert.deepEqual(Object.keys(created.body).sort(), ['config', 'name', 'tasks', 'type']);
    assert.equal(created.body.name, name);
    assert.equal(created.body.type, 'source');
    assert.equal(created.body.config['connection.password'], '[hidden]');
    assertConnectError(await call('POST', '/connectors', { name, config: jdbcConfig(table) }), 409);

    // wait for RUNNING
    const status = await waitFor(async () => {
      const s = await call('GET', `/connectors/${name}/status`);
      return s.body.connector?.state === 'RUNNING' && s.body.tasks[0]?.state === 'RUNNING' ? s : null;
    }, 'RUNNING');
    assert.ok(status);
    assert.equal(status.status, 200);
    assert.deepEqual(Object.keys(status.body).sort(), ['connector', 'name', 'tasks', 'type']);
    assert.equal(status.body.type, 'source');
    assert.equal(typeof status.body.connector.worker_id, 'string');
    assert.deepEqual(Object.keys(status.body.tasks[0]).sort(), ['id', 'state', 'worker_id']);

    // listing and reading
    assert.ok((await call('GET', '/connectors')).body.includes(name));
    const expanded = await call('GET', '/connectors?expand=status&expand=info');
    assert.equal(expanded.body[name].status.connector.state, 'RUNNING');
    assert.equal(expanded.body[name].info.config['connection.password'], '[hidden]');
    const info = await call('GET', `/connectors/${name}`);
    assert.deepEqual(info.body.tasks, [{ connector: name, task: 0 }]);
    const config = await call('GET', `/connectors/${name}/config`);
    assert.equal(config.body['table.whitelist'], table);
    assert.equal(config.body['connection.password'], '[hidden]');
    const tasks = await call('GET', `/connectors/${name}/tasks`);
    assert.deepEqual(tasks.body[0].id, { connector: name, task: 0 });
    assert.equal(tasks.body[0].config['connection.password'], '[hidden]');
    const taskStatus = await call('GET', `/connectors/${name}/tasks/0/status`);
    assert.deepEqual({ ...taskStatus.body, worker_id: 'w' }, { id: 0, state: 'RUNNING', worker_id: 'w' });
    assertConnectError(await call('GET', `/connectors/${name}/tasks/7/status`), 404);
    const topics = await waitFor(async () => {
      const r = await call('GET', `/connectors/${name}/topics`);
      return r.body[name].topics.length ? r : null;
    }, 'an active topic');
    assert.ok(topics);
    assert.deepEqual(topics.body, { [name]: { topics: [`rest_${table}`] } });

    // pause, resume
    const paused = await call('PUT', `/connectors/${name}/pause`);
    assert.equal(paused.status, 202);
    assert.equal(paused.text, '');
    await waitFor(async () => (await call('GET', `/connectors/${name}/status`)).body.connector.state === 'PAUSED', 'PAUSED');
    assert.equal((await call('GET', `/connectors/${name}/status`)).body.tasks[0].state, 'PAUSED');
    assert.equal((await call('PUT', `/connectors/${name}/resume`)).status, 202);
    await waitFor(async () => (await call('GET', `/connectors/${name}/status`)).body.connector.state === 'RUNNING', 'RUNNING again');

    // offsets need STOPPED
    await waitFor(async () => (await call('GET', `/connectors/${name}/offsets`)).body.offsets.length === 1, 'a committed offset');
    assertConnectError(await call('DELETE', `/connectors/${name}/offsets`), 400);

    // stop
    assert.equal((await call('PUT', `/connectors/${name}/stop`)).status, 202);
    const stopped = await call('GET', `/connectors/${name}/status`);
    assert.equal(stopped.body.connector.state, 'STOPPED');
    assert.deepEqual(stopped.body.tasks, []);

    // read offsets (KIP-875 shape)
    const offsets = await call('GET', `/connectors/${name}/offsets`);
    assert.equal(offsets.status, 200);
    assert.deepEqual(offsets.body, { offsets: [{ partition: { protocol: '1', table: `test.public.${table}` }, offset: { incrementing: 10 } }] });

    // alter, then reset
    const altered = await call('PATCH', `/connectors/${name}/offsets`, { offsets: [{ partition: { protocol: '1', table: `test.public.${table}` }, offset: { incrementing: 4 } }] });
    assert.equal(altered.status, 200, altered.text);
    assert.deepEqual(altered.body, { message: 'The offsets for this connector have been altered successfully' });
    assert.deepEqual((await call('GET', `/connectors/${name}/offsets`)).body.offsets[0].offset, { incrementing: 4 });
    assertConnectError(await call('PATCH', `/connectors/${name}/offsets`, { nope: 1 }), 400);
    const reset = await call('DELETE', `/connectors/${name}/offsets`);
    assert.equal(reset.status, 200);
    assert.deepEqual(reset.body, { message: 'The offsets for this connector have been reset successfully' });
    assert.deepEqual((await call('GET', `/connectors/${name}/offsets`)).body, { offsets: [] });

    // resume from STOPPED: the reset offsets make it read the table again from the start
    assert.equal((await call('PUT', `/connectors/${name}/resume`)).status, 202);
    const again = await waitFor(async () => {
      const o = (await call('GET', `/connectors/${name}/offsets`)).body.offsets;
      return o.length === 1 && o[0].offset.incrementing === 10 ? o : null;
    }, 'offsets back at 10 after the reset');
    assert.equal(again.length, 1);

    // restarts
    const restarted = await call('POST', `/connectors/${name}/restart`);
    assert.equal(restarted.status, 204);
    const withTasks = await call('POST', `/connectors/${name}/restart?includeTasks=true&onlyFailed=false`);
    assert.equal(withTasks.status, 202);
    assert.equal(withTasks.body.name, name);
    assert.ok(Array.isArray(withTasks.body.tasks));
    assert.equal((await call('POST', `/connectors/${name}/tasks/0/restart`)).status, 204);
    assertConnectError(await call('POST', `/connectors/${name}/tasks/5/restart`), 404);

    // topics reset
    assert.equal((await call('PUT', `/connectors/${name}/topics/reset`)).status, 202);

    // delete
    const deleted = await call('DELETE', `/connectors/${name}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assertConnectError(await call('GET', `/connectors/${name}`), 404);
    assertConnectError(await call('GET', `/connectors/${name}/status`), 404);
    assertConnectError(await call('DELETE', `/connectors/${name}`), 404);
    assert.ok(!(await call('GET', '/connectors')).body.includes(name));
  });

  test('PUT and PATCH config create, update and remove keys, and keep the stored password when the mask is sent back', async (t) => {
    if (!db) return t.skip('PostgreSQL at 127.0.0.1:5432 is not available');
    const table = await makeTable(3);
    const name = randomName('cfg');
    const put = await call('PUT', `/connectors/${name}/config`, jdbcConfig(table, { 'batch.max.rows': '50' }));
    assert.equal(put.status, 201, put.text);
    assert.equal(put.body.name, name);
    assert.equal(put.body.config['batch.max.rows'], '50');

    // GET the (masked) config and PUT it back with one change: the real password stays
    const current = (await call('GET', `/connectors/${name}/config`)).body;
    const update = await call('PUT', `/connectors/${name}/config`, { ...current, 'poll.interval.ms': '150' });
    assert.equal(update.status, 200, update.text);
    assert.equal(update.body.config['poll.interval.ms'], '150');
    assert.equal(app.worker.record(name).config['connection.password'], PASSWORD);

    const patched = await call('PATCH', `/connectors/${name}/config`, { 'batch.max.rows': null, 'poll.interval.ms': '200' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.config['poll.interval.ms'], '200');
    assert.ok(!('batch.max.rows' in patched.body.config));
    assert.equal(app.worker.record(name).config['connection.password'], PASSWORD);

    assertConnectError(await call('PATCH', `/connectors/${name}/config`, { mode: 'sideways' }), 400);
    assertConnectError(await call('PUT', `/connectors/${name}/config`, { ...jdbcConfig(table), name: 'other' }), 400);
    assertConnectError(await call('PATCH', `/connectors/${randomName('none')}/config`, { mode: 'bulk' }), 404);
    assert.equal((await call('DELETE', `/connectors/${name}`)).status, 204);
  });

  test('POST /connectors honours initial_state and rejects bad requests with Connect error bodies', async (t) => {
    if (!db) return t.skip('PostgreSQL at 127.0.0.1:5432 is not available');
    const table = await makeTable(1);
    const name = randomName('init');
    const r = await call('POST', '/connectors', { name, config: jdbcConfig(table), initial_state: 'STOPPED' });
    assert.equal(r.status, 201, r.text);
    assert.equal((await call('GET', `/connectors/${name}/status`)).body.connector.state, 'STOPPED');
    const p = randomName('paused');
    assert.equal((await call('POST', '/connectors', { name: p, config: jdbcConfig(table), initial_state: 'PAUSED' })).status, 201);
    assert.equal((await call('GET', `/connectors/${p}/status`)).body.connector.state, 'PAUSED');
    assertConnectError(await call('POST', '/connectors', { name: randomName('x'), config: jdbcConfig(table), initial_state: 'SLEEPING' }), 400);
    assertConnectError(await call('POST', '/connectors', { config: jdbcConfig(table) }), 400);
    assertConnectError(await call('POST', '/connectors', '{not json'), 400);
    const bad = await call('POST', '/connectors', { name: randomName('bad'), config: { ...jdbcConfig(table), mode: 'sideways' } });
    assertConnectError(bad, 400);
    assert.match(bad.body.message, /mode/);
    assert.equal((await call('DELETE', `/connectors/${name}`)).status, 204);
    assert.equal((await call('DELETE', `/connectors/${p}`)).status, 204);
  });

  test('unknown endpoints answer 404 and wrong methods 405, in Connect error bodies', async () => {
    assertConnectError(await call('GET', '/nope'), 404);
    assertConnectError(await call('POST', '/connector-plugins'), 405);
    assertConnectError(await call('DELETE', '/connectors'), 405);
  });

  test('admin/loggers reads and sets the level', async () => {
    const all = await call('GET', '/admin/loggers');
    assert.equal(all.status, 200);
    assert.equal(typeof all.body.root.level, 'string');
    const set = await call('PUT', '/admin/loggers/root', { level: 'ERROR' });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body, ['root']);
    assert.equal((await call('GET', '/admin/loggers/root')).body.level, 'ERROR');
    assertConnectError(await call('PUT', '/admin/loggers/root', { level: 'LOUD' }), 400);
  });
});

describe('config/validate', () => {
  test('a broken config gets per-key errors with the words CREATE uses', async () => {
    const table = randomName('never');
    const broken = { ...jdbcConfig(table), mode: 'sideways', 'connection.url': 'mysql://db/x', 'tabel.whitelist': 'x', 'poll.interval.ms': 'soon' };
    delete (broken as Record<string, string>)['incrementing.column.name'];
    const v = await call('PUT', '/connector-plugins/io.confluent.connect.jdbc.JdbcSourceConnector/config/validate', broken);
    assert.equal(v.status, 200, v.text);
    assert.equal(v.body.name, 'io.confluent.connect.jdbc.JdbcSourceConnector');
    assert.ok(Array.isArray(v.body.groups) && v.body.groups.length > 0);
    const byKey = new Map<string, any>(v.body.configs.map((c: any) => [c.value.name, c]));
    for (const key of ['mode', 'tabel.whitelist', 'poll.interval.ms']) {
      assert.ok(byKey.get(key)?.value.errors.length > 0, `errors for ${key}: ${JSON.stringify(byKey.get(key))}`);
    }
    assert.deepEqual(byKey.get('table.whitelist').value.errors, []);
    assert.equal(v.body.error_count, v.body.configs.reduce((n: number, c: any) => n + c.value.errors.length, 0));
    assert.equal(byKey.get('connection.password').value.value, '[hidden]');
    const def = byKey.get('mode').definition;
    for (const k of ['name', 'type', 'required', 'default_value', 'importance', 'documentation', 'group']) assert.ok(k in def, k);
    assert.ok(byKey.get('mode').value.recommended_values.includes('incrementing'));
    assert.equal(byKey.get('mode').value.visible, true);

    // CREATE says the same things
    const create = await call('POST', '/connectors', { name: randomName('broken'), config: broken });
    assert.equal(create.status, 400);
    for (const c of v.body.configs) for (const e of c.value.errors) assert.ok(create.body.message.includes(e), `CREATE's message lacks '${e}':\n${create.body.message}`);

    // value checks (like the URL's) run once the keys themselves are right, in CREATE as here
    const badUrl = { ...jdbcConfig(table), 'connection.url': 'mysql://db/x' };
    const u = await call('PUT', '/connector-plugins/JdbcSourceConnector/config/validate', badUrl);
    assert.equal(u.body.error_count, 1, u.text);
    const urlErrors = u.body.configs.find((c: any) => c.value.name === 'connection.url').value.errors;
    assert.match(urlErrors[0], /mysql:\/\/db\/x/);
    const create2 = await call('POST', '/connectors', { name: randomName('broken'), config: badUrl });
    assert.ok(create2.body.message.includes(urlErrors[0]));
  });

  test('a valid config has no errors, and the connector class may come from the path alone', async (t) => {
    if (!db) return t.skip('PostgreSQL at 127.0.0.1:5432 is not available');
    const table = await makeTable(0);
    const cfg = jdbcConfig(table);
    delete (cfg as Record<string, string>)['connector.class'];
    const v = await call('PUT', '/connector-plugins/JdbcSourceConnector/config/validate', cfg);
    assert.equal(v.status, 200, v.text);
    assert.equal(v.body.error_count, 0, v.text);
  });

  test('an unreachable database is reported on its key without leaking the password from the URL', async () => {
    const cfg = { ...jdbcConfig('x'), 'connection.url': `jdbc:postgresql://127.0.0.1:1/test?password=${PASSWORD}` };
    const v = await call('PUT', '/connector-plugins/JdbcSourceConnector/config/validate', cfg);
    assert.equal(v.status, 200);
    assert.ok(v.body.error_count > 0);
    assert.ok(!v.text.includes(PASSWORD));
  });

  test('a mismatched connector class in the body is refused', async (t) => {
    const other = (await call('GET', '/connector-plugins')).body.find((p: any) => p.class !== 'io.confluent.connect.jdbc.JdbcSourceConnector');
    if (!other) return t.skip('only one connector plug-in is registered');
    assertConnectError(await call('PUT', '/connector-plugins/JdbcSourceConnector/config/validate', { 'connector.class': other.class }), 400);
  });
});

describe('secrets', () => {
  test('no response contains the password', () => {
    assert.ok(seen.length > 20);
    const leaks = seen.filter((s) => s.includes(PASSWORD));
    assert.deepEqual(leaks, []);
  });
});
