import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startApp } from '../server/app.js';
import { createLogger, setLogLevel } from '../runtime/logger.js';
import { executeScript } from '../commands/sql.js';
import { printTopic } from '../commands/index.js';
import { renderEntity } from '../sql/entities.js';
import { renderPrintHeader, renderPrintedRecord } from '../sql/render.js';
import { startEmbeddedPostgres, freePort, takeOverStopSignals } from '../connectors/embedded-postgres/index.js';
import { flagString, parseArgs } from './args.js';
import { onStopSignal } from './signals.js';

const CITIES = ['Amsterdam', 'Berlin', 'Cairo', 'Delhi', 'Edinburgh', 'Florence', 'Geneva', 'Hanoi', 'Istanbul', 'Jakarta', 'Kyoto', 'Lima', 'Madrid', 'Nairobi', 'Oslo', 'Prague', 'Quito', 'Reykjavik', 'Santiago', 'Tunis'];

/**
 * `npm start`: an embedded PostgreSQL with a `cities` table, a Tributary worker on the embedded log, the
 * DEVELOPERS.md statement (only the URL differs), a steady stream of inserted cities, and every event printed as
 * it lands in `postgres_cities` — until Ctrl-C.
 */
export async function runDemo(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv);
  setLogLevel((process.env.TRIBUTARY_LOG_LEVEL as 'info') ?? 'warn');
  const say = (s: string) => process.stdout.write(s + '\n');
  const dataDir = flagString(flags, 'data-dir') ?? mkdtempSync(join(tmpdir(), 'tributary-demo-'));
  say('Starting an embedded PostgreSQL…');
  const db = await startEmbeddedPostgres();
  const client = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres' });
  client.on('error', () => undefined);
  await client.connect();
  await client.query(`CREATE TABLE cities (city_id serial PRIMARY KEY, name text NOT NULL, country text, population integer, created_at timestamptz NOT NULL DEFAULT now())`);
  await client.query(`INSERT INTO cities (name, country, population) VALUES ('Amsterdam', 'NL', 921402), ('Berlin', 'DE', 3850809), ('Cairo', 'EG', 10230350)`);
  say(`PostgreSQL ${db.jdbcUrl()} is up with a cities table (3 rows).`);

  let port = Number(flagString(flags, 'port') ?? 8083);
  let app;
  try {
    app = await startApp({ dataDir, port, logger: createLogger() });
  } catch {
    port = await freePort();
    app = await startApp({ dataDir, port, logger: createLogger() });
  }
  say(`Tributary worker at ${app.url} (embedded event log in ${dataDir}); try: tributary sql --server ${app.url} -e "SHOW CONNECTORS;"`);

  const statement = `CREATE SOURCE CONNECTOR JDBC_SOURCE_POSTGRES_01 WITH (
    'connector.class'= 'io.confluent.connect.jdbc.JdbcSourceConnector',
    'connection.url'= '${db.jdbcUrl()}',
    'connection.user'= 'postgres',
    'connection.password'= 'postgres',
    'mode'= 'incrementing',
    'incrementing.column.name'= 'city_id',
    'topic.prefix'= 'postgres_',
    'poll.interval.ms'= '500'
);`;
  say('\n' + statement + '\n');
  for (const e of await executeScript(app.worker, statement)) say(renderEntity(e));

  const ac = new AbortController();
  let n = 0;
  const inserter = setInterval(() => {
    const name = CITIES[n++ % CITIES.length]!;
    void client.query('INSERT INTO cities (name, country, population) VALUES ($1, $2, $3)', [`${name} ${Math.floor(n / CITIES.length) + 1}`, 'XX', 1000 + Math.floor(Math.random() * 1e6)]).catch(() => undefined);
  }, 1000);

  say(`PRINT 'postgres_cities' FROM BEGINNING;  (a new city is inserted every second; Ctrl-C to stop)\n`);
  // the demo stops its PostgreSQL itself, after Tributary (the package's own handlers would exit mid-stop)
  takeOverStopSignals();
  const stopped = new Promise<void>((resolve) =>
    onStopSignal(() => {
      ac.abort();
      resolve();
    }),
  );
  // wait until the connector created the topic
  while (!ac.signal.aborted && !(await app.platform.listTopics()).some((t) => t.name === 'postgres_cities')) await new Promise((r) => setTimeout(r, 200));
  const printing = ac.signal.aborted
    ? Promise.resolve()
    : printTopic(app.platform, 'postgres_cities', { fromBeginning: true, signal: ac.signal }, (e) => {
        if (e.header) process.stdout.write(renderPrintHeader(e.header.keyFormat, e.header.valueFormat));
        if (e.record) process.stdout.write(renderPrintedRecord(e.record));
      }).catch((err) => say(`PRINT stopped: ${(err as Error).message}`));
  await stopped;
  say('\nStopping…');
  clearInterval(inserter);
  await printing;
  await app.close();
  await client.end().catch(() => undefined);
  await db.stop();
  if (!flagString(flags, 'data-dir')) rmSync(dataDir, { recursive: true, force: true });
  say('Stopped cleanly.');
  return 0;
}
