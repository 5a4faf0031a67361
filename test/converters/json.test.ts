import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonConverter } from '../../src/converters/json.js';
import { Schemas, type Schema } from '../../src/sdk/schema.js';
import { TributaryError } from '../../src/sdk/errors.js';

function converter(config: Record<string, unknown> = {}): JsonConverter {
  const c = new JsonConverter();
  c.configure(config, false);
  return c;
}

const citySchema: Schema = Schemas.struct(
  [
    { name: 'id', schema: Schemas.int32() },
    { name: 'big', schema: Schemas.int64() },
    { name: 'name', schema: Schemas.string(true) },
    { name: 'price', schema: Schemas.decimal(2) },
    { name: 'born', schema: Schemas.date(true) },
    { name: 'at', schema: Schemas.timestamp() },
  ],
  'cities.Value',
);
const city = { id: 1, big: 9007199254740993n, name: null, price: '12.34', born: 19000, at: 1700000000000 };

const citySchemaJson =
  '{"type":"struct","fields":[' +
  '{"type":"int32","optional":false,"field":"id"},' +
  '{"type":"int64","optional":false,"field":"big"},' +
  '{"type":"string","optional":true,"field":"name"},' +
  '{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},' +
  '{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"born"},' +
  '{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"at"}' +
  '],"optional":false,"name":"cities.Value"}';
const cityPayloadJson = '{"id":1,"big":9007199254740993,"name":null,"price":"BNI=","born":19000,"at":1700000000000}';

