import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConverter, converterNames, JsonConverter, StringConverter, ByteArrayConverter } from '../../src/converters/index.js';
import { Schemas } from '../../src/sdk/schema.js';
import { TributaryError } from '../../src/sdk/errors.js';

describe('converter registry', () => {
  it('accepts Kafka Connect class names and short ids', () => {
    assert.ok(createConverter('org.apache.kafka.connect.json.JsonConverter', {}, false) instanceof JsonConverter);
    assert.ok(createConverter('org.apache.kafka.connect.storage.StringConverter', {}, true) instanceof StringConverter);
    assert.ok(createConverter('org.apache.kafka.connect.converters.ByteArrayConverter', {}, true) instanceof ByteArrayConverter);
    assert.ok(createConverter('json', {}, false) instanceof JsonConverter);
    assert.ok(converterNames.includes('string'));
  });

  it('reads only its own prefixed sub-config', () => {
    const config = { 'value.converter.schemas.enable': 'false', 'key.converter.schemas.enable': 'true', 'topic.prefix': 'x' };
    const v = createConverter('json', config, false);
    const k = createConverter('json', config, true);
    assert.equal(v.fromConnectData('t', Schemas.int32(), 1)!.toString(), '1');
    assert.equal(k.fromConnectData('t', Schemas.int32(), 1)!.toString(), '{"schema":{"type":"int32","optional":false},"payload":1}');
  });

  it('rejects an unknown class with the nearest name', () => {
    assert.throws(() => createConverter('org.apache.kafka.connect.json.JsonConvertor', {}, false), (e: unknown) =>
      e instanceof TributaryError && e.code === 'config.invalid' && e.key === 'value.converter' && e.hint === "did you mean 'org.apache.kafka.connect.json.JsonConverter'?");
  });

  it('rejects a misspelt converter key naming the full key', () => {
    assert.throws(() => createConverter('json', { 'value.converter.schema.enable': 'false' }, false), (e: unknown) =>
      e instanceof TributaryError && e.key === 'value.converter.schema.enable' && /value\.converter\.schemas\.enable/.test(e.hint ?? ''));
  });

  it('rejects a bad decimal.format', () => {
    assert.throws(() => createConverter('json', { 'value.converter.decimal.format': 'HEX' }, false), /decimal\.format/);
  });
});

describe('StringConverter', () => {
  it('writes String(value) as UTF-8 and null as null', () => {
    const c = createConverter('string', {}, true);
    assert.equal(c.fromConnectData('t', Schemas.int32(), 42)!.toString(), '42');
    assert.equal(c.fromConnectData('t', Schemas.string(), 'héllo')!.toString('utf8'), 'héllo');
    assert.equal(c.fromConnectData('t', Schemas.float64(), 2)!.toString(), '2.0');
    assert.equal(c.fromConnectData('t', Schemas.int64(), 2n ** 70n)!.toString(), '1180591620717411303424');
    assert.equal(c.fromConnectData('t', Schemas.string(), null), null);
    assert.deepEqual(c.toConnectData!('t', Buffer.from('x')), { schema: Schemas.string(true), value: 'x' });
  });

  it('prints structs as Connect\'s Struct.toString does', () => {
    const c = createConverter('string', {}, false);
    const s = Schemas.struct([{ name: 'id', schema: Schemas.int32() }, { name: 'n', schema: Schemas.string(true) }]);
    assert.equal(c.fromConnectData('t', s, { id: 1, n: null })!.toString(), 'Struct{id=1}');
  });
});

describe('ByteArrayConverter', () => {
  it('passes bytes through and refuses other schemas', () => {
    const c = createConverter('bytearray', {}, false);
    const b = Buffer.from([1, 2]);
    assert.equal(c.fromConnectData('t', Schemas.bytes(), b), b);
    assert.throws(() => c.fromConnectData('t', Schemas.string(), 'x'), /Invalid schema type/);
  });
});
