import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { startApp } from '../src/server/app.js';
import { createLogger, setLogLevel } from '../src/runtime/logger.js';
import { executeScript } from '../src/commands/sql.js';
import { startEmbeddedPostgres } from '../src/connectors/embedded-postgres/index.js';
import { flagString, parseArgs } from '../src/cli/args.js';

/**
 * `npm run screenshot`: the demo's setup (an embedded PostgreSQL with a `cities` table, a worker on the embedded
 * log, the README's JDBC_SOURCE_POSTGRES_01 statement) with cities inserted at a rate that rises and falls, the
 * web console open in Debian's Chromium long enough for its throughput chart to fill, a statement run in its SQL box
 * and the topic viewer on `postgres_cities`; then a screenshot to docs/images/console.png.
 *
 *   npm run screenshot -- [--out docs/images/console.png] [--seconds 60] [--chromium /usr/bin/chromium]
 */

const CITIES = ['Amsterdam', 'Berlin', 'Cairo', 'Delhi', 'Edinburgh', 'Florence', 'Geneva', 'Hanoi', 'Istanbul', 'Jakarta', 'Kyoto', 'Lima', 'Madrid', 'Nairobi', 'Oslo', 'Prague', 'Quito', 'Reykjavik', 'Santiago', 'Tunis'];
// No internet here: without the background-networking flags Chromium's own connections fail many at a time.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function main(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv);
  const out = resolve(flagString(flags, 'out') ?? 'docs/images/console.png');
  const seconds = Number(flagString(flags, 'seconds') ?? 60);
  const executablePath = flagString(flags, 'chromium') ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  setLogLevel('error');
  const say = (s: string) => process.stdout.write(s + '\n');

  const db = await startEmbeddedPostgres({ fast: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-screenshot-'));
  const client = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: 'postgres' });
  client.on('error', () => undefined);
  let app: Awaited<ReturnType<typeof startApp>> | undefined;
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  let inserter: NodeJS.Timeout | undefined;
  let inserting: Promise<unknown> = Promise.resolve();
  try {
    await client.connect();
    await client.query(`CREATE TABLE cities (city_id serial PRIMARY KEY, name text NOT NULL, country text, population integer, created_at timestamptz NOT NULL DEFAULT now())`);
    await client.query(`INSERT INTO cities (name, country, population) VALUES ('Amsterdam', 'NL', 921402), ('Berlin', 'DE', 3850809), ('Cairo', 'EG', 10230350)`);
    app = await startApp({ dataDir, port: 0, logger: createLogger() });
    say(`worker at ${app.url}, PostgreSQL at ${db.jdbcUrl()}`);
    await executeScript(app.worker, `CREATE SOURCE CONNECTOR JDBC_SOURCE_POSTGRES_01 WITH (
      'connector.class'= 'io.confluent.connect.jdbc.JdbcSourceConnector',
      'connection.url'= '${db.jdbcUrl()}',
      'connection.user'= 'postgres',
      'connection.password'= 'postgres',
      'mode'= 'incrementing',
      'incrementing.column.name'= 'city_id',
      'topic.prefix'= 'postgres_',
      'poll.interval.ms'= '500'
    );`);

    // cities at 5–35 a second, a wave with a period of 40 s, one statement at a time
    const t0 = Date.now();
    let n = 0, owed = 0;
    inserter = setInterval(() => {
      const rate = 20 + 15 * Math.sin((2 * Math.PI * (Date.now() - t0)) / 40_000);
      owed += rate / 4;
      const k = Math.floor(owed);
      owed -= k;
      if (!k) return;
      const rows = Array.from({ length: k }, () => {
        const i = n++;
        return `('${CITIES[i % CITIES.length]} ${Math.floor(i / CITIES.length) + 1}', 'XX', ${1000 + ((i * 7919) % 1_000_000)})`;
      });
      inserting = inserting.then(() => client.query(`INSERT INTO cities (name, country, population) VALUES ${rows.join(', ')}`)).catch(() => undefined);
    }, 250);

    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 760 } })).newPage();
    await page.goto(app.url + '/console');
    await page.waitForSelector('[data-connector="JDBC_SOURCE_POSTGRES_01"][data-state="RUNNING"]');
    say(`console open; letting the chart fill for ${seconds} s`);
    await new Promise((r) => setTimeout(r, seconds * 1000));

    await page.locator('#sql').fill('SHOW CONNECTORS;');
    await page.locator('#sql-run').click();
    await page.waitForFunction(() => ((globalThis as any).document.getElementById('sql-out').textContent ?? '').includes('connector_list'));
    await page.locator('#topic').selectOption('postgres_cities');
    await page.locator('#records table').waitFor();
    // one more poll so the chart ends on a fresh point
    const drawn = await page.$eval('canvas[data-chart="throughput"]', (c: any) => c.dataset.drawnAt);
    await page.waitForFunction((d) => (globalThis as any).document.querySelector('canvas[data-chart="throughput"]').dataset.drawnAt !== d, drawn);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    say(`wrote ${out}`);
    return 0;
  } finally {
    clearInterval(inserter);
    await inserting;
    await browser?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await client.end().catch(() => undefined);
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`screenshot failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
