import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { api, randomName, startServerApp, waitFor, type ServerTestApp } from './helpers.js';
import { embeddedPg, localPg, stopEmbeddedPg, type PgTarget } from '../helpers/postgres.js';

/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core (no browser download). A JDBC
 * source reads a table of PostgreSQL (the machine's when it answers, else an embedded one) into the embedded log
 * while rows keep being inserted; the page must show it RUNNING, draw a throughput chart that moves, pause it with
 * its button, and run a statement typed in the SQL box. Without Chromium the suite is skipped with the reason,
 * unless REQUIRE_BROWSER is set (CI), where that is a failure.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The machine has no internet: without the background-networking flags Chromium's own connections are refused many
// at a time and slow everything down.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
const required = !!process.env.REQUIRE_BROWSER && process.env.REQUIRE_BROWSER !== '0';

let app: ServerTestApp;
let target: PgTarget;
let db: pg.Client;
let browser: Browser;
let page: Page;
let table = '';
const name = randomName('console_ui');
const pageErrors: string[] = [];
let inserter: NodeJS.Timeout | undefined;
let inserting: Promise<unknown> = Promise.resolve();

const THROUGHPUT = `[data-connector="${name}"] canvas[data-chart="throughput"]`;

/** What the throughput canvas holds right now: its data-* attributes and facts read from its pixels. */
interface ChartRead {
  points: number;
  last: number;
  max: number;
  drawnAt: number;
  hash: number;
  /** opaque pixels of the series colour in the right half of the plot area (the line, not the label) */
  linePixels: number;
  /** the value the line's rightmost pixels stand for, read back from their height */
  valueAtRight: number | null;
}

async function readChart(p: Page): Promise<ChartRead> {
  // runs in the page (this project compiles without the DOM library, hence `any`)
  return p.$eval(THROUGHPUT, (el: any) => {
    const c = el;
    const dpr = c.width / c.clientWidth;
    const d: Uint8ClampedArray = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    // the page's layout of the plot: 18 px above, 16 below, 44 left, 8 right (CSS pixels)
    const top = 18 * dpr, bottom = c.height - 16 * dpr, right = c.width - 8 * dpr;
    let hash = 2166136261, linePixels = 0, ySum = 0, yN = 0;
    for (let i = 0; i < d.length; i += 4) {
      hash = Math.imul(hash ^ (d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24)), 16777619) >>> 0;
      const x = (i / 4) % c.width, y = Math.floor(i / 4 / c.width);
      const line = d[i + 3]! > 90 && d[i + 2]! > 170 && d[i]! < 130 && y > 14 * dpr;
      if (line && x > c.width / 2) linePixels++;
      if (line && x > right - 4 * dpr && x <= right) { ySum += y; yN++; }
    }
    const max = Number(c.dataset.max);
    const valueAtRight = yN ? max * (1 - (ySum / yN - top) / (bottom - top)) : null;
    return { points: Number(c.dataset.points ?? 0), last: Number(c.dataset.last || 0), max, drawnAt: Number(c.dataset.drawnAt ?? 0), hash, linePixels, valueAtRight };
  });
}

const overviewOf = async () => (await api(app.url, 'GET', '/console/api/overview')).body.connectors.find((c: any) => c.name === name);

