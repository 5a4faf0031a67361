import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TributaryError } from '../../../src/sdk/errors.js';
import { embeddedPg, randomName, stopEmbeddedPg, type PgTarget } from '../../helpers/postgres.js';
import { startTestApp, waitFor, type TestApp } from '../../helpers/app.js';
import { freePort } from '../../../src/connectors/embedded-postgres/index.js';

let pg: PgTarget;
let app: TestApp;
before(async () => {
  pg = await embeddedPg();
  app = await startTestApp();
});
after(async () => {
  await app.dispose();
  await stopEmbeddedPg();
});

const base = (url: string, extra = '') => `CREATE SOURCE CONNECTOR X_${randomName('c')} WITH (
  'connector.class' = 'io.confluent.connect.jdbc.JdbcSourceConnector',
  'connection.url' = '${url}',
  'connection.user' = 'postgres',
  'connection.password' = 'postgres',
  'mode' = 'incrementing',
  'topic.prefix' = 'e_'${extra}
);`;

async function rejects(script: string): Promise<TributaryError> {
  try {
    await app.sql(script);
  } catch (e) {
    assert.ok(e instanceof TributaryError, `expected a TributaryError, got ${e}`);
    return e;
  }
  assert.fail('the statement was accepted');
}

test('a broken statement reports its line and column and creates nothing', async () => {
  const before = app.worker.names().length;
  const e = await rejects(`CREATE SOURCE CONNECTOR ok WITH ('connector.class'='jdbc', 'mode'='bulk');\nCREATE SOURCE CONNECTOR bad WITH (\n 'a' = 'b'\n 'c' = 'd');`);
  assert.equal(e.code, 'sql.syntax');
  assert.match(e.message, /line 4, column 2/);
  assert.equal(app.worker.names().length, before, 'the valid first statement must not run either');
});

test('an unknown key is named with the nearest known key', async () => {
  const e = await rejects(base(pg.jdbcUrl, `, 'incrementing.colum.name' = 'id'`));
  assert.equal(e.code, 'config.invalid');
  assert.match(e.message, /Unknown configuration key 'incrementing\.colum\.name'/);
  assert.match(e.message, /did you mean 'incrementing\.column\.name'/);
});

test('all missing required keys are listed at once', async () => {
  const e = await rejects(`CREATE SOURCE CONNECTOR m WITH ('connector.class' = 'io.confluent.connect.jdbc.JdbcSourceConnector');`);
  for (const k of ['connection.url', 'mode', 'topic.prefix']) assert.match(e.message, new RegExp(`Missing required configuration '${k.replace('.', '\\.')}'`));
});

test('an unknown connector class suggests the nearest one', async () => {
  const e = await rejects(`CREATE SOURCE CONNECTOR u WITH ('connector.class' = 'io.confluent.connect.jdbc.JdbcSourceConector');`);
  assert.match(e.message, /did you mean 'io\.confluent\.connect\.jdbc\.JdbcSourceConnector'/);
});

test('a wrong password is reported as an authentication failure without showing the password', async () => {
  const e = await rejects(base(pg.jdbcUrl).replace("'connection.password' = 'postgres'", "'connection.password' = 'Wr0ngSecret'"));
  assert.match(e.message, /authentication failed/i);
  assert.match(e.message, /connection\.password|password/);
  assert.doesNotMatch(e.message, /Wr0ngSecret/);
});

test('an unreachable host gives a clear error naming the host', async () => {
  const port = await freePort();
  const e = await rejects(base(`jdbc:postgresql://127.0.0.1:${port}/postgres`));
  assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.match(e.message, /cannot reach the database/);
});

test('a nullable incrementing column is refused at CREATE time', async () => {
  const table = randomName('nn');
  const c = await pg.client();
  try {
    await c.query(`CREATE TABLE ${table} (id int, v text)`);
    const e = await rejects(base(pg.jdbcUrl, `, 'incrementing.column.name' = 'id', 'table.whitelist' = '${table}'`));
    assert.match(e.message, /because this column is nullable/);
    assert.match(e.message, /validate\.non\.null/);
  } finally {
    await c.query(`DROP TABLE ${table}`);
    await c.end();
  }
});

