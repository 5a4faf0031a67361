import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedPg, randomName, stopEmbeddedPg, type PgTarget } from '../helpers/postgres.js';
import { spawn } from 'node:child_process';
import { MAIN, runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createEmbeddedLog } from '../../src/connectors/embedded-log/index.js';
import { waitFor } from '../helpers/app.js';

let pg: PgTarget;
let dataDir: string;
before(async () => {
  pg = await embeddedPg();
  dataDir = mkdtempSync(join(tmpdir(), 'tributary-cli-'));
});
after(async () => {
  await stopEmbeddedPg();
  rmSync(dataDir, { recursive: true, force: true });
});

/** ids (payload field `field`) in the topic of the data directory `dir`, read from the log files as another process would */
async function idsInTopic(topic: string, dir = dataDir, field = 'city_id'): Promise<number[]> {
  const log = await createEmbeddedLog({ dir: join(dir, 'log'), readOnly: true });
  try {
    if (!(await log.describeTopic(topic))) return [];
    const out: number[] = [];
    for (let off = 0; ; ) {
      const batch = await log.readPartition(topic, 0, off, 5000);
      if (!batch.length) break;
      for (const r of batch) out.push(JSON.parse(r.value!.toString()).payload[field]);
      off += batch.length;
    }
    return out;
  } finally {
    await log.close();
  }
}

test('the DEVELOPERS.md statement runs through tributary sql, survives kill -9 of the server, and loses no row', async () => {
  const table = 'cities';
  const c = await pg.client();
  let server: ServerProcess | null = null;
  await c.query(`DROP TABLE IF EXISTS ${table}`);
  await c.query(`CREATE TABLE ${table} (city_id serial PRIMARY KEY, name text NOT NULL)`);
  await c.query(`INSERT INTO ${table} (name) SELECT 'city ' || g FROM generate_series(1, 50) g`);
  try {
    server = await startServerProcess(dataDir);
    const statement = `CREATE SOURCE CONNECTOR JDBC_SOURCE_POSTGRES_01 WITH (
    'connector.class'= 'io.confluent.connect.jdbc.JdbcSourceConnector',
    'connection.url'= '${pg.jdbcUrl}',
    'connection.user'= 'postgres',
    'connection.password'= 'postgres',
    'mode'= 'incrementing',
    'incrementing.column.name'= 'city_id',
    'topic.prefix'= 'postgres_'
);`;
    const created = await runCli(['sql', '--server', server.url, '-e', statement]);
    assert.equal(created.code, 0, created.out);
    assert.match(created.out, /Created connector JDBC_SOURCE_POSTGRES_01/);

    const shown = await waitFor(async () => {
      const r = await runCli(['sql', '--server', server!.url, '-e', 'SHOW CONNECTORS;']);
      return /RUNNING \(1\/1 tasks RUNNING\)/.test(r.out) ? r.out : null;
    }, 'RUNNING in SHOW CONNECTORS');
    assert.match(shown, /JDBC_SOURCE_POSTGRES_01 \| SOURCE|JDBC_SOURCE_POSTGRES_01\s+\|\s+SOURCE/i);

    const described = await runCli(['sql', '--server', server.url, '-e', 'DESCRIBE CONNECTOR JDBC_SOURCE_POSTGRES_01;']);
    assert.equal(described.code, 0, described.out);
    assert.doesNotMatch(described.out, /'postgres'\s*\)|password'= 'postgres'/);

    await waitFor(async () => (await idsInTopic('postgres_cities')).length >= 50, 'first 50 rows');
    const printed = await runCli(['sql', '--server', server.url, '-e', "PRINT 'postgres_cities' FROM BEGINNING LIMIT 3;"]);
    assert.equal(printed.code, 0, printed.out);
    assert.match(printed.out, /Value format: JSON/);
    assert.equal((printed.out.match(/^rowtime: /gm) ?? []).length, 3, printed.out);
    assert.match(printed.out, /"city_id":1[,}]/);

    // keep inserting while the server is killed -9 and started again
    let inserting = true;
    const writer = (async () => {
      let n = 0;
      while (inserting) {
        await c.query(`INSERT INTO ${table} (name) SELECT 'more ' || g FROM generate_series(1, 20) g`);
        n += 20;
        await new Promise((r) => setTimeout(r, 20));
      }
      return n;
    })();
    await new Promise((r) => setTimeout(r, 1500));
    await server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    server = await startServerProcess(dataDir, { port: server.port });
    await new Promise((r) => setTimeout(r, 1500));
    inserting = false;
    await writer;
    const total = Number((await c.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
    const ids = await waitFor(async () => {
      const x = await idsInTopic('postgres_cities');
      return new Set(x).size >= total ? x : null;
    }, `all ${total} rows after the restart`, 30_000);
    assert.deepEqual([...new Set(ids)].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1), 'every row present');
    // duplicates only as a replayed suffix: at most one point where ids go back, and it goes back to a replay
    const drops = ids.flatMap((id, i) => (i > 0 && id <= ids[i - 1]! ? [i] : []));
    assert.ok(drops.length <= 1, `ids go back ${drops.length} times`);
    if (drops.length) {
      const i = drops[0]!;
      assert.ok(ids.slice(0, i).includes(ids[i]!), 'the replay starts at an id already delivered (no gap)');
      for (let k = i + 1; k < ids.length; k++) assert.ok(ids[k]! > ids[k - 1]!, 'in order after the replay point');
    }
  } finally {
    await server?.kill('SIGTERM');
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    await c.end();
  }
});

