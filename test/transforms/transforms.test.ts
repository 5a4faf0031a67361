import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Schemas, type Schema } from '../../src/sdk/schema.js';
import { TributaryError } from '../../src/sdk/errors.js';
import { rec, run } from './helpers.js';

const T = 'org.apache.kafka.connect.transforms.';
const citySchema: Schema = Schemas.struct(
  [
    { name: 'city_id', schema: Schemas.int32() },
    { name: 'name', schema: Schemas.string(true) },
    { name: 'price', schema: Schemas.decimal(2) },
    { name: 'at', schema: Schemas.timestamp(true) },
  ],
  'cities.Value',
);
const city = { city_id: 7, name: 'Oslo', price: '12.34', at: 86_400_000 };

describe('ValueToKey', () => {
  it('builds a struct key from value fields with the fields\' schemas', () => {
    const r = run(`${T}ValueToKey`, { fields: 'city_id,name' }, rec(city, citySchema))!;
    assert.deepEqual(r.key, { city_id: 7, name: 'Oslo' });
    assert.deepEqual(r.keySchema, Schemas.struct([{ name: 'city_id', schema: Schemas.int32() }, { name: 'name', schema: Schemas.string(true) }]));
    assert.equal(r.value, city);
  });

  it('builds a map key from a schemaless value', () => {
    const r = run('ValueToKey', { fields: 'city_id' }, rec({ city_id: 3, x: 1 }))!;
    assert.deepEqual(r.key, { city_id: 3 });
    assert.equal(r.keySchema, null);
  });

  it('fails on a field the value schema lacks, naming the field', () => {
    assert.throws(() => run('ValueToKey', { fields: 'nope' }, rec(city, citySchema)), (e: unknown) =>
      e instanceof TributaryError && e.code === 'transform.failed' && /Field does not exist: nope/.test(e.message));
  });

  it('returns the identical key schema object for records of the same schema', () => {
    const c = { fields: 'city_id' };
    const a = run('ValueToKey', c, rec(city, citySchema))!;
    const b = run('ValueToKey', c, rec(city, citySchema))!;
    assert.deepEqual(a.keySchema, b.keySchema);
  });
});

describe('ExtractField', () => {
  it('extracts a key field with its schema', () => {
    const keySchema = Schemas.struct([{ name: 'city_id', schema: Schemas.int32() }]);
    const r = run(`${T}ExtractField$Key`, { field: 'city_id' }, rec(city, citySchema, { key: { city_id: 7 }, keySchema }))!;
    assert.equal(r.key, 7);
    assert.deepEqual(r.keySchema, Schemas.int32());
  });

  it('extracts a value field schemalessly and passes null values through', () => {
    assert.equal(run('ExtractField$Value', { field: 'a' }, rec({ a: 'x' }))!.value, 'x');
    assert.equal(run('ExtractField$Value', { field: 'a' }, rec(null))!.value, null);
  });

  it('fails on an unknown field', () => {
    assert.throws(() => run('ExtractField$Value', { field: 'zzz' }, rec(city, citySchema)), /Unknown field: zzz/);
  });
});

describe('ReplaceField', () => {
  it('excludes, includes and renames fields of a struct, updating its schema', () => {
    const r = run(`${T}ReplaceField$Value`, { exclude: 'price', renames: 'city_id:id,name:city' }, rec(city, citySchema))!;
    assert.deepEqual(r.value, { id: 7, city: 'Oslo', at: 86_400_000 });
    assert.deepEqual(r.valueSchema!.fields!.map((f) => f.name), ['id', 'city', 'at']);
    assert.equal(r.valueSchema!.name, 'cities.Value');
    const inc = run('ReplaceField$Value', { include: 'name' }, rec(city, citySchema))!;
    assert.deepEqual(inc.value, { name: 'Oslo' });
  });

  it('accepts the legacy blacklist and whitelist names on schemaless values', () => {
    assert.deepEqual(run('ReplaceField$Value', { blacklist: 'a' }, rec({ a: 1, b: 2 }))!.value, { b: 2 });
    assert.deepEqual(run('ReplaceField$Value', { whitelist: 'a', renames: 'a:z' }, rec({ a: 1, b: 2 }))!.value, { z: 1 });
  });

  it('rejects a malformed rename at build time', () => {
    assert.throws(() => run('ReplaceField$Value', { renames: 'a-b' }, rec({})), (e: unknown) =>
      e instanceof TributaryError && e.code === 'transform.invalid' && e.key === 'transforms.t.renames');
  });
});