test('a table name with quotes and a semicolon is read as data, never executed', async () => {
  const evil = `evil"; DROP TABLE victim_${randomName('v')}; --`;
  const victim = randomName('victim');
  const c = await pg.client();
  const q = (s: string) => '"' + s.replace(/"/g, '""') + '"';
  try {
    await c.query(`CREATE TABLE ${victim} (id int)`);
    await c.query(`CREATE TABLE ${q(evil)} (id serial PRIMARY KEY, v text NOT NULL)`);
    await c.query(`INSERT INTO ${q(evil)} (v) VALUES ('one'), ('two')`);
    const name = randomName('evil');
    await app.sql(`CREATE SOURCE CONNECTOR ${name} WITH (
      'connector.class' = 'jdbc', 'connection.url' = '${pg.jdbcUrl}', 'connection.user' = 'postgres', 'connection.password' = 'postgres',
      'mode' = 'incrementing', 'incrementing.column.name' = 'id', 'topic.prefix' = 'x_',
      'table.whitelist' = '${evil.replace(/'/g, "''")}', 'value.converter.schemas.enable' = 'false', 'poll.interval.ms' = '100');`);
    const topic = 'x_' + evil;
    // topic names must be valid, so the embedded log refuses this one: the connector fails cleanly instead
    const st = await waitFor(() => {
      const s = app.worker.status(name.toUpperCase());
      return s.tasks.length && s.tasks[0]!.state !== 'RUNNING' ? s : null;
    }, 'the task to fail on the invalid topic name', 10_000).catch(() => null);
    const recs = await app.records(topic).catch(() => []);
    assert.ok(st?.tasks[0]?.state === 'FAILED' || recs.length === 2, 'either the rows arrive or the task fails with a topic-name error');
    const still = await c.query(`SELECT to_regclass($1) AS r`, [victim]);
    assert.equal(still.rows[0].r, victim, 'the other table still exists');
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${q(evil)}`);
    await c.query(`DROP TABLE IF EXISTS ${victim}`);
    await c.end();
  }
});

test('DESCRIBE CONNECTOR and every config output mask the password', async () => {
  const table = randomName('m');
  const c = await pg.client();
  try {
    await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY)`);
    const name = randomName('mask').toUpperCase();
    const url = pg.jdbcUrl + '?password=postgres';
    const created = await app.sql(`CREATE SOURCE CONNECTOR ${name} WITH ('connector.class'='jdbc', 'connection.url'='${url}', 'connection.user'='postgres', 'connection.password'='postgres', 'mode'='incrementing', 'topic.prefix'='m_', 'table.whitelist'='${table}');`);
    const described = await app.sql(`DESCRIBE CONNECTOR ${name};`);
    const text = JSON.stringify([created, described, app.worker.maskedConfig(name)]);
    // the password equals the user name here, so look for it where it is the password
    assert.doesNotMatch(text, /password'\s*=\s*'postgres'|password\\?":\\?"postgres|password=postgres/);
    assert.match(text, /\[hidden\]/);
  } finally {
    await c.query(`DROP TABLE ${table}`);
    await c.end();
  }
});

test('a value the source cannot represent fails the task even with errors.tolerance=all (it is not a converter error)', async () => {
  const c = await pg.client();
  const table = randomName('nan');
  try {
    await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, amount numeric(8,2))`);
    await c.query(`INSERT INTO ${table} (amount) VALUES (1.50), ('NaN'), (2.25)`);
  } finally {
    await c.end();
  }
  const name = `NAN_${randomName('c')}`.toUpperCase();
  await app.sql(`CREATE SOURCE CONNECTOR ${name} WITH (
    'connector.class' = 'io.confluent.connect.jdbc.JdbcSourceConnector', 'connection.url' = '${pg.jdbcUrl}',
    'connection.user' = 'postgres', 'connection.password' = 'postgres', 'mode' = 'incrementing', 'incrementing.column.name' = 'id',
    'table.whitelist' = '${table}', 'topic.prefix' = 'nan_', 'errors.tolerance' = 'all');`);
  const st = await waitFor(() => {
    const s = app.worker.status(name);
    return s.tasks[0]?.state === 'FAILED' ? s : null;
  }, 'the task fails');
  assert.match(st.tasks[0]!.trace ?? '', /NUMERIC value NaN cannot be represented as a Connect Decimal/);
  // nothing after the bad row was committed past it: the committed offset is below the NaN row
  const offsets = await app.worker.offsets(name);
  assert.ok(offsets.every((o) => Number((o.offset as { incrementing?: number }).incrementing ?? 0) < 2), JSON.stringify(offsets));
});
