/**
 * Value encodings where Tributary follows Debezium 3.6.1 byte for byte (docs/debezium-compat.md):
 * VariableScaleDecimal, Decimal arrays, ZonedTimestamp precision and BC years, timestamp infinity, Tsvector,
 * string-mode special values and the zero values of key-only before images.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { columnType, variableScaleDecimal, zonedTimestamp, type TypeOptions } from '../../../src/connectors/postgres/types.js';
import { buildTableModel, toRow } from '../../../src/connectors/postgres/events.js';
import { resolvePgCdcConfig } from '../../../src/connectors/postgres/config.js';
import { embeddedPg18, stopFixture, rnd, baseConfig, Harness, cleanupSlot } from './pg-fixture.js';

after(async () => {
  await stopFixture();
});

const precise: TypeOptions = { decimalMode: 'precise', timePrecisionMode: 'adaptive', moneyFractionDigits: 2 };
const stringMode: TypeOptions = { ...precise, decimalMode: 'string' };
const none = () => undefined;
const numericTypmod = (p: number, s: number) => ((p << 16) | s) + 4;

test('numeric without typmod drops trailing fraction zeros, never below scale 0, also in numeric[]', () => {
  assert.deepEqual(variableScaleDecimal('2.500'), { scale: 1, value: Buffer.from([25]) });
  assert.deepEqual(variableScaleDecimal('1000.0'), { scale: 0, value: Buffer.from('A+g=', 'base64') });
  assert.deepEqual(variableScaleDecimal('100'), { scale: 0, value: Buffer.from([100]) });
  assert.deepEqual(variableScaleDecimal('-0.000'), { scale: 0, value: Buffer.from([0]) });
  // Debezium's bytes for 1.23456789012345678901234567890 (scale 28, not 29)
  assert.deepEqual(variableScaleDecimal('1.23456789012345678901234567890'), { scale: 28, value: Buffer.from('J+QbMka+ybFuOYEV', 'base64') });
  const n = columnType(1700, -1, true, precise, none);
  assert.deepEqual(n.convert('2.500'), { scale: 1, value: Buffer.from([25]) });
  const arr = columnType(1231, -1, true, precise, none);
  assert.deepEqual(arr.convert('{2.500,1000.0,NULL}'), [{ scale: 1, value: Buffer.from([25]) }, { scale: 0, value: Buffer.from('A+g=', 'base64') }, null]);
});

test('numeric(p,s)[] elements are Decimal of the column precision and scale', () => {
  const t = columnType(1231, numericTypmod(10, 2), true, precise, none);
  assert.deepEqual(t.schema.items, {
    type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '10' },
  });
  assert.deepEqual(t.convert('{1.50,NULL,-2.00}'), ['1.50', null, '-2.00']);
});

test('timestamptz prints exactly the column precision as fraction digits, BC years astronomically', () => {
  assert.equal(zonedTimestamp('2024-01-01 00:00:00+00'), '2024-01-01T00:00:00.000000Z');
  assert.equal(zonedTimestamp('2024-03-10 06:59:59.5+00', 3), '2024-03-10T06:59:59.500Z');
  assert.equal(zonedTimestamp('2024-03-10 06:59:59+00', 0), '2024-03-10T06:59:59Z');
  assert.equal(zonedTimestamp('2024-03-10 01:59:59.999999-05', 6), '2024-03-10T06:59:59.999999Z');
  assert.equal(zonedTimestamp('0044-03-15 12:00:00+00 BC'), '-0043-03-15T12:00:00.000000Z');
  assert.equal(zonedTimestamp('0001-01-01 00:00:00+00 BC', 0), '0000-01-01T00:00:00Z');
  assert.equal(zonedTimestamp('12345-06-07 08:09:10+00'), '+12345-06-07T08:09:10.000000Z');
  assert.equal(zonedTimestamp('infinity'), 'infinity');
  // the column's typmod decides, for arrays too (6 without one)
  assert.equal(columnType(1184, 3, true, precise, none).convert('2024-03-10 06:59:59.5+00'), '2024-03-10T06:59:59.500Z');
  assert.equal(columnType(1184, -1, true, precise, none).convert('2024-01-01 00:00:00+00'), '2024-01-01T00:00:00.000000Z');
  assert.deepEqual(columnType(1185, -1, true, precise, none).convert('{"2024-01-01 00:00:00+00",NULL}'), ['2024-01-01T00:00:00.000000Z', null]);
  assert.deepEqual(columnType(1185, 0, true, precise, none).convert('{"2024-01-01 00:00:00+00"}'), ['2024-01-01T00:00:00Z']);
});

test('timestamp ±infinity are the PostgreSQL JDBC driver constants (µs), divided by 1000 for millisecond schemas', () => {
  const micro = columnType(1114, -1, true, precise, none);
  assert.equal(micro.schema.name, 'io.debezium.time.MicroTimestamp');
  assert.equal(micro.convert('infinity'), 9223372036825200000n);
  assert.equal(micro.convert('-infinity'), -9223372036832400000n);
  for (const [typmod, opts] of [[3, precise], [0, precise], [6, { ...precise, timePrecisionMode: 'connect' }]] as const) {
    const milli = columnType(1114, typmod, true, opts as TypeOptions, none);
    assert.equal(milli.convert('infinity'), 9223372036825200n);
    assert.equal(milli.convert('-infinity'), -9223372036832400n);
  }
  // before 1970 milliseconds round down
  assert.equal(columnType(1114, 6, true, { ...precise, timePrecisionMode: 'connect' }, none).convert('1500-01-01 00:00:00.0005'), -14831769600000n);
});

test('tsvector is a string named io.debezium.data.Tsvector', () => {
  assert.deepEqual(columnType(3614, -1, true, precise, none).schema, { type: 'string', optional: true, name: 'io.debezium.data.Tsvector', version: 1 });
});

test('decimal.handling.mode=string: NaN/±Infinity as Debezium\'s names; double mode keeps the floats', () => {
  for (const typmod of [-1, numericTypmod(10, 2)]) {
    const t = columnType(1700, typmod, true, stringMode, none);
    assert.deepEqual(['NaN', 'Infinity', '-Infinity', '1.50'].map((v) => t.convert(v)), ['NAN', 'POSITIVE_INFINITY', 'NEGATIVE_INFINITY', '1.50']);
  }
  assert.deepEqual(columnType(1231, -1, true, stringMode, none).convert('{NaN,2.500}'), ['NAN', '2.500']);
  const d = columnType(1700, -1, true, { ...precise, decimalMode: 'double' }, none);
  assert.ok(Number.isNaN(d.convert('NaN')));
  assert.equal(d.convert('-Infinity'), -Infinity);
});

test('key-only before images fill NOT NULL columns with Debezium\'s zero values: the point (0,0) with WKB, string-mode decimals at scale', () => {
  const cols = [
    { name: 'id', typeOid: 23, typmod: -1 },
    { name: 'pt', typeOid: 600, typmod: -1 },
    { name: 'n', typeOid: 1700, typmod: numericTypmod(5, 2) },
    { name: 'nu', typeOid: 1700, typmod: -1 },
    { name: 'm', typeOid: 790, typmod: -1 },
    { name: 'tz', typeOid: 1184, typmod: -1 },
    { name: 'opt', typeOid: 600, typmod: -1 },
  ];
  const catalog = { columns: new Map(cols.map((c) => [c.name, { notNull: c.name !== 'opt' }])), primaryKey: ['id'] };
  const base = { 'database.hostname': 'h', 'database.user': 'u', 'database.dbname': 'd', 'topic.prefix': 'p' };
  const keyOnly = ['1', null, null, null, null, null, null];
  const m = buildTableModel(resolvePgCdcConfig(base), 1, 'public', 't', 'd', cols, catalog, none);
  const row = toRow(m, keyOnly);
  assert.deepEqual(row.pt, { x: 0, y: 0, wkb: Buffer.from('AQEAAAAAAAAAAAAAAAAAAAAAAAAA', 'base64'), srid: null });
  assert.equal(row.n, '0');
  assert.equal(row.tz, '1970-01-01T00:00:00Z');
  assert.equal(row.opt, null);
  const s = toRow(buildTableModel(resolvePgCdcConfig({ ...base, 'decimal.handling.mode': 'string' }), 1, 'public', 't', 'd', cols, catalog, none), keyOnly);
  assert.deepEqual([s.n, s.nu, s.m], ['0.00', '0', '0.00']);
});

test('a REPLICA IDENTITY DEFAULT delete fills a NOT NULL point with POINT(0 0) and its WKB', async () => {
  const t = rnd('pt');
  const names = { slot: rnd('slot'), pub: rnd('pub'), prefix: rnd('srv') };
  const s = await embeddedPg18();
  const c = await s.client();
  await c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, pt point NOT NULL, tv tsvector); INSERT INTO ${t} VALUES (1, '(1,2)', 'a b');`);
  const cfg = baseConfig(s, names, {
    'publication.autocreate.mode': 'filtered', 'table.include.list': `public\\.${t}`, 'snapshot.mode': 'no_data', 'tombstones.on.delete': 'false',
  });
  const h = new Harness();
  try {
    await h.start(cfg);
    await c.query(`DELETE FROM ${t} WHERE id = 1`);
    const d = (await h.pollUntil((rs) => rs.length >= 1))[0]!;
    assert.deepEqual((d.value as { before: unknown }).before, { id: 1, pt: { x: 0, y: 0, wkb: Buffer.from('AQEAAAAAAAAAAAAAAAAAAAAAAAAA', 'base64'), srid: null }, tv: null });
  } finally {
    await h.stop();
    await cleanupSlot(s, names.slot, names.pub);
    await c.end();
  }
});
