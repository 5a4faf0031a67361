import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Schemas } from '../../src/sdk/schema.js';
import { TributaryError } from '../../src/sdk/errors.js';
import { buildTransformChain, expandKsqlKeyShortcut } from '../../src/transforms/chain.js';
import { transformList, findTransform, findPredicate } from '../../src/transforms/index.js';
import { JsonConverter } from '../../src/converters/json.js';
import { StringConverter } from '../../src/converters/string.js';
import { rec } from './helpers.js';

const T = 'org.apache.kafka.connect.transforms.';
const P = 'org.apache.kafka.connect.transforms.predicates.';

function invalid(key: string, pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof TributaryError, String(e));
    assert.equal(e.code, 'transform.invalid');
    assert.equal(e.key, key);
    if (pattern) assert.match(e.describe(), pattern);
    return true;
  };
}

describe('transform chain', () => {
  it('applies transforms in order', () => {
    const chain = buildTransformChain({
      transforms: 'createKey,extractInt',
      'transforms.createKey.type': `${T}ValueToKey`,
      'transforms.createKey.fields': 'id',
      'transforms.extractInt.type': `${T}ExtractField$Key`,
      'transforms.extractInt.field': 'id',
    });
    const s = Schemas.struct([{ name: 'id', schema: Schemas.int32() }, { name: 'n', schema: Schemas.string() }]);
    const r = chain.apply(rec({ id: 5, n: 'x' }, s))!;
    assert.equal(r.key, 5);
    assert.deepEqual(r.keySchema, Schemas.int32());
    assert.deepEqual(chain.aliases, ['createKey', 'extractInt']);
  });

  it('is a no-op without transforms', () => {
    const r = rec({ a: 1 });
    assert.equal(buildTransformChain({ 'connector.class': 'x' }).apply(r), r);
  });

  it('filters only records matching the predicate, or only the others when negated', () => {
    const base = {
      transforms: 'drop', 'transforms.drop.type': `${T}Filter`, 'transforms.drop.predicate': 'isAudit',
      predicates: 'isAudit', 'predicates.isAudit.type': `${P}TopicNameMatches`, 'predicates.isAudit.pattern': 'audit.*',
    };
    const chain = buildTransformChain(base);
    assert.equal(chain.apply(rec({}, null, { topic: 'audit_log' })), null);
    assert.notEqual(chain.apply(rec({}, null, { topic: 'cities' })), null);
    const negated = buildTransformChain({ ...base, 'transforms.drop.negate': 'true' });
    assert.notEqual(negated.apply(rec({}, null, { topic: 'audit_log' })), null);
    assert.equal(negated.apply(rec({}, null, { topic: 'cities' })), null);
  });

  it('supports HasHeaderKey and RecordIsTombstone predicates', () => {
    const chain = buildTransformChain({
      transforms: 'a,b',
      'transforms.a.type': 'Filter', 'transforms.a.predicate': 'tomb',
      'transforms.b.type': 'Filter', 'transforms.b.predicate': 'h',
      predicates: 'tomb,h',
      'predicates.tomb.type': `${P}RecordIsTombstone`,
      'predicates.h.type': 'HasHeaderKey', 'predicates.h.name': 'skip',
    });
    assert.equal(chain.apply(rec(null)), null);
    assert.equal(chain.apply(rec({}, null, { headers: [{ key: 'skip', value: null }] })), null);
    assert.notEqual(chain.apply(rec({}, null, { headers: [{ key: 'keep', value: null }] })), null);
  });

  it('rejects a wrong class naming the key and the nearest class', () => {
    assert.throws(() => buildTransformChain({ transforms: 'a', 'transforms.a.type': 'org.apache.kafka.connect.transforms.ValueToKy', 'transforms.a.fields': 'x' }),
      invalid('transforms.a.type', /did you mean 'org\.apache\.kafka\.connect\.transforms\.ValueToKey'/));
    assert.throws(() => buildTransformChain({ transforms: 'a', 'transforms.a.type': 'ExtractField$Kye', 'transforms.a.field': 'x' }),
      invalid('transforms.a.type', /did you mean 'ExtractField\$Key'/));
  });

  it('rejects a missing type, a missing field name and a misspelt key', () => {
    assert.throws(() => buildTransformChain({ transforms: 'a' }), invalid('transforms.a.type'));
    assert.throws(() => buildTransformChain({ transforms: 'a', 'transforms.a.type': `${T}ValueToKey` }),
      invalid('transforms.a.fields', /Missing required configuration 'transforms\.a\.fields'/));
    assert.throws(() => buildTransformChain({ transforms: 'a', 'transforms.a.type': `${T}ExtractField$Key` }), invalid('transforms.a.field'));
    assert.throws(() => buildTransformChain({ transforms: 'a', 'transforms.a.type': `${T}ExtractField$Key`, 'transforms.a.field': 'x', 'transforms.a.feild': 'x' }),
      invalid('transforms.a.feild', /did you mean 'transforms\.a\.field'/));
  });

  it('rejects an undefined predicate and a bad negate', () => {
    assert.throws(() => buildTransformChain({ transforms: 'a', 'transforms.a.type': 'Filter', 'transforms.a.predicate': 'p' }), invalid('transforms.a.predicate'));
    assert.throws(() => buildTransformChain({
      transforms: 'a', 'transforms.a.type': 'Filter', 'transforms.a.predicate': 'p', 'transforms.a.negate': 'yes',
      predicates: 'p', 'predicates.p.type': 'RecordIsTombstone',
    }), invalid('transforms.a.negate'));
    assert.throws(() => buildTransformChain({ predicates: 'p', 'predicates.p.type': `${P}TopicNameMatch` }), invalid('predicates.p.type', /TopicNameMatches/));
    assert.throws(() => buildTransformChain({ predicates: 'p', 'predicates.p.type': `${P}TopicNameMatches` }), invalid('predicates.p.pattern'));
  });

  it('wraps runtime failures with the transform alias', () => {
    const chain = buildTransformChain({ transforms: 'k', 'transforms.k.type': 'ValueToKey', 'transforms.k.fields': 'id' });
    assert.throws(() => chain.apply(rec('not a map')), (e: unknown) =>
      e instanceof TributaryError && e.code === 'transform.failed' && /Transform 'k' \(ValueToKey\)/.test(e.message));
  });

  it('lists every transform and predicate with its Connect class name', () => {
    for (const name of ['ValueToKey', 'ExtractField$Key', 'ExtractField$Value', 'ReplaceField$Value', 'InsertField$Value', 'MaskField$Value', 'Cast$Value', 'RegexRouter', 'TimestampRouter', 'Filter', 'HoistField$Value', 'Flatten$Value', 'InsertHeader', 'DropHeaders']) {
      assert.ok(findTransform(`${T}${name}`), name);
    }
    for (const name of ['TopicNameMatches', 'HasHeaderKey', 'RecordIsTombstone']) assert.ok(findPredicate(`${P}${name}`), name);
    assert.ok(transformList.length >= 25);
  });
});