describe('JsonConverter', () => {
  it('writes the schema and payload envelope byte for byte as Kafka Connect does', () => {
    const bytes = converter().fromConnectData('t', citySchema, city);
    assert.equal(bytes!.toString('utf8'), `{"schema":${citySchemaJson},"payload":${cityPayloadJson}}`);
  });

  it('declares the envelope every value of a schema starts with (one Buffer per schema), and nothing without schemas', () => {
    const c = converter();
    const pre = c.valuePrefix(citySchema)!;
    assert.equal(pre.toString(), '{"schema":' + citySchemaJson + ',"payload":');
    assert.equal(c.valuePrefix(citySchema), pre, 'the same object each time');
    for (const v of [city, { ...city, name: 'é"\\', price: '-0.01' }, { ...city, big: 1 }]) {
      const out = c.fromConnectData('t', citySchema, v)!;
      assert.ok(out.subarray(0, pre.length).equals(pre));
    }
    assert.equal(c.valuePrefix(null), undefined);
    assert.equal(converter({ 'schemas.enable': false }).valuePrefix(citySchema), undefined);
  });

  it('writes only the payload when schemas.enable is false', () => {
    const bytes = converter({ 'schemas.enable': false }).fromConnectData('t', citySchema, city);
    assert.equal(bytes!.toString('utf8'), cityPayloadJson);
  });

  it('accepts schemas.enable given as the string false', () => {
    assert.equal(converter({ 'schemas.enable': 'false' }).toJsonText(Schemas.int32(), 5), '5');
  });

  it('encodes decimals as base64 of the minimal two\'s-complement unscaled value', () => {
    const c = converter({ 'schemas.enable': false });
    const d = (v: string, scale = 2) => c.toJsonText(Schemas.decimal(scale), v);
    assert.equal(d('12.34'), '"BNI="');
    assert.equal(d('-12.34'), '"+y4="');
    assert.equal(d('0'), '"AA=="');
    assert.equal(d('1.27'), '"fw=="');
    assert.equal(d('1.28'), '"AIA="');
    assert.equal(d('-1.28'), '"gA=="');
    assert.equal(d('-1.29'), '"/38="');
    assert.equal(d('12.3'), '"BM4="', 'rescales exactly to the schema scale');
    assert.equal(d('123456789012345678901234567890', 0), '"AY7pD/bDc+DuTj8K0g=="');
  });

  it('writes NUMERIC decimals as exact JSON numbers like BigDecimal.toString', () => {
    const c = converter({ 'schemas.enable': false, 'decimal.format': 'NUMERIC' });
    assert.equal(c.toJsonText(Schemas.decimal(2), '12.34'), '12.34');
    assert.equal(c.toJsonText(Schemas.decimal(4), '-12.3'), '-12.3000');
    assert.equal(c.toJsonText(Schemas.decimal(20), '12345678901234567890.12345678901234567890'), '12345678901234567890.12345678901234567890');
    assert.equal(c.toJsonText(Schemas.decimal(10), '0.0000000001'), '1E-10');
    assert.equal(c.toJsonText(Schemas.decimal(3), '0.001'), '0.001');
  });

  it('rejects a decimal with more fraction digits than its scale', () => {
    assert.throws(() => converter().toJsonText(Schemas.decimal(2), '1.234'), (e: unknown) => e instanceof TributaryError && e.code === 'converter.failed');
  });

  it('writes int64 bigints beyond 2^53 as exact digits', () => {
    const c = converter({ 'schemas.enable': false });
    assert.equal(c.toJsonText(Schemas.int64(), -9223372036854775808n), '-9223372036854775808');
    assert.equal(c.toJsonText(Schemas.int64(), 42), '42');
  });

  it('writes floats as Java does, quoting NaN and infinities', () => {
    const c = converter({ 'schemas.enable': false });
    const f64 = (v: number) => c.toJsonText(Schemas.float64(), v);
    assert.equal(f64(1), '1.0');
    assert.equal(f64(0.1), '0.1');
    assert.equal(f64(-0), '-0.0');
    assert.equal(f64(1e7), '1.0E7');
    assert.equal(f64(1.5e-5), '1.5E-5');
    assert.equal(f64(123456.789), '123456.789');
    assert.equal(f64(NaN), '"NaN"');
    assert.equal(f64(-Infinity), '"-Infinity"');
    assert.equal(c.toJsonText(Schemas.float32(), 0.1), '0.1');
    assert.equal(c.toJsonText(Schemas.float32(), 3.4028234663852886e38), '3.4028235E38');
  });

  it('escapes strings as Jackson does', () => {
    const c = converter({ 'schemas.enable': false });
    // characters beyond the BMP as two escaped UTF-16 halves, upper-case hex: the bytes Debezium 3.6.1 emits through
    // Kafka's JsonConverter (npm run compat -- debezium); Jackson's UTF-8 generator does not combine surrogates
    assert.equal(c.toJsonText(Schemas.string(), 'a"b\\c\n\u0001/é😀'), '"a\\"b\\\\c\\n\\u0001/é\\uD83D\\uDE00"');
    const bytes = c.fromConnectData('t', Schemas.string(), 'x𝄞y');
    assert.equal(bytes!.toString('utf8'), '"x\\uD834\\uDD1Ey"');
  });

  it('names float32 and float64 "float" and "double" in schemas, as Kafka\'s JsonConverter does, and reads both spellings', () => {
    const c = converter({ 'schemas.enable': true });
    const s = Schemas.struct([{ name: 'f', schema: Schemas.float32() }, { name: 'd', schema: Schemas.float64() }]);
    const text = c.fromConnectData('t', s, { f: 1.5, d: 2.25 })!.toString('utf8');
    assert.equal(text, '{"schema":{"type":"struct","fields":[{"type":"float","optional":false,"field":"f"},{"type":"double","optional":false,"field":"d"}],"optional":false},"payload":{"f":1.5,"d":2.25}}');
    for (const [t, expected] of [['float', 'float32'], ['double', 'float64'], ['float32', 'float32'], ['float64', 'float64']]) {
      const back = c.toConnectData('t', Buffer.from(`{"schema":{"type":"${t}","optional":false},"payload":1.5}`));
      assert.equal(back.schema?.type, expected);
    }
  });

  it('writes bytes as base64 and maps with string keys as objects, others as pairs', () => {
    const c = converter({ 'schemas.enable': false });
    assert.equal(c.toJsonText(Schemas.bytes(), Buffer.from([1, 2, 3])), '"AQID"');
    assert.equal(c.toJsonText(Schemas.map(Schemas.string(), Schemas.int32()), { a: 1, b: 2 }), '{"a":1,"b":2}');
    assert.equal(c.toJsonText(Schemas.map(Schemas.int32(), Schemas.string()), new Map([[1, 'x'], [2, 'y']])), '[[1,"x"],[2,"y"]]');
    assert.equal(c.toJsonText(Schemas.array(Schemas.int16(true)), [1, null, 3]), '[1,null,3]');
  });

  it('writes map, array and default parts of the schema in Connect\'s order', () => {
    const s: Schema = {
      ...Schemas.struct([
        { name: 'tags', schema: Schemas.array(Schemas.string(), true) },
        { name: 'attrs', schema: Schemas.map(Schemas.string(), Schemas.int64()) },
        { name: 'n', schema: { type: 'int32', optional: true, default: 7, doc: 'a number' } },
      ]),
      version: 2,
      parameters: { a: 'b' },
    };
    const text = converter().toJsonText(s, { tags: null, attrs: {}, n: null });
    assert.equal(text,
      '{"schema":{"type":"struct","fields":[' +
      '{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"tags"},' +
      '{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int64","optional":false},"optional":false,"field":"attrs"},' +
      '{"type":"int32","optional":true,"doc":"a number","default":7,"field":"n"}' +
      '],"optional":false,"version":2,"parameters":{"a":"b"}},"payload":{"tags":null,"attrs":{},"n":7}}');
  });

  it('writes schemaless values with a null schema in the envelope', () => {
    assert.equal(converter().toJsonText(null, { a: 1, b: [true, 'x'], c: 1.5, d: 10n }), '{"schema":null,"payload":{"a":1,"b":[true,"x"],"c":1.5,"d":10}}');
    assert.equal(converter({ 'schemas.enable': false }).toJsonText(undefined, 'k'), '"k"');
  });

  it('turns a null value into null bytes', () => {
    assert.equal(converter().fromConnectData('t', citySchema, null), null);
    assert.equal(converter().fromConnectData('t', null, null), null);
  });

  it('names the field when a required value is null', () => {
    assert.throws(() => converter().toJsonText(citySchema, { ...city, id: null }), /null value .*field 'id'/);
  });

  it('reuses the compiled schema for the same Schema object', () => {
    const c = converter();
    assert.equal(c.schemaJson(citySchema), c.schemaJson(citySchema));
    assert.equal(c.schemaJson(citySchema), citySchemaJson);
  });

  it('reads back what it writes, schema and values included', () => {
    for (const fmt of ['BASE64', 'NUMERIC']) {
      const c = converter({ 'decimal.format': fmt });
      const back = c.toConnectData('t', c.fromConnectData('t', citySchema, city));
      assert.deepEqual(back.schema, citySchema);
      assert.deepEqual(back.value, city);
    }
  });

  it('reads schemaless JSON with exact big integers', () => {
    const c = converter({ 'schemas.enable': false });
    assert.deepEqual(c.toConnectData('t', Buffer.from('{"a":12345678901234567890,"b":1.5,"c":[null,"x"]}')).value, { a: 12345678901234567890n, b: 1.5, c: [null, 'x'] });
  });

  it('refuses plain JSON when schemas are enabled, with a hint', () => {
    assert.throws(() => converter().toConnectData('t', Buffer.from('{"a":1}')), (e: unknown) => e instanceof TributaryError && /schemas.enable=false/.test(e.hint ?? ''));
  });
});
