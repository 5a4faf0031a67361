import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codecFor, fastTimestampMs, timestampToInstant, type PgColumn } from '../../../src/connectors/jdbc/pg-types.js';
import { rowToValue } from '../../../src/connectors/jdbc/querier.js';

/** The JDBC source's fast paths must give what the general code gives. */

function col(name: string, typeName: string, notNull = false, typmod = -1): PgColumn {
  return { name, typeOid: 0, typeName, typeType: 'b', typeCategory: '', typmod, notNull };
}

function slowMs(text: string, tz: string): number | bigint {
  const i = timestampToInstant(text, tz);
  if (i === 'infinity') return 9223372036825200000n;
  if (i === '-infinity') return -9223372036832400000n;
  return i.epochSec * 1000 + Math.floor(i.micros / 1000);
}

describe('JDBC source fast paths', () => {
  it('fastTimestampMs equals the general parse wherever it answers, and declines other forms', () => {
    const texts: string[] = ['1970-01-01 00:00:00+00', '1970-01-01 00:00:00', '2024-02-29 23:59:59.999999+00', '2024-03-10 02:30:00.5+00', '1969-12-31 23:59:59.999+00',
      '0001-01-01 00:00:00+00', '0099-12-31 12:00:00+00', '0100-03-01 00:00:00+00', '1900-02-28 00:00:00.000001+00', '2000-02-29 00:00:00+00', '9999-12-31 23:59:59.999999+00',
      '1582-10-10 00:00:00+00', '2038-01-19 03:14:08+00'];
    for (let k = 0; k < 5000; k++) {
      const ms = Math.floor((Math.random() - 0.3) * 2 ** 46);
      const d = new Date(ms);
      if (d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) continue;
      const iso = d.toISOString();
      const frac = ['', '.' + iso.slice(20, 23), '.' + iso.slice(20, 23) + String(k % 1000).padStart(3, '0'), '.' + String(k % 10)][k % 4]!;
      texts.push(iso.slice(0, 10) + ' ' + iso.slice(11, 19) + frac + (k % 5 === 0 ? '' : '+00'));
    }
    for (const t of texts) {
      assert.equal(fastTimestampMs(t, true), slowMs(t, 'UTC'), t);
      if (t.endsWith('+00')) assert.equal(fastTimestampMs(t, false), slowMs(t, 'America/New_York'), t);
      else assert.ok(Number.isNaN(fastTimestampMs(t, false)), `${t}: local time in another zone takes the general path`);
    }
    for (const t of ['infinity', '-infinity', '0001-01-01 00:00:00+00 BC', '2024-01-01 00:00:00+01', '2024-01-01 00:00:00-05:30', '2024-01-01T00:00:00+00', '12024-01-01 00:00:00+00', '2024-13-01 00:00:00+00', '2024-01-01 00:00:00.1234567+00', 'x']) {
      assert.ok(Number.isNaN(fastTimestampMs(t, true)), t);
    }
  });

  it('timestamp codecs give the same values as before for every form', () => {
    for (const tz of ['UTC', 'Europe/Paris']) {
      for (const typ of ['timestamp', 'timestamptz']) {
        const c = codecFor(col('t', typ), 'none', tz);
        for (const t of ['2024-03-31 02:30:00', '2024-03-31 02:30:00+00', '2024-10-27 02:30:00.123456', '2024-01-01 00:00:00+05:30', 'infinity', '-infinity', '0044-03-15 12:00:00 BC', '0044-03-15 12:00:00+00 BC']) {
          assert.equal(c.parse(t), slowMs(t, tz), `${tz} ${typ} ${t}`);
        }
      }
    }
  });

  it('rowToValue (generated) builds what the generic loop builds', () => {
    const cols = [col('id', 'int8', true), col('name', 'text'), col('amount', 'numeric', true, ((12 << 16) | 2) + 4), col('created', 'timestamptz'), col('flag', 'bool'),
      col('odd "name" é', 'text'), col('1', 'int4'), col('dup', 'text'), col('dup', 'int4'), col('constructor', 'text'), col('bytes', 'bytea')];
    const codecs = cols.map((c) => codecFor(c, 'none', 'UTC'));
    const names = cols.map((c) => c.name);
    const parsers = codecs.map((c) => c.parse);
    const fast = rowToValue(names, parsers);
    const slow = rowToValue(names, parsers, false);
    assert.notEqual(fast, slow);
    const rows: unknown[][] = [
      ['1', 'a', '12.34', '2024-01-01 00:00:00+00', 't', 'x', '5', 'first', '6', 'c', '\\x0102'],
      ['9007199254740993', null, '-0.01', null, null, null, null, null, null, null, null],
      [undefined, 'é😀', '0', 'infinity', 'f', '', '-1', '', '0', '', '\\x'],
    ];
    for (const r of rows) {
      const a = fast(r);
      const b = slow(r);
      assert.deepEqual(a, b);
      assert.deepEqual(Object.keys(a), Object.keys(b), 'same key order');
    }
    // a column named __proto__ keeps the generic semantics
    const proto = rowToValue(['__proto__', 'x'], [(s) => s, (s) => s]);
    assert.deepEqual(Object.keys(proto(['a', 'b'])), Object.keys(rowToValue(['__proto__', 'x'], [(s) => s, (s) => s], false)(['a', 'b'])));
  });
});