describe('web console in Chromium', { skip: missing && !required ? missing : false }, () => {
  before(async () => {
    if (missing) throw new Error(`${missing}, and REQUIRE_BROWSER is set`);
    const { chromium } = await import('playwright-core');
    [app, target, browser] = await Promise.all([
      startServerApp(),
      localPg().then((t) => t ?? embeddedPg()),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 }),
    ]);
    db = await target.client();
    table = randomName('console_ui');
    await db.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL)`);
    await db.query(`INSERT INTO ${table} (name) SELECT 'n' || g FROM generate_series(1, 20) g`);
    // a steady stream: 3 rows every 150 ms (~20 rows/s), one statement at a time
    let n = 0;
    inserter = setInterval(() => {
      inserting = inserting.then(() => db.query(`INSERT INTO ${table} (name) SELECT 'r${++n}-' || g FROM generate_series(1, 3) g`)).catch(() => undefined);
    }, 150);
    const created = await api(app.url, 'POST', '/connectors', {
      name,
      config: {
        'connector.class': 'io.confluent.connect.jdbc.JdbcSourceConnector',
        'connection.url': target.jdbcUrl,
        'connection.user': target.user,
        'connection.password': target.password,
        mode: 'incrementing',
        'incrementing.column.name': 'id',
        'table.whitelist': table,
        'topic.prefix': 'ui_',
        'poll.interval.ms': '200',
      },
    });
    assert.equal(created.status, 201, created.text);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    clearInterval(inserter);
    await inserting;
    await browser?.close().catch(() => undefined);
    await app?.dispose();
    if (db) {
      await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await db.end().catch(() => undefined);
    }
    if (target?.name === 'embedded-pg18') await stopEmbeddedPg();
  });

  test('opening the console shows the connector RUNNING with its task', async () => {
    await page.goto(app.url + '/console');
    assert.equal(await page.title(), 'Tributary console');
    const card = page.locator(`[data-connector="${name}"]`);
    await card.locator('h3', { hasText: name }).waitFor();
    await page.waitForSelector(`[data-connector="${name}"][data-state="RUNNING"]`);
    assert.equal(await card.locator('.badge.RUNNING').first().textContent(), 'RUNNING');
    assert.equal(await card.locator('[data-task="0"]').textContent(), '0: RUNNING');
    assert.equal(await card.locator('.cls').textContent(), 'io.confluent.connect.jdbc.JdbcSourceConnector');
    assert.match((await page.locator('#summary').textContent()) ?? '', /1 connectors, 1 running/);
  });

  test('the throughput chart is redrawn with new points as records flow', async (t) => {
    // at least two rates drawn (three overview polls, 2 s apart), the latest above zero
    await page.waitForFunction((sel) => {
      const c = (globalThis as any).document.querySelector(sel);
      return !!c && Number(c.dataset.points) >= 2 && Number(c.dataset.last) > 0;
    }, THROUGHPUT, { timeout: 30_000 });
    const first = await readChart(page);
    const written1 = (await overviewOf()).metrics.written;
    await page.waitForFunction(
      ([sel, pts]) => Number((globalThis as any).document.querySelector(sel).dataset.points) > pts,
      [THROUGHPUT, first.points] as const,
      { timeout: 20_000 },
    );
    const second = await readChart(page);
    const written2 = (await overviewOf()).metrics.written;
    t.diagnostic(`chart reads: ${JSON.stringify(first)} then ${JSON.stringify(second)}; written ${written1} → ${written2}`);

    assert.ok(second.points > first.points, `more points: ${first.points} → ${second.points}`);
    assert.ok(second.drawnAt > first.drawnAt, 'redrawn for a later poll');
    assert.notEqual(second.hash, first.hash, 'the rendered pixels changed');
    assert.ok(written2 > written1, `records keep being written: ${written1} → ${written2}`);
    assert.ok(first.last > 0, `a positive rate is drawn: ${JSON.stringify(first)}`);
    for (const r of [first, second]) {
      assert.ok(r.linePixels > 100, `the line is drawn across the plot: ${JSON.stringify(r)}`);
      // the line ends at the height of the latest rate (within a tenth of the scale: line width, the end dot)
      assert.ok(r.valueAtRight !== null && Math.abs(r.valueAtRight - r.last) <= r.max * 0.1, `line height matches the rate: ${JSON.stringify(r)}`);
    }
    // the records/s figure above the chart is the rate the chart ends on (both from the same poll)
    const [shown, drawnLast] = await page.$eval(`[data-connector="${name}"]`, (card: any) => {
      const stat = [...card.querySelectorAll('.stats div')].find((d: any) => d.firstChild.textContent === 'records/s');
      return [stat.querySelector('b').textContent, card.querySelector('canvas[data-chart="throughput"]').dataset.last];
    });
    assert.ok(Math.abs(Number(shown) - Number(drawnLast)) <= 0.1, `records/s shown ${shown}, chart ends at ${drawnLast}`);
  });

  test('the Pause button pauses the connector (page and REST API agree)', async () => {
    const card = page.locator(`[data-connector="${name}"]`);
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'PUT' && new URL(r.url()).pathname === `/connectors/${name}/pause`),
      card.locator('button[data-action="pause"]').click(),
    ]);
    assert.equal((await request.response())?.status(), 202);
    await page.waitForSelector(`[data-connector="${name}"][data-state="PAUSED"]`);
    assert.equal(await card.locator('.badge.PAUSED').first().textContent(), 'PAUSED');
    await card.locator('[data-task="0"].PAUSED').waitFor();
    assert.equal(await card.locator('.err').first().textContent(), '', 'no error shown');
    const status = await waitFor(async () => {
      const r = await api(app.url, 'GET', `/connectors/${name}/status`);
      return r.body?.connector?.state === 'PAUSED' && r.body.tasks.every((t: any) => t.state === 'PAUSED') ? r : null;
    }, 'REST status PAUSED', 10_000);
    assert.equal(status!.body.connector.state, 'PAUSED');
    assert.equal((await api(app.url, 'GET', `/connectors/${name}`)).status, 200);
  });

  test('a statement typed in the SQL box runs and its result is shown', async () => {
    await page.locator('#sql').fill('SHOW CONNECTORS;');
    await page.locator('#sql-run').click();
    const out = page.locator('#sql-out');
    // the answer is shown as a table of connectors (and as JSON below it)
    const row = out.locator('[data-entity="connector_list"] tr', { has: page.locator(`td[data-col="name"]`, { hasText: name }) });
    await row.waitFor();
    assert.equal(await row.locator('td[data-col="state"]').textContent(), 'PAUSED');
    assert.equal(await row.locator('td[data-col="className"]').textContent(), 'io.confluent.connect.jdbc.JdbcSourceConnector');
    assert.equal(await row.locator('td[data-col="tasks"]').textContent(), '0: PAUSED');
    assert.equal(await out.locator('[data-entity="connector_list"] .mono').first().textContent(), 'SHOW CONNECTORS;');
    const result = JSON.parse((await out.locator('pre[data-json]').textContent()) ?? '');
    assert.equal(result[0]['@type'], 'connector_list');
    assert.equal(result[0].statementText, 'SHOW CONNECTORS;');
    assert.match(result[0].connectors.find((c: any) => c.name === name)?.state ?? '', /^PAUSED/);
    assert.notEqual(await out.getAttribute('class'), 'err');

    // an error is shown as one, too
    await page.locator('#sql').fill('SHOW CONECTORS;');
    await page.locator('#sql-run').click();
    await page.waitForSelector('#sql-out.err');
    assert.match((await out.textContent()) ?? '', /line 1/i);
  });

  test('the page raised no script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