test('the interactive shell runs statements typed over several lines', async () => {
  const server = await startServerProcess(mkdtempSync(join(tmpdir(), 'tributary-shell-')));
  try {
    const child = spawn(process.execPath, [MAIN, 'sql', '--server', server.url], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'home-')) } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.stdin.write('SHOW\n  CONNECTORS;\nSHOW TOPICS;\nexit\n');
    child.stdin.end();
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0, out);
    assert.match(out, /Connector Name \| Type \| Class \| Status/);
    assert.match(out, /Kafka Topic \| Partitions/);
  } finally {
    await server.kill('SIGTERM');
  }
});

test('tributary sql reports a server that cannot be reached with a hint', async () => {
  const r = await runCli(['sql', '--server', 'http://127.0.0.1:9', '-e', 'SHOW CONNECTORS;']);
  assert.equal(r.code, 1);
  assert.match(r.out, /cannot reach the Tributary server at http:\/\/127\.0\.0\.1:9/);
  assert.match(r.out, /Hint: start it with `tributary server`/);
});

test('tributary server refuses a TRIBUTARY_HEAP_GROWING_PERCENT that is not a whole number, naming it', async () => {
  const r = await runCli(['server', '--data-dir', join(dataDir, 'never'), '--port', '0'], { TRIBUTARY_HEAP_GROWING_PERCENT: 'lots' });
  assert.equal(r.code, 1);
  assert.match(r.out, /TRIBUTARY_HEAP_GROWING_PERCENT must be a whole number from 0 to 1000 \(got 'lots'\)/);
  const big = await runCli(['server', '--data-dir', join(dataDir, 'never'), '--port', '0'], { TRIBUTARY_HEAP_GROWING_PERCENT: '1e3' });
  assert.equal(big.code, 1);
  assert.match(big.out, /got '1e3'/);
});

test('SIGTERM stops the server gracefully: the offsets of every acknowledged row are committed, so a restart replays nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-graceful-'));
  const table = randomName('graceful');
  const c = await pg.client();
  let server: ServerProcess | null = null;
  const ids = () => idsInTopic(`g_${table}`, dir, 'id');
  try {
    await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL)`);
    await c.query(`INSERT INTO ${table} (name) SELECT 'row ' || g FROM generate_series(1, 20) g`);
    server = await startServerProcess(dir);
    // offsets are committed on the hour or at a graceful stop: only the stop can have committed the later rows
    const created = await runCli(['sql', '--server', server.url, '-e', `CREATE SOURCE CONNECTOR G WITH ('connector.class'='jdbc', 'connection.url'='${pg.jdbcUrl}',
      'connection.user'='postgres', 'connection.password'='postgres', 'mode'='incrementing', 'incrementing.column.name'='id', 'topic.prefix'='g_',
      'table.whitelist'='${table}', 'poll.interval.ms'='200', 'offset.flush.interval.ms'='3600000');`]);
    assert.equal(created.code, 0, created.out);
    await waitFor(async () => ((await ids()).length >= 20 ? true : null), 'the first 20 rows');
    await c.query(`INSERT INTO ${table} (name) SELECT 'row ' || g FROM generate_series(21, 50) g`);
    await waitFor(async () => ((await ids()).length >= 50 ? true : null), '50 rows');
    const exit = new Promise<number | null>((r) => server!.child.once('exit', (code) => r(code)));
    server.child.kill('SIGTERM');
    assert.equal(await exit, 0, server.output());
    server = await startServerProcess(dir, { port: server.port });
    await c.query(`INSERT INTO ${table} (name) VALUES ('row 51')`);
    const got = await waitFor(async () => {
      const x = await ids();
      return x.includes(51) ? x : null;
    }, 'row 51 after the restart', 30_000);
    assert.deepEqual(got, Array.from({ length: 51 }, (_, i) => i + 1), 'every row once: nothing replayed after the graceful stop');
  } finally {
    await server?.kill('SIGTERM');
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    await c.end();
    rmSync(dir, { recursive: true, force: true });
  }
});