describe('ksqlDB key shortcut', () => {
  it('turns key into ValueToKey plus ExtractField$Key and removes it', () => {
    const out = expandKsqlKeyShortcut({ 'connector.class': 'x', key: 'city_id' });
    assert.equal(out.key, undefined);
    assert.equal(out.transforms, 'createKey,extractString');
    assert.equal(out['transforms.createKey.type'], `${T}ValueToKey`);
    assert.equal(out['transforms.createKey.fields'], 'city_id');
    assert.equal(out['transforms.extractString.type'], `${T}ExtractField$Key`);
    assert.equal(out['transforms.extractString.field'], 'city_id');
    assert.equal(out['key.converter'], 'org.apache.kafka.connect.storage.StringConverter');
  });

  it('appends to existing transforms and keeps a configured key converter', () => {
    const out = expandKsqlKeyShortcut({ key: 'id', transforms: 'route', 'key.converter': 'json' });
    assert.equal(out.transforms, 'route,createKey,extractString');
    assert.equal(out['key.converter'], 'json');
    assert.deepEqual(expandKsqlKeyShortcut({ a: '1' }), { a: '1' });
  });

  it('keys each city by its id end to end through the converters', () => {
    const config = expandKsqlKeyShortcut({ key: 'city_id' });
    const s = Schemas.struct([{ name: 'city_id', schema: Schemas.int32() }, { name: 'name', schema: Schemas.string() }], 'cities');
    const r = buildTransformChain(config).apply(rec({ city_id: 12, name: 'Lyon' }, s))!;
    const keyConv = new StringConverter();
    keyConv.configure({}, true);
    const valConv = new JsonConverter();
    valConv.configure({ 'schemas.enable': false }, false);
    assert.equal(keyConv.fromConnectData(r.topic, r.keySchema, r.key)!.toString(), '12');
    assert.equal(valConv.fromConnectData(r.topic, r.valueSchema, r.value)!.toString(), '{"city_id":12,"name":"Lyon"}');
  });
});
