import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { connectPg } from '../../../src/connectors/jdbc/pg-connect.js';
import { codecFor, type PgColumn } from '../../../src/connectors/jdbc/pg-types.js';
import { rowToValue } from '../../../src/connectors/jdbc/querier.js';
import { readRows, streamRows } from '../../../src/connectors/jdbc/row-reader.js';
import { RowShape, RowValue } from '../../../src/connectors/jdbc/row-value.js';
import { tableMeta } from '../../../src/connectors/jdbc/catalog.js';
import { JsonConverter } from '../../../src/converters/json.js';
import { Schemas } from '../../../src/sdk/schema.js';
import { embeddedPg, randomName, stopEmbeddedPg, type PgTarget } from '../../helpers/postgres.js';

/**
 * The JDBC source reads its batches off the wire (row-reader.ts) and hands rows to the JSON converter as raw
 * structs (row-value.ts): the bytes must equal the JSON of the materialized value, for every type and odd value.
 */
let target: PgTarget;
let client: pg.Client;
before(async () => {
  target = await embeddedPg();
  client = await connectPg({ url: target.jdbcUrl, user: target.user, password: target.password });
});
after(async () => {
  await client?.end();
  await stopEmbeddedPg();
});

describe('raw rows', () => {
  test('every column type: the raw JSON equals the JSON of the materialized value, under every converter setting', async () => {
    const table = randomName('raw');
    await client.query(`CREATE TABLE ${table} (
      id bigserial PRIMARY KEY, i2 int2, i4 int4 NOT NULL, i8 int8, big int8, n0 numeric(9,0), n18 numeric(18,0), n2 numeric(12,2), nfree numeric,
      t text, v varchar(20), c char(5), b bool, f4 float4, f8 float8, d date, tm time, ts timestamp, tstz timestamptz,
      by bytea, u uuid, j jsonb, arr int4[], "odd ""name"" é" text)`);
    const texts = ['plain', 'with "quotes"', 'back\\slash', 'tab\there', 'new\nline', 'ctl\u0001', 'é accents', 'emoji 😀', '', ' ', '\u2028sep', 'x'.repeat(300)];
    for (let k = 0; k < texts.length; k++) {
      await client.query(
        `INSERT INTO ${table} (i2, i4, i8, big, n0, n18, n2, nfree, t, v, c, b, f4, f8, d, tm, ts, tstz, by, u, j, arr, "odd ""name"" é")
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
        [
          k % 3 === 0 ? null : -32768 + k, k * 1000 - 5000, k % 4 === 0 ? null : String(2n ** 53n + BigInt(k)), String(-(2n ** 63n)), -k * 7, '999999999999999999', (k * 12.34 - 50).toFixed(2),
          k % 2 ? 'NaN' : '123456789012345678901234567890.000000001', texts[k], texts[k]!.slice(0, 20), 'ab', k % 2 === 0, 1.5 + k, Math.PI * k, '2024-02-29', '23:59:59.999999',
          k % 3 === 0 ? 'infinity' : `2024-03-10 02:30:0${k % 10}.12345${k % 10}`, k % 5 === 0 ? '-infinity' : '1969-12-31 23:59:59.999+00', Buffer.from([k, 0, 255]),
          '123e4567-e89b-12d3-a456-426614174000', JSON.stringify({ k, s: texts[k] }), [k, null, 3], texts[(k + 1) % texts.length],
        ],
      );
    }
    await client.query(`INSERT INTO ${table} (i4) VALUES (0)`); // all the rest NULL
    const meta = await tableMeta(client, { schema: 'public', table });
    for (const tz of ['UTC', 'Europe/Paris']) {
      for (const mapping of ['none', 'best_fit'] as const) {
        const codecs = meta.columns.map((c: PgColumn) => codecFor(c, mapping, tz));
        const schema = Schemas.struct(meta.columns.map((c: PgColumn, i: number) => ({ name: c.name, schema: codecs[i]!.schema })), table);
        const toValue = rowToValue(meta.columns.map((c: PgColumn) => c.name), codecs.map((c) => c.parse));
        const cols = meta.columns.map((c: PgColumn) => `"${c.name.replaceAll('"', '""')}"`).join(', ');
        // as a simple query (all text), and as the querier reads: a prepared statement, timestamps in binary
        const binary = Uint8Array.from(codecs, (c) => c.binary ?? 0);
        assert.equal(binary.filter((x) => x).length, tz === 'UTC' ? 3 : 2, 'date and timestamptz always, timestamp when db.timezone is UTC');
        for (const named of [false, true]) {
        const shape = new RowShape(schema, codecs, toValue, named ? binary : undefined);
        const text = `SELECT ${cols} FROM ${table} ORDER BY id`;
        const block = await readRows(client, named ? { name: randomName('stmt'), text, fields: meta.columns.length, binary } : { text, fields: meta.columns.length });
        assert.equal(block.count, texts.length + 1);
        assert.equal(block.binary !== null, named);
        // the same rows through node-postgres, as the source read them before
        const viaPg = await client.query({ text: `SELECT ${cols} FROM ${table} ORDER BY id`, rowMode: 'array' });
        for (const settings of [{}, { 'schemas.enable': 'false' }, { 'decimal.format': 'NUMERIC' }]) {
          const conv = new JsonConverter();
          conv.configure(settings as never, false);
          for (let r = 0; r < block.count; r++) {
            const raw = new RowValue(shape, block, r);
            assert.deepEqual(raw.materialize(), toValue(viaPg.rows[r] as unknown[]), `row ${r}: materialized value`);
            const slow = conv.fromConnectData(table, schema, toValue(viaPg.rows[r] as unknown[]));
            assert.deepEqual(block.texts(r, meta.columns.length), viaPg.rows[r], `row ${r}: texts`);
            for (const generate of [true, false]) {
              shape.generate = generate;
              const fast = conv.fromRawStruct(table, schema, raw);
              assert.equal(fast?.toString('utf8'), slow?.toString('utf8'), `${tz} ${mapping} ${JSON.stringify(settings)} row ${r} generated ${generate} named ${named}`);
            }
          }
        }
        }
      }
    }
  });

  test('timestamps and dates read in binary: their text equals the server text and their JSON the JSON of that text, at every edge (BC, ±infinity, far years, microseconds)', async () => {
    const table = randomName('tsbin');
    await client.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, ts timestamp, tstz timestamptz, d date)`);
    const values = [
      '2000-01-01 00:00:00', '1999-12-31 23:59:59.999999', '1970-01-01 00:00:00', '1969-12-31 23:59:59.9995', '1969-12-31 23:59:59.000001',
      '2024-02-29 12:34:56.5', '2024-02-29 12:34:56.05', '2024-02-29 12:34:56.000100', '1900-03-01 00:00:00.123', '1600-02-29 23:59:59.999',
      // beyond ±2^53 µs from 2000 (the text path), far years, BC
      '2286-01-01 00:00:00.001', '1713-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999', '10000-01-01 00:00:00', '275000-12-31 23:59:59.999999',
      '0001-01-01 00:00:00', '0001-12-31 23:59:59.5 BC', '0044-03-15 12:00:00 BC', '4713-01-01 00:00:00 BC', 'infinity', '-infinity',
    ];
    // the date column: the timestamp's date, but ±infinity only in the last rows (a Connect Date cannot hold them:
    // both paths fail alike, checked below) and years beyond JavaScript's Date range (the text path's limit) cut
    for (const v of values) {
      await client.query(`INSERT INTO ${table} (ts, tstz, d) VALUES ($1::timestamp, $1::timestamp AT TIME ZONE 'UTC', CASE WHEN $2::text LIKE '%infinity' OR $2::text LIKE '275000%' THEN NULL ELSE $1::timestamp::date END)`, [v, v]);
    }
    await client.query(`INSERT INTO ${table} (ts, tstz, d) VALUES (NULL, NULL, '1999-12-31'), (NULL, NULL, '2000-01-01'), (NULL, NULL, '5874897-12-31'), (NULL, NULL, NULL)`);
    const dt = randomName('dinf');
    await client.query(`CREATE TABLE ${dt} AS SELECT 'infinity'::date AS d UNION ALL SELECT '-infinity'::date`);
    const meta = await tableMeta(client, { schema: 'public', table });
    const codecs = meta.columns.map((c: PgColumn) => codecFor(c, 'none', 'UTC'));
    const binary = Uint8Array.from(codecs, (c) => c.binary ?? 0);
    assert.deepEqual([...binary], [0, 1, 2, 3]);
    const schema = Schemas.struct(meta.columns.map((c: PgColumn, i: number) => ({ name: c.name, schema: codecs[i]!.schema })), table);
    const toValue = rowToValue(meta.columns.map((c: PgColumn) => c.name), codecs.map((c) => c.parse));
    const shape = new RowShape(schema, codecs, toValue, binary);
    const text = `SELECT id, ts, tstz, d FROM ${table} ORDER BY id`;
    const block = await readRows(client, { name: randomName('stmt'), text, fields: 4, binary });
    const viaPg = await client.query({ text, rowMode: 'array' });
    assert.equal(block.count, values.length + 4);
    const conv = new JsonConverter();
    conv.configure({} as never, false);
    for (let r = 0; r < block.count; r++) {
      const want = viaPg.rows[r] as Array<string | null>;
      assert.equal(block.text(r, 1), want[1], `row ${r} (${values[r]}): timestamp text`);
      assert.equal(block.text(r, 2), want[2], `row ${r} (${values[r]}): timestamptz text`);
      assert.equal(block.text(r, 3), want[3], `row ${r} (${values[r]}): date text`);
      assert.ok(Number.isNaN(block.smallInt(r, 1)), 'a binary field is never read as an integer');
      if (want[3] === '5874897-12-31') {
        // beyond JavaScript's Date: both paths give the server's day count
        const fast = JSON.parse(conv.fromRawStruct(table, schema, new RowValue(shape, block, r))!.toString('utf8'));
        const days = (await client.query(`SELECT ('5874897-12-31'::date - '1970-01-01'::date)::int AS n`)).rows[0].n;
        assert.equal(fast.payload.d, Number(days));
        assert.equal(toValue(want)['d'], Number(days));
      }
      const slow = conv.fromConnectData(table, schema, toValue(want));
      for (const generate of [true, false]) {
        shape.generate = generate;
        const fast = conv.fromRawStruct(table, schema, new RowValue(shape, block, r));
        assert.equal(fast?.toString('utf8'), slow?.toString('utf8'), `row ${r} (${values[r]}) generated ${generate}`);
      }
    }
    // ±infinity dates: no Connect Date holds them; the binary path fails as the text path does
    const dMeta = await tableMeta(client, { schema: 'public', table: dt });
    const dCodecs = dMeta.columns.map((c: PgColumn) => codecFor(c, 'none', 'UTC'));
    const dSchema = Schemas.struct([{ name: 'd', schema: dCodecs[0]!.schema }], dt);
    const dShape = new RowShape(dSchema, dCodecs, rowToValue(['d'], dCodecs.map((c) => c.parse)), Uint8Array.of(3));
    const dBlock = await readRows(client, { name: randomName('stmt'), text: `SELECT d FROM ${dt}`, fields: 1, binary: Uint8Array.of(3) });
    assert.deepEqual([dBlock.text(0, 0), dBlock.text(1, 0)], ['infinity', '-infinity']);
    for (let r = 0; r < 2; r++) {
      assert.throws(() => conv.fromRawStruct(dt, dSchema, new RowValue(dShape, dBlock, r)), /cannot be represented as a Connect Date/);
    }
  });

  test('only the built-in date and timestamp types are read in binary, and a field whose length is not its type\'s fails clearly', async () => {
    // a user type named like a built-in (another schema) stays text
    const schemaName = randomName('ns');
    const table = randomName('lookalike');
    await client.query(`CREATE SCHEMA ${schemaName}; CREATE TYPE ${schemaName}.date AS ENUM ('low', 'high'); CREATE DOMAIN ${schemaName}.stamp AS timestamptz`);
    await client.query(`CREATE TABLE ${table} (id int, e ${schemaName}.date, s ${schemaName}.stamp, d date)`);
    const meta = await tableMeta(client, { schema: 'public', table });
    const codecs = meta.columns.map((c: PgColumn) => codecFor(c, 'none', 'UTC'));
    assert.deepEqual(codecs.map((c) => c.binary ?? 0), [0, 0, 2, 3], 'the enum named date stays text; a domain over timestamptz and a date are binary');
    // a column whose type changed since the connector read it (here: text asked as a binary date)
    const block = await readRows(client, { name: randomName('stmt'), text: `SELECT 'abc'::text AS d`, fields: 1, binary: Uint8Array.of(3) });
    assert.throws(() => block.text(0, 0), /date column read in binary format sent 3 bytes, not 4: its type changed/);
    const shape = new RowShape(Schemas.struct([{ name: 'd', schema: Schemas.date(true) }], 't'), [codecFor({ name: 'd', typeOid: 1082, typeName: 'date', typeType: 'b', typeCategory: 'D', typmod: -1, notNull: false }, 'none', 'UTC')], (row) => ({ d: row[0] }), Uint8Array.of(3));
    const conv = new JsonConverter();
    conv.configure({} as never, false);
    for (const generate of [true, false]) {
      shape.generate = generate;
      assert.throws(() => conv.fromRawStruct('t', shape.schema, new RowValue(shape, block, 0)), /its type changed/);
    }
  });

  test('text is copied four bytes at a time: a character needing an escape, or not ASCII, is found at every position', async () => {
    const table = randomName('rawtxt');
    await client.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, t text NOT NULL)`);
    const texts: string[] = ['', 'a', 'abc', 'abcd', 'abcdefgh', 'x'.repeat(97)];
    for (const bad of ['"', '\\', '\n', '\u0001', '\u001f', 'é', '\u007f', ' ', '~'])
      for (let at = 0; at < 11; at++) texts.push('abcdefghij'.slice(0, at) + bad + 'klmnopqrst'.slice(0, 10 - at));
    for (const t of texts) await client.query(`INSERT INTO ${table} (t) VALUES ($1)`, [t]);
    const meta = await tableMeta(client, { schema: 'public', table });
    const codecs = meta.columns.map((c: PgColumn) => codecFor(c, 'none', 'UTC'));
    const schema = Schemas.struct(meta.columns.map((c: PgColumn, i: number) => ({ name: c.name, schema: codecs[i]!.schema })), table);
    const toValue = rowToValue(meta.columns.map((c: PgColumn) => c.name), codecs.map((c) => c.parse));
    const shape = new RowShape(schema, codecs, toValue);
    const block = await readRows(client, { text: `SELECT id, t FROM ${table} ORDER BY id`, fields: 2 });
    assert.equal(block.count, texts.length);
    const conv = new JsonConverter();
    conv.configure({ 'schemas.enable': 'false' } as never, false);
    for (let r = 0; r < block.count; r++) {
      const raw = new RowValue(shape, block, r);
      const slow = conv.fromConnectData(table, schema, raw.materialize())!.toString('utf8');
      assert.equal(JSON.parse(slow).t, texts[r]);
      for (const generate of [true, false]) {
        shape.generate = generate;
        assert.equal(conv.fromRawStruct(table, schema, raw)?.toString('utf8'), slow, `row ${r} ${JSON.stringify(texts[r])} generated ${generate}`);
      }
    }
  });

  test('decimals written from their digits equal the materialized JSON at every scale, sign and size', async () => {
    const table = randomName('rawdec');
    await client.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, a numeric(12,2), b numeric(20,5), c numeric(5,5), d numeric(15,0), e numeric(18,3), f numeric(4,1))`);
    const rows: Array<Array<string | null>> = [
      ['0', '0', '0', '0', '0', '0'],
      ['-0.01', '-0.00001', '-0.00001', '-1', '-0.001', '-0.1'],
      ['0.10', '123456789012345.12345', '0.12345', '999999999999999', '999999999999999.999', '999.9'],
      ['-9999999999.99', '-9999999999.99999', '-0.99999', '-999999999999999', '-99999999999.999', '-999.9'],
      ['127.00', '1.5', '0.00128', '128', '32768.000', '12.8'],
      ['NaN', '100000000000.00001', '0.5', '450359962737049', '1234567890123.456', '0.0'],
      [null, null, null, null, null, null],
    ];
    for (const r of rows) await client.query(`INSERT INTO ${table} (a, b, c, d, e, f) VALUES ($1, $2, $3, $4, $5, $6)`, r);
    const meta = await tableMeta(client, { schema: 'public', table });
    for (const mapping of ['none', 'best_fit', 'precision_only'] as const) {
      const codecs = meta.columns.map((c: PgColumn) => codecFor(c, mapping, 'UTC'));
      const schema = Schemas.struct(meta.columns.map((c: PgColumn, i: number) => ({ name: c.name, schema: codecs[i]!.schema })), table);
      const toValue = rowToValue(meta.columns.map((c: PgColumn) => c.name), codecs.map((c) => c.parse));
      const shape = new RowShape(schema, codecs, toValue);
      const block = await readRows(client, { text: `SELECT id, a, b, c, d, e, f FROM ${table} ORDER BY id`, fields: 7 });
      const viaPg = await client.query({ text: `SELECT id, a, b, c, d, e, f FROM ${table} ORDER BY id`, rowMode: 'array' });
      for (const settings of [{}, { 'decimal.format': 'NUMERIC' }]) {
        const conv = new JsonConverter();
        conv.configure(settings as never, false);
        for (let r = 0; r < block.count; r++) {
          const raw = new RowValue(shape, block, r);
          let slow: string | undefined;
          let slowError: string | undefined;
          try {
            slow = conv.fromConnectData(table, schema, toValue(viaPg.rows[r] as unknown[]))?.toString('utf8');
          } catch (e) {
            slowError = (e as Error).message;
          }
          for (const generate of [true, false]) {
            shape.generate = generate;
            const what = `${mapping} ${JSON.stringify(settings)} row ${r} generated ${generate}`;
            if (slowError !== undefined) assert.throws(() => conv.fromRawStruct(table, schema, raw), (e: Error) => e.message === slowError, what);
            else assert.equal(conv.fromRawStruct(table, schema, raw)?.toString('utf8'), slow, what);
          }
        }
      }
    }
  });

  test('a required column that is NULL fails the raw path exactly as the materialized path fails', async () => {
    const table = randomName('rawnull');
    await client.query(`CREATE TABLE ${table} (a int4, b text)`);
    await client.query(`INSERT INTO ${table} VALUES (NULL, 'x')`);
    const meta = await tableMeta(client, { schema: 'public', table });
    // the schema says a is required (as a view could): the converter must refuse NULL
    const cols = meta.columns.map((c: PgColumn) => ({ ...c, notNull: true }));
    const codecs = cols.map((c) => codecFor(c, 'none', 'UTC'));
    const schema = Schemas.struct(cols.map((c, i) => ({ name: c.name, schema: codecs[i]!.schema })), table);
    const toValue = rowToValue(cols.map((c) => c.name), codecs.map((c) => c.parse));
    const block = await readRows(client, { text: `SELECT a, b FROM ${table}`, fields: 2 });
    const conv = new JsonConverter();
    conv.configure({} as never, false);
    const raw = new RowValue(new RowShape(schema, codecs, toValue), block, 0);
    let slowErr: unknown;
    try {
      conv.fromConnectData(table, schema, raw.materialize());
    } catch (e) {
      slowErr = e;
    }
    assert.ok(slowErr instanceof Error);
    assert.throws(() => conv.fromRawStruct(table, schema, raw), (e: Error) => e.message === (slowErr as Error).message);
  });

  test('a portal read batch by batch: Executes and the close asked for while the statement still waits in the queue are sent, errors end it, and node-postgres keeps working', async () => {
    const within = <T>(p: Promise<T>, what: string) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within 5 s`)), 5000))]);
    const fields = 1;
    // queued behind a statement that is still running: more() and close() come before node-postgres submits it
    const busy = client.query('SELECT pg_sleep(0.2)');
    const s = streamRows(client, { name: randomName('tributary_s'), text: 'SELECT g FROM generate_series(1, 25) g', values: [], fields }, 10);
    s.more();
    s.more();
    const got: number[] = [];
    for (;;) {
      const { block, last } = await within(s.next(), 'next');
      for (let r = 0; r < block.count; r++) got.push(Number(block.text(r, 0)));
      if (last) break;
    }
    assert.deepEqual(got, Array.from({ length: 25 }, (_, i) => i + 1));
    await within(s.close(), 'close');
    await busy;
    // closed before it was even submitted
    const busy2 = client.query('SELECT pg_sleep(0.2)');
    const early = streamRows(client, { name: randomName('tributary_s'), text: 'SELECT g FROM generate_series(1, 1000) g', values: [], fields }, 10);
    await within(early.close(), 'close before submit');
    await busy2;
    assert.equal((await within(client.query('SELECT 1 AS one'), 'a query after the portals')).rows.length, 1);
    // a server error in the middle of the portal: the batches before it, then the error, then the connection is idle
    const bad = streamRows(client, { name: randomName('tributary_s'), text: 'SELECT 10 / (3 - g) FROM generate_series(1, 9) g', values: [], fields }, 2);
    bad.more();
    const first = await within(bad.next(), 'next before the error');
    assert.equal(first.block.count, 2);
    await assert.rejects(within(bad.next(), 'next at the error'), /division by zero/);
    await bad.close().catch(() => undefined);
    assert.equal((await within(client.query('SELECT 1 AS one'), 'a query after the error')).rows.length, 1);
  });

  test('the reader: prepared statements with parameters, server errors, many chunks, and node-postgres keeps working', async () => {
    const table = randomName('rawrd');
    await client.query(`CREATE TABLE ${table} (id int8 PRIMARY KEY, s text)`);
    await client.query(`INSERT INTO ${table} SELECT g, repeat('y', g % 500) FROM generate_series(1, 20000) g`);
    const req = { name: `${table}_q`, text: `SELECT id, s FROM ${table} WHERE id > $1::int8 ORDER BY id LIMIT 15000`, fields: 2 };
    const a = await readRows(client, { ...req, values: ['0'] });
    assert.equal(a.count, 15000);
    assert.equal(a.text(14999, 0), '15000');
    assert.equal(a.text(499, 1), '');
    assert.equal(a.text(498, 1), 'y'.repeat(499));
    // the second run reuses the prepared statement (no Parse), with another parameter
    const b = await readRows(client, { ...req, values: ['19990'] });
    assert.deepEqual([b.count, b.text(0, 0), b.text(9, 0)], [10, '19991', '20000']);
    // a server error is reported with its SQLSTATE; the connection stays usable for both readers
    await assert.rejects(readRows(client, { text: `SELECT nope FROM ${table}`, fields: 1 }), (e: Error & { code?: string }) => e.code === '42703' && /nope/.test(e.message));
    await assert.rejects(readRows(client, { name: `${table}_bad`, text: 'SELECT 1/$1::int4', values: ['0'], fields: 1 }), (e: Error & { code?: string }) => e.code === '22012');
    assert.equal(Number((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n), 20000);
    const c = await readRows(client, { text: `SELECT 1, NULL::text`, fields: 2 });
    assert.deepEqual([c.text(0, 0), c.text(0, 1)], ['1', null]);
    // integers straight from the digits, as Number(text) gives them; anything else is NaN (the caller takes the text)
    const ints = await readRows(client, { text: `SELECT * FROM (VALUES ('0'), ('-42'), ('999999999999999'), ('1000000000000000'), ('1.5'), ('-'), (''), ('x1'), (NULL)) v(t)`, fields: 1 });
    assert.deepEqual(Array.from({ length: ints.count }, (_, r) => ints.smallInt(r, 0)), [0, -42, 999999999999999, NaN, NaN, NaN, NaN, NaN, NaN]);
    // a notice raised while the reader holds the socket still reaches node-postgres (its 'notice' event)
    const notices: string[] = [];
    const onNotice = (m: { message?: string }) => notices.push(String(m.message));
    client.on('notice', onNotice);
    const d = await readRows(client, { text: `DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$; SELECT 7`, fields: 1 });
    client.off('notice', onNotice);
    assert.deepEqual([d.count, d.text(0, 0), notices], [1, '7', ['hello from the server']]);
    // a row of another width than expected is a protocol error, not silently misread
    await assert.rejects(readRows(client, { text: 'SELECT 1, 2, 3', fields: 2 }), /3 fields, expected 2/);
  });

  test('converter slabs are reused only after the runtime released every hold on every view in them, never otherwise', () => {
    const conv = new JsonConverter();
    conv.configure({ 'schemas.enable': 'false' } as never, false);
    const schema = Schemas.struct([{ name: 's', schema: Schemas.string(false) }]);
    const big = 'z'.repeat(4000);
    const text = (i: number) => JSON.stringify({ s: `${i}:${big}` });
    const write = (i: number) => conv.fromConnectData('t', schema, { s: `${i}:${big}` })!;
    const intact = (views: Buffer[], from: number, what: string) => views.forEach((b, i) => assert.equal(b.toString(), text(from + i), `${what} ${i}`));
    const hold = (views: Buffer[]) => [...new Set(views.map((b) => b.buffer))].forEach((m) => conv.retainBytes(m));
    const letGo = (views: Buffer[]) => [...new Set(views.map((b) => b.buffer))].forEach((m) => conv.releaseBytes(m));
    // views nobody held: their memory is never handed out again
    const kept = Array.from({ length: 200 }, (_, i) => write(i));
    for (let i = 0; i < 200; i++) write(1000 + i);
    intact(kept, 0, 'unheld view');
    // batch A is held; batch B is converted into A's last slab but not held yet when A is released (a batch being
    // converted while an acknowledgement arrives): B's bytes must survive the converter moving on
    const a = Array.from({ length: 100 }, (_, i) => write(2000 + i));
    hold(a);
    const b = Array.from({ length: 30 }, (_, i) => write(3000 + i));
    assert.ok(b.some((v) => a.some((w) => w.buffer === v.buffer)), 'the test needs B to share a slab with A');
    letGo(a);
    const c = Array.from({ length: 200 }, (_, i) => write(4000 + i));
    intact(b, 3000, 'view converted before the release');
    intact(c, 4000, 'later view');
    // held and released: the slabs come back
    hold(b);
    hold(c);
    letGo(b);
    letGo(c);
    const mems = new Set([...a, ...b, ...c].map((v) => v.buffer));
    const d = Array.from({ length: 200 }, (_, i) => write(5000 + i));
    assert.ok(d.some((v) => mems.has(v.buffer)), 'a released slab is reused');
    intact(d, 5000, 'view in a reused slab');
  });
});
