import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { javaRegex, javaReplacement } from '../../src/transforms/util.js';

describe('Java regex and replacement syntax', () => {
  it('matches whole inputs and translates Java-only constructs', () => {
    assert.ok(javaRegex('db\\.(.*)', true).test('db.cities'));
    assert.ok(!javaRegex('db', true).test('db.cities'));
    assert.ok(javaRegex('(?i)DB.*', true).test('db.x'));
    assert.ok(javaRegex('\\Aa++b\\z', true).test('aab'));
    assert.ok(javaRegex('[*+]+', true).test('*+*'));
    assert.ok(javaRegex('[]a]+', true).test(']a]'));
  });

  it('replaces $n, ${name} and escaped characters', () => {
    const m = javaRegex('(?<db>\\w+)\\.(\\w+)', true).exec('pg.cities')!;
    assert.equal(javaReplacement('$2-${db}-\\$1')(m), 'cities-pg-$1');
    assert.equal(javaReplacement('$21')(m), 'cities1', 'takes more digits only while they name a group');
    assert.throws(() => javaReplacement('$'), /group index is missing/);
  });
});
