import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonConverter } from '../../src/converters/json.js';
import {
  javaBigDecimal, javaDouble, javaFloat, jsonString, parseDecimal, plainDecimal, rescale, twosComplementBytes, fromTwosComplement,
} from '../../src/converters/format.js';
import { Schemas } from '../../src/sdk/schema.js';

describe('number formatting', () => {
  it('formats doubles as Java\'s Double.toString', () => {
    const cases: Array<[number, string]> = [
      [0, '0.0'], [1, '1.0'], [-2.5, '-2.5'], [0.001, '0.001'], [0.0001, '1.0E-4'], [9999999, '9999999.0'],
      [1e7, '1.0E7'], [123456789.5, '1.234567895E8'], [1e21, '1.0E21'], [5e-324, '4.9E-324'], [Number.MAX_VALUE, '1.7976931348623157E308'],
    ];
    for (const [d, s] of cases) assert.equal(javaDouble(d), s, String(d));
  });

  it('formats floats as Java\'s Float.toString', () => {
    assert.equal(javaFloat(1.1), '1.1');
    assert.equal(javaFloat(16777217), '1.6777216E7');
    assert.equal(javaFloat(1e-10), '1.0E-10');
    assert.equal(javaFloat(1.4e-45), '1.4E-45');
    assert.equal(javaFloat(2), '2.0');
  });

  it('formats BigDecimal text as Java\'s BigDecimal.toString', () => {
    assert.equal(javaBigDecimal(1234n, 2), '12.34');
    assert.equal(javaBigDecimal(-5n, 3), '-0.005');
    assert.equal(javaBigDecimal(1n, 7), '1E-7');
    assert.equal(javaBigDecimal(123n, 8), '0.00000123');
    assert.equal(javaBigDecimal(123n, 9), '1.23E-7');
    assert.equal(javaBigDecimal(12n, -3), '1.2E+4');
    assert.equal(javaBigDecimal(0n, 2), '0.00');
  });

  it('parses and prints decimal text exactly', () => {
    assert.deepEqual(parseDecimal('-12.3400'), { unscaled: -123400n, scale: 4 });
    assert.deepEqual(parseDecimal('1E-10'), { unscaled: 1n, scale: 10 });
    assert.equal(plainDecimal(rescale(parseDecimal('1.5'), 3), 3), '1.500');
    assert.equal(plainDecimal(-5n, 3), '-0.005');
  });

  it('round-trips two\'s-complement bytes', () => {
    for (const v of [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, -(2n ** 70n), 2n ** 70n - 1n]) {
      assert.equal(fromTwosComplement(twosComplementBytes(v)), v, String(v));
    }
  });

  it('escapes every control character with upper-case hex', () => {
    assert.equal(jsonString('\u001f\u007f\t\r\b\f'), '"\\u001F\u007f\\t\\r\\b\\f"');
  });
});

describe('decimal fast paths', () => {
  it('agree with the exact slow path for many values', () => {
    const b64 = new JsonConverter();
    b64.configure({ 'schemas.enable': false });
    const num = new JsonConverter();
    num.configure({ 'schemas.enable': false, 'decimal.format': 'NUMERIC' });
    const texts = ['0', '-0', '-0.00', '.5', '0.5', '007.10', '-1', '99999999999999.9', '-99999999999999.99', '12345678901234567.89', '0.0000001', '-0.000000123', '1234.5'];
    for (let i = 0; i < 300; i++) texts.push(((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 18)).toFixed(Math.floor(Math.random() * 9)));
    for (const scale of [0, 2, 4, 9]) {
      const schema = Schemas.decimal(scale);
      for (const t of texts) {
        const d = parseDecimal(t);
        if (d.scale > scale) continue;
        const u = rescale(d, scale);
        assert.equal(b64.toJsonText(schema, t), '"' + twosComplementBytes(u).toString('base64') + '"', `${t} scale ${scale}`);
        assert.equal(num.toJsonText(schema, t), javaBigDecimal(u, scale), `${t} scale ${scale}`);
      }
    }
  });
});
