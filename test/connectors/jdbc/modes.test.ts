import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pgTargets, randomName, stopEmbeddedPg, type PgTarget } from '../../helpers/postgres.js';
import { startTestApp, waitFor, type TestApp } from '../../helpers/app.js';

let targets: PgTarget[] = [];
before(async () => {
  targets = await pgTargets();
});
after(async () => {
  await stopEmbeddedPg();
});

function connectorSql(name: string, t: PgTarget, props: Record<string, string>): string {
  const all: Record<string, string> = {
    'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
    'connection.url': t.jdbcUrl,
    'connection.user': t.user,
    'connection.password': t.password,
    'poll.interval.ms': '100',
    'value.converter.schemas.enable': 'false',
    ...props,
  };
  const body = Object.entries(all)
    .map(([k, v]) => `'${k}' = '${v.replace(/'/g, "''")}'`)
    .join(',\n  ');
  return `CREATE SOURCE CONNECTOR "${name}" WITH (\n  ${body}\n);`;
}

async function withApp<T>(fn: (app: TestApp) => Promise<T>): Promise<T> {
  const app = await startTestApp();
  try {
    return await fn(app);
  } finally {
    await app.dispose();
  }
}

for (const targetName of ['embedded-pg18', 'local-pg']) {
  describe(`JDBC source modes on ${targetName}`, () => {
    const target = () => targets.find((t) => t.name === targetName);

    test('incrementing mode captures every row once, in id order, with Confluent-shaped offsets', async (t) => {
      const pg = target();
      if (!pg) return t.skip(`${targetName} is not available`);
      const table = randomName('inc');
      const c = await pg.client();
      try {
        await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2), at timestamptz)`);
        await c.query(`INSERT INTO ${table} (name, price, at) SELECT 'n' || g, g * 1.5, '2024-03-10 12:00:00.123456+00' FROM generate_series(1, 25) g`);
        await withApp(async (app) => {
          await app.sql(connectorSql('inc', pg, { mode: 'incrementing', 'incrementing.column.name': 'id', 'topic.prefix': 'p_', 'table.whitelist': table, 'batch.max.rows': '7' }));
          await waitFor(async () => (await app.values(`p_${table}`)).length >= 25, '25 rows');
          await c.query(`INSERT INTO ${table} (name) VALUES ('late')`);
          const vals = await waitFor(async () => {
            const v = await app.values(`p_${table}`);
            return v.length >= 26 ? v : null;
          }, '26 rows');
          assert.deepEqual(vals!.map((v) => v.id), Array.from({ length: 26 }, (_, i) => i + 1));
          assert.equal(vals![0].name, 'n1');
          assert.equal(vals![0].at, Date.parse('2024-03-10T12:00:00.123Z'));
          assert.equal(vals![25].price, null);
          const offsets = await waitFor(async () => {
            const o = await app.worker.offsets('inc');
            return o.length && (o[0]!.offset as { incrementing: number }).incrementing === 26 ? o : null;
          }, 'offset 26');
          assert.deepEqual(offsets![0]!.partition, { protocol: '1', table: `${pg.database}.public.${table}` });
          assert.deepEqual(offsets![0]!.offset, { incrementing: 26 });
        });
      } finally {
        await c.query(`DROP TABLE IF EXISTS ${table}`);
        await c.end();
      }
    });

    test('a row whose transaction commits after a later id was read is still captured', async (t) => {
      const pg = target();
      if (!pg) return t.skip(`${targetName} is not available`);
      const table = randomName('open');
      const setup = await pg.client();
      const slow = await pg.client();
      try {
        await setup.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, v text NOT NULL)`);
        await withApp(async (app) => {
          await app.sql(connectorSql('open', pg, { mode: 'incrementing', 'incrementing.column.name': 'id', 'topic.prefix': 'o_', 'table.whitelist': table }));
          // the slow transaction takes id 1 and stays open while id 2 commits and is read
          await slow.query('BEGIN');
          await slow.query(`INSERT INTO ${table} (v) VALUES ('slow')`);
          await setup.query(`INSERT INTO ${table} (v) VALUES ('fast')`);
          await waitFor(async () => (await app.values(`o_${table}`)).some((v) => v.id === 2), 'id 2 read');
          await new Promise((r) => setTimeout(r, 400)); // several polls pass with the transaction still open
          await slow.query('COMMIT');
          const vals = await waitFor(async () => {
            const v = await app.values(`o_${table}`);
            return v.some((x) => x.id === 1) ? v : null;
          }, 'id 1 captured after its late commit');
          assert.deepEqual(vals!.map((v) => v.v).sort(), ['fast', 'slow']);
          // and the next rows keep flowing once the pending transaction is resolved
          await setup.query(`INSERT INTO ${table} (v) VALUES ('after')`);
          await waitFor(async () => (await app.values(`o_${table}`)).some((v) => v.v === 'after'), 'row after');
          const ids = (await app.values(`o_${table}`)).map((v) => v.id);
          assert.equal(new Set(ids).size, ids.length, `no duplicates: ${ids}`);
        });
      } finally {
        await slow.query('ROLLBACK').catch(() => undefined);
        await setup.query(`DROP TABLE IF EXISTS ${table}`);
        await setup.end();
        await slow.end();
      }
    });

    test('timestamp mode keeps rows that share a timestamp across batch boundaries', async (t) => {
      const pg = target();
      if (!pg) return t.skip(`${targetName} is not available`);
      const table = randomName('ts');
      const c = await pg.client();
      try {
        await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, updated timestamp NOT NULL)`);
        await c.query(`INSERT INTO ${table} SELECT g, '2024-01-01 00:00:00'::timestamp + (g / 4) * interval '1 second' FROM generate_series(1, 12) g`);
        await withApp(async (app) => {
          await app.sql(connectorSql('ts', pg, { mode: 'timestamp', 'timestamp.column.name': 'updated', 'topic.prefix': 't_', 'table.whitelist': table, 'batch.max.rows': '3' }));
          const vals = await waitFor(async () => {
            const v = await app.values(`t_${table}`);
            return v.length >= 12 ? v : null;
          }, '12 rows');
          assert.deepEqual(vals!.map((v) => v.id).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i + 1));
          await c.query(`UPDATE ${table} SET updated = '2024-01-02 00:00:00' WHERE id = 5`);
          await waitFor(async () => (await app.values(`t_${table}`)).length === 13, 'the updated row again');
          const o = await waitFor(async () => {
            const x = await app.worker.offsets('ts');
            return x.length && (x[0]!.offset as { timestamp: number }).timestamp === Date.parse('2024-01-02T00:00:00Z') ? x : null;
          }, 'timestamp offset');
          assert.equal((o![0]!.offset as Record<string, unknown>)['timestamp_nanos'], 0);
        });
      } finally {
        await c.query(`DROP TABLE IF EXISTS ${table}`);
        await c.end();
      }
    });

    test('timestamp+incrementing mode captures inserts and updates', async (t) => {
      const pg = target();
      if (!pg) return t.skip(`${targetName} is not available`);
      const table = randomName('tsi');
      const c = await pg.client();
      try {
        await c.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, modified timestamptz NOT NULL DEFAULT clock_timestamp(), v text)`);
        await c.query(`INSERT INTO ${table} (modified, v) SELECT '2024-01-01 00:00:00+00', 'x' || g FROM generate_series(1, 10) g`);
        await withApp(async (app) => {
          await app.sql(connectorSql('tsi', pg, { mode: 'timestamp+incrementing', 'timestamp.column.name': 'modified', 'incrementing.column.name': 'id', 'topic.prefix': 'ti_', 'table.whitelist': table, 'batch.max.rows': '4' }));
          await waitFor(async () => (await app.values(`ti_${table}`)).length >= 10, '10 rows');
          await c.query(`UPDATE ${table} SET v = 'changed', modified = clock_timestamp() WHERE id = 3`);
          const vals = await waitFor(async () => {
            const v = await app.values(`ti_${table}`);
            return v.length >= 11 ? v : null;
          }, 'update');
          assert.equal(vals![10].id, 3);
          assert.equal(vals![10].v, 'changed');
          const o = await waitFor(async () => {
            const x = await app.worker.offsets('tsi');
            return x.length && (x[0]!.offset as { incrementing: number }).incrementing === 3 ? x : null;
          }, 'offset of the update');
          assert.ok('timestamp' in o![0]!.offset! && 'timestamp_nanos' in o![0]!.offset!);
        });
      } finally {
        await c.query(`DROP TABLE IF EXISTS ${table}`);
        await c.end();
      }
    });

    test('bulk mode reads the whole table on every poll', async (t) => {
      const pg = target();
      if (!pg) return t.skip(`${targetName} is not available`);
      const table = randomName('bulk');
      const c = await pg.client();
      try {
        await c.query(`CREATE TABLE ${table} (k text, n int)`);
        await c.query(`INSERT INTO ${table} SELECT 'k' || g, g FROM generate_series(1, 5) g`);
        await withApp(async (app) => {
          await app.sql(connectorSql('bulk', pg, { mode: 'bulk', 'topic.prefix': 'b_', 'table.whitelist': table, 'poll.interval.ms': '300', 'batch.max.rows': '2' }));
          const vals = await waitFor(async () => {
            const v = await app.values(`b_${table}`);
            return v.length >= 10 ? v : null;
          }, 'two full passes');
          assert.deepEqual(vals!.slice(0, 5).map((v) => v.n).sort(), [1, 2, 3, 4, 5]);
          assert.deepEqual(vals!.slice(5, 10).map((v) => v.n).sort(), [1, 2, 3, 4, 5]);
        });
      } finally {
        await c.query(`DROP TABLE IF EXISTS ${table}`);
        await c.end();
      }
    });

    test('query mode appends its WHERE clause to a user query and names the topic after topic.prefix', async (t) => {
      const pg = target();
      if (!pg) return t.skip(`${targetName} is not available`);
      const table = randomName('q');
      const c = await pg.client();
      try {
        await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, kind text NOT NULL)`);
        await c.query(`INSERT INTO ${table} (kind) VALUES ('a'), ('b'), ('a'), ('a')`);
        await withApp(async (app) => {
          const topic = randomName('qt');
          await app.sql(connectorSql('q', pg, { mode: 'incrementing', 'incrementing.column.name': 'id', query: `SELECT id, upper(kind) AS kind FROM ${table} WHERE kind = 'a'`, 'topic.prefix': topic }));
          const vals = await waitFor(async () => {
            const v = await app.values(topic);
            return v.length >= 3 ? v : null;
          }, '3 rows');
          assert.deepEqual(vals!.map((v) => [v.id, v.kind]), [[1, 'A'], [3, 'A'], [4, 'A']]);
          const o = await waitFor(async () => (await app.worker.offsets('q'))[0], 'offset');
          assert.deepEqual(o.partition, { query: 'query' });
        });
      } finally {
        await c.query(`DROP TABLE IF EXISTS ${table}`);
        await c.end();
      }
    });
  });
}