describe('InsertField', () => {
  it('adds topic, partition, timestamp and static fields to a struct and its schema', () => {
    const r = run(`${T}InsertField$Value`, { 'topic.field': 'topic!', 'partition.field': 'p', 'timestamp.field': 'ts', 'static.field': 'src', 'static.value': 'pg' },
      rec(city, citySchema, { timestamp: 1000 }))!;
    assert.deepEqual(r.value, { ...city, topic: 'cities', p: null, ts: 1000, src: 'pg' });
    assert.deepEqual(r.valueSchema!.fields!.slice(4), [
      { name: 'topic', schema: Schemas.string(false) },
      { name: 'p', schema: Schemas.int32(true) },
      { name: 'ts', schema: Schemas.timestamp(true) },
      { name: 'src', schema: Schemas.string(true) },
    ]);
  });

  it('adds fields to a schemaless map and leaves tombstones alone', () => {
    assert.deepEqual(run('InsertField$Value', { 'topic.field': 't' }, rec({ a: 1 }))!.value, { a: 1, t: 'cities' });
    const tomb = rec(null);
    assert.equal(run('InsertField$Value', { 'topic.field': 't' }, tomb), tomb);
  });

  it('rejects offset.field, which only sink records can fill', () => {
    assert.throws(() => run('InsertField$Value', { 'offset.field': 'o' }, rec({})), (e: unknown) =>
      e instanceof TributaryError && e.key === 'transforms.t.offset.field');
  });
});

describe('MaskField', () => {
  it('masks struct fields to their type\'s empty value, keeping the schema', () => {
    const r = run(`${T}MaskField$Value`, { fields: 'name,city_id,price,at' }, rec(city, citySchema))!;
    assert.deepEqual(r.value, { city_id: 0, name: '', price: '0.00', at: 0 });
    assert.equal(r.valueSchema, citySchema);
  });

  it('masks with a replacement parsed to the field type', () => {
    const r = run('MaskField$Value', { fields: 'name,city_id', replacement: '42' }, rec(city, citySchema))!;
    assert.deepEqual(r.value, { ...city, city_id: 42, name: '42' });
    assert.throws(() => run('MaskField$Value', { fields: 'city_id', replacement: 'x' }, rec(city, citySchema)), /Unable to convert/);
  });

  it('masks schemaless values by their JavaScript type', () => {
    const r = run('MaskField$Value', { fields: 'a,b,c,d' }, rec({ a: 5, b: 'x', c: true, d: [1], e: 1 }))!;
    assert.deepEqual(r.value, { a: 0, b: '', c: false, d: [], e: 1 });
  });
});

describe('Cast', () => {
  it('casts struct fields and updates their schemas', () => {
    const r = run(`${T}Cast$Value`, { spec: 'city_id:string,price:float64,at:string,name:int64' }, rec({ ...city, name: '123' }, citySchema))!;
    assert.deepEqual(r.value, { city_id: '7', name: 123, price: 12.34, at: '1970-01-02' });
    assert.deepEqual(r.valueSchema!.fields!.map((f) => [f.name, f.schema.type, f.schema.optional, f.schema.name]), [
      ['city_id', 'string', false, undefined],
      ['name', 'int64', true, undefined],
      ['price', 'float64', false, undefined],
      ['at', 'string', true, undefined],
    ]);
  });

  it('casts the whole key', () => {
    const r = run('Cast$Key', { spec: 'string' }, rec(city, citySchema, { key: 7, keySchema: Schemas.int32() }))!;
    assert.equal(r.key, '7');
    assert.deepEqual(r.keySchema, Schemas.string());
  });

  it('casts schemaless values with Java conversion rules', () => {
    const r = run('Cast$Value', { spec: 'a:int8,b:boolean,c:string,d:int32' }, rec({ a: 300, b: 'TRUE', c: 1.5, d: 3.9 }))!;
    assert.deepEqual(r.value, { a: 44, b: true, c: '1.5', d: 3 });
  });

  it('rejects an unknown target type at build time', () => {
    assert.throws(() => run('Cast$Value', { spec: 'a:uuid' }, rec({})), (e: unknown) =>
      e instanceof TributaryError && e.code === 'transform.invalid' && /Invalid type found in casting spec: uuid/.test(e.message));
  });
});

describe('HoistField and Flatten', () => {
  it('wraps a value in a one-field struct', () => {
    const r = run(`${T}HoistField$Value`, { field: 'line' }, rec('hello', Schemas.string()))!;
    assert.deepEqual(r.value, { line: 'hello' });
    assert.deepEqual(r.valueSchema, Schemas.struct([{ name: 'line', schema: Schemas.string() }]));
    assert.deepEqual(run('HoistField$Value', { field: 'line' }, rec('x'))!.value, { line: 'x' });
  });

  it('flattens nested structs, making children of optional parents optional', () => {
    const inner = Schemas.struct([{ name: 'lat', schema: Schemas.float64() }], undefined, true);
    const s = Schemas.struct([{ name: 'id', schema: Schemas.int32() }, { name: 'geo', schema: inner }]);
    const r = run(`${T}Flatten$Value`, { delimiter: '_' }, rec({ id: 1, geo: null }, s))!;
    assert.deepEqual(r.value, { id: 1, geo_lat: null });
    assert.deepEqual(r.valueSchema!.fields, [{ name: 'id', schema: Schemas.int32() }, { name: 'geo_lat', schema: Schemas.float64(true) }]);
  });

  it('flattens nested schemaless maps and keeps arrays', () => {
    assert.deepEqual(run('Flatten$Value', {}, rec({ a: { b: { c: 1 }, d: [1, 2] }, e: null }))!.value, { 'a.b.c': 1, 'a.d': [1, 2], e: null });
  });
});

describe('SetSchemaMetadata', () => {
  it('renames the value schema', () => {
    const r = run(`${T}SetSchemaMetadata$Value`, { 'schema.name': 'x.Y', 'schema.version': '3' }, rec(city, citySchema))!;
    assert.equal(r.valueSchema!.name, 'x.Y');
    assert.equal(r.valueSchema!.version, 3);
    assert.equal(r.value, city);
  });
});

describe('RegexRouter and TimestampRouter', () => {
  it('rewrites a topic matching the whole regex with Java $n groups', () => {
    assert.equal(run(`${T}RegexRouter`, { regex: '(.*)ties', replacement: 'pg_$1\\$' }, rec({}))!.topic, 'pg_ci$');
    assert.equal(run('RegexRouter', { regex: 'cit', replacement: 'x' }, rec({}))!.topic, 'cities');
    assert.equal(run('RegexRouter', { regex: '(?i)CITIES', replacement: '' }, rec({}))!.topic, '');
  });

  it('rejects an invalid regex at build time', () => {
    assert.throws(() => run('RegexRouter', { regex: '(', replacement: 'x' }, rec({})), (e: unknown) =>
      e instanceof TributaryError && e.key === 'transforms.t.regex');
    assert.throws(() => run('RegexRouter', { regex: 'a' }, rec({})), /Missing required configuration 'transforms.t.replacement'/);
  });

  it('routes by the record timestamp in UTC', () => {
    const ts = Date.UTC(2024, 1, 3, 4, 5, 6);
    assert.equal(run(`${T}TimestampRouter`, {}, rec({}, null, { timestamp: ts }))!.topic, 'cities-20240203');
    assert.equal(run('TimestampRouter', { 'topic.format': 'x_${timestamp}_${topic}', 'timestamp.format': "yyyy-MM-dd'T'HH:mm:ss" }, rec({}, null, { timestamp: ts }))!.topic,
      'x_2024-02-03T04:05:06_cities');
    assert.throws(() => run('TimestampRouter', { 'timestamp.format': 'yyyyQQ' }, rec({})), /Unsupported pattern letter 'Q'/);
  });
});

describe('header transforms', () => {
  it('inserts and drops headers', () => {
    const r = run(`${T}InsertHeader`, { header: 'src', 'value.literal': 'pg' }, rec({}, null, { headers: [{ key: 'a', value: 'b' }] }))!;
    assert.deepEqual(r.headers, [{ key: 'a', value: 'b' }, { key: 'src', value: 'pg' }]);
    assert.deepEqual(run(`${T}DropHeaders`, { headers: 'a' }, r)!.headers, [{ key: 'src', value: 'pg' }]);
  });
});
