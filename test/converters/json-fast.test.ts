import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonConverter } from '../../src/converters/json.js';
import { writeSafeInt, writeSmallTwosComplementBase64, writeString } from '../../src/converters/json-bytes.js';
import { jsonString, smallTwosComplementBase64 } from '../../src/converters/format.js';
import { Schemas, type Schema } from '../../src/sdk/schema.js';

/**
 * The fast paths of JsonConverter (byte writers into slabs, generated struct writers) must write exactly what the
 * generic string path writes, and fail exactly where and how it fails.
 */

function make(config: Record<string, unknown>, fast: boolean): JsonConverter {
  const c = new JsonConverter();
  c.configure(config, false);
  if (!fast) {
    c.writeBytes = false;
    c.generateStruct = false;
  }
  return c;
}

type Outcome = { bytes: string | null } | { error: string };

function outcome(f: () => Buffer | null): Outcome {
  try {
    const b = f();
    return { bytes: b === null ? null : b.toString('hex') };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

/** a small deterministic generator */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  '', 'a', 'name-42', 'x'.repeat(23), 'y'.repeat(24), 'z'.repeat(25), 'é', 'é'.repeat(30), 'abcdefghijklmnopqrstuvé', 'abcdefghijklmnopqrstuvwé',
  '"', '\\', 'a"b\\c', '\n\t\r\b\f', '\u0000', '\u0001\u001f', '\u000b\u001a', 'tab\tinside a longer string of text', '\u007f', '/', '😀', 'a😀b'.repeat(20),
  '\ud800', '\udc00x', 'x\ud83d', '\u2028\u2029', 'ü'.repeat(100), 'ascii '.repeat(40), 'mixé"d'.repeat(10), 'ok' + '\u0010'.repeat(3) + 'end'.repeat(10),
  'ﬀ ﬁ ﬂ 中文 日本語 한국어 العربية', 'long '.repeat(2000),
];
const INTS = [0, -0, 1, -1, 9, 10, 11, 99, 100, 101, 12345, -12345, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 99_999_999, 100_000_000, 100_000_001,
  1_700_000_000_123, -1_700_000_000_123, 1e15, 1e15 + 7, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 + 2, 1e20, 1e21, -1e21, 5n, -9223372036854775808n, 9223372036854775807n];
const DECIMALS = ['0', '-0', '0.00', '12.34', '-12.34', '1.27', '1.28', '-1.28', '-1.29', '12.3', '.5', '5.', '1', '-1', '0.01', '-0.01', '127', '128', '-128', '-129',
  '32767', '32768', '8388607', '8388608', '999999999999.99', '9999999999999.99', '-9999999999999.99', '99999999999999.99', '123456789012345678901234567890',
  '1e5', '+5', ' 5', '', '-', '.', '1.234', '00012.30', '-0000.10'];

const nested: Schema = Schemas.struct([
  { name: 'a', schema: Schemas.int32() },
  { name: 'b', schema: Schemas.string(true) },
], 'inner');

function richSchema(): Schema {
  return Schemas.struct([
    { name: 'i8', schema: Schemas.int8() },
    { name: 'i16', schema: Schemas.int16(true) },
    { name: 'i32', schema: Schemas.int32() },
    { name: 'i64', schema: Schemas.int64(true) },
    { name: 'f32', schema: Schemas.float32(true) },
    { name: 'f64', schema: Schemas.float64() },
    { name: 'flag', schema: Schemas.boolean(true) },
    { name: 's', schema: Schemas.string() },
    { name: 'so', schema: Schemas.string(true) },
    { name: 'bin', schema: Schemas.bytes(true) },
    { name: 'd0', schema: Schemas.decimal(0, true) },
    { name: 'd2', schema: Schemas.decimal(2) },
    { name: 'd10', schema: Schemas.decimal(10, true) },
    { name: 'd20', schema: Schemas.decimal(20, true) },
    { name: 'day', schema: Schemas.date(true) },
    { name: 'tod', schema: Schemas.time(true) },
    { name: 'ts', schema: Schemas.timestamp() },
    { name: 'inner', schema: { ...nested, optional: true } },
    { name: 'innerReq', schema: nested },
    { name: 'list', schema: Schemas.array(Schemas.string(true), true) },
    { name: 'structs', schema: Schemas.array(nested, true) },
    { name: 'm', schema: Schemas.map(Schemas.string(), Schemas.int64(), true) },
    { name: 'mi', schema: Schemas.map(Schemas.int32(), Schemas.string(), true) },
    { name: 'defInt', schema: { type: 'int32', optional: true, default: 7 } },
    { name: 'defStr', schema: { type: 'string', optional: false, default: 'défaut "x"' } },
    { name: 'name with "quotes" and é', schema: Schemas.string(true) },
    { name: 'toString', schema: Schemas.string(true) },
  ], 'rich.Value');
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function value(r: () => number): Record<string, unknown> {
  const maybe = <T>(v: T): T | null => (r() < 0.15 ? null : v);
  const int = () => pick(r, INTS.filter((x) => typeof x === 'number' && Math.abs(x as number) < 100)) as number;
  return {
    i8: int(),
    i16: maybe(int()),
    i32: pick(r, INTS.filter((x) => typeof x === 'number' && Number.isSafeInteger(x) && Math.abs(x as number) < 2 ** 31)),
    i64: maybe(pick(r, INTS)),
    f32: maybe(pick(r, [0, -0, 0.1, 1, 1e7, 3.4028234663852886e38, NaN, Infinity, 1.5e-5])),
    f64: pick(r, [0, -0, 0.1, 1, 1e7, 123456.789, -Infinity, NaN, 1e300, 5e-324]),
    flag: maybe(r() < 0.5),
    s: pick(r, STRINGS),
    so: maybe(pick(r, STRINGS)),
    bin: maybe(r() < 0.5 ? Buffer.from([0, 1, 2, 250, 255].slice(0, Math.floor(r() * 6))) : new Uint8Array([7, 8, 9])),
    d0: maybe(pick(r, ['0', '1', '-1', '127', '128', '123456789012345678901234567890', '999999999999999', '9999999999999999'])),
    d2: pick(r, DECIMALS.filter((d) => /^-?\d*\.?\d{0,2}$/.test(d) && /\d/.test(d))),
    d10: maybe(pick(r, ['0', '0.0000000001', '-0.0000000001', '12345.6789012345', '99999.9999999999', '1'])),
    d20: maybe(pick(r, ['0', '0.00000000000000000001', '12345678901234567890.12345678901234567890', '-1.5'])),
    day: maybe(r() < 0.8 ? pick(r, [0, 19000, -1, 2932896]) : new Date(Date.UTC(2024, 1, 29))),
    tod: maybe(pick(r, [0, 86_399_999, 3_600_000])),
    ts: r() < 0.9 ? pick(r, [0, 1_700_000_000_123, -1, -62_135_596_800_000, 253_402_300_799_999, 9223372036825200000n]) : new Date(1_700_000_000_000),
    inner: maybe({ a: int(), b: maybe(pick(r, STRINGS)) }),
    innerReq: { a: int(), b: null },
    list: maybe([pick(r, STRINGS), null, pick(r, STRINGS)]),
    structs: maybe([{ a: 1, b: 'x' }, { a: -2, b: null }]),
    m: maybe({ k: 1, 'é"': 2n, '': -3 }),
    mi: maybe(new Map([[1, 'one'], [2, pick(r, STRINGS)]])),
    defInt: maybe(int()),
    defStr: maybe(pick(r, STRINGS)),
    'name with "quotes" and é': maybe(pick(r, STRINGS)),
    toString: pick(r, STRINGS),
  };
}

const CONFIGS: Array<Record<string, unknown>> = [
  {},
  { 'schemas.enable': false },
  { 'decimal.format': 'NUMERIC' },
  { 'replace.null.with.default': false },
];

describe('JsonConverter fast paths write what the generic path writes', () => {
  it('on a rich schema with nulls, defaults, decimals, bytes, nested structs, arrays, maps and unicode/escapes', () => {
    const schema = richSchema();
    for (const cfg of CONFIGS) {
      const fast = make(cfg, true);
      const ref = make(cfg, false);
      const r = rng(42);
      let fastBytes = 0;
      for (let i = 0; i < 3000; i++) {
        const v = value(r);
        const a = outcome(() => fast.fromConnectData('t', schema, v));
        const b = outcome(() => ref.fromConnectData('t', schema, v));
        assert.deepEqual(a, b, `config ${JSON.stringify(cfg)}, value #${i}`);
        if ('bytes' in a) fastBytes++;
        // the string writers too (toJsonText takes the generated struct writer, not the byte path)
        assert.equal(outcome(() => Buffer.from(fast.toJsonText(schema, v) ?? '', 'utf8')).toString(), outcome(() => Buffer.from(ref.toJsonText(schema, v) ?? '', 'utf8')).toString());
      }
      assert.ok(fastBytes > 100, 'most values convert');
    }
  });

  it('on every kind of field alone, including invalid values (same error, same field path)', () => {
    const bad: unknown[] = [null, undefined, 'text', 12, 1.5, -0, 2 ** 53 + 2, 7n, true, {}, [], Buffer.from('x'), new Date(0), '12.345', '1e5', NaN];
    const schemas: Schema[] = [
      Schemas.int8(), Schemas.int32(true), Schemas.int64(), Schemas.float64(), Schemas.boolean(), Schemas.string(), Schemas.string(true), Schemas.bytes(),
      Schemas.decimal(2), Schemas.decimal(0, true), Schemas.date(), Schemas.time(), Schemas.timestamp(true), nested, Schemas.array(Schemas.int32()),
      Schemas.map(Schemas.string(), Schemas.string()), { type: 'int64', optional: false, default: 5 }, { type: 'string', optional: true, default: 'd' },
    ];
    for (const cfg of CONFIGS) {
      const fast = make(cfg, true);
      const ref = make(cfg, false);
      for (const fs of schemas) {
        const outer = Schemas.struct([{ name: 'f', schema: fs }, { name: 'g', schema: Schemas.string(true) }], 'wrap');
        for (const v of [...bad, ...INTS, ...DECIMALS, ...STRINGS]) {
          for (const [s, x] of [[fs, v], [outer, { f: v, g: 'é' }]] as const) {
            assert.deepEqual(outcome(() => fast.fromConnectData('t', s, x)), outcome(() => ref.fromConnectData('t', s, x)), `${JSON.stringify(cfg)} ${JSON.stringify(s)} ${String(v)}`);
          }
        }
        // not an object where a struct is expected
        for (const x of ['s', 1, [1], true]) assert.deepEqual(outcome(() => fast.fromConnectData('t', outer, x)), outcome(() => ref.fromConnectData('t', outer, x)));
      }
    }
  });

  it('across slab boundaries, for values larger than a slab, and one after another in shared memory', () => {
    const schema = Schemas.struct([{ name: 'id', schema: Schemas.int64() }, { name: 'text', schema: Schemas.string() }], 'big');
    const fast = make({}, true);
    const ref = make({}, false);
    const r = rng(7);
    const sizes = [1, 100, 1000, 20_000, 100_000, 262_000, 300_000, 1_100_000];
    for (let i = 0; i < 2000; i++) {
      const n = i % 50 === 0 ? pick(r, sizes) : Math.floor(r() * 900);
      const v = { id: i, text: (i % 3 === 0 ? 'é' : 'a').repeat(n) };
      assert.equal(fast.fromConnectData('t', schema, v)!.toString('hex'), ref.fromConnectData('t', schema, v)!.toString('hex'), `record ${i} (${n} chars)`);
    }
    // small values share one slab: the fast path is taken
    const a = fast.fromConnectData('t', schema, { id: 1, text: 'a' })!;
    const b = fast.fromConnectData('t', schema, { id: 2, text: 'b' })!;
    assert.equal(a.buffer, b.buffer);
    assert.equal(a.toString(), ref.fromConnectData('t', schema, { id: 1, text: 'a' })!.toString());
  });

  it('byte writers agree with the string helpers on their own', () => {
    const b = Buffer.alloc(64);
    const ints = [0, -0, 5, -5, 10, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 1e8, 1e8 - 1, 1e8 + 1, 123456789012, 1_700_000_000_123, 2 ** 53 - 1, -(2 ** 53 - 1)];
    for (let k = 0; k < 2000; k++) ints.push(Math.floor((Math.random() - 0.5) * 2 ** (1 + (k % 53))));
    for (const n of ints) {
      const p = writeSafeInt(n, b, 3, 64);
      assert.equal(b.toString('latin1', 3, p), '' + n);
      const q = writeSmallTwosComplementBase64(n % 1e15, b, 0, 64);
      assert.equal(b.toString('latin1', 0, q), '"' + smallTwosComplementBase64(n % 1e15) + '"');
    }
    for (const s of STRINGS.filter((x) => x.length < 20)) {
      const p = writeString(s, b, 1, 64);
      assert.equal(b.subarray(1, p).toString('hex'), Buffer.from(jsonString(s), 'utf8').toString('hex'), JSON.stringify(s));
    }
    assert.equal(writeString('x'.repeat(30), b, 0, 64), -1, 'no room: -1, nothing claimed');
  });

  it('a frozen struct shared by many values is written once and copied; unfrozen or changed structs are written each time', () => {
    const source = Schemas.struct([{ name: 'version', schema: Schemas.string() }, { name: 'ts_ms', schema: Schemas.int64() }, { name: 'snapshot', schema: Schemas.string(true) }, { name: 'txId', schema: Schemas.int64(true) }], 'source');
    const schema = Schemas.struct([{ name: 'after', schema: nested }, { name: 'source', schema: source }, { name: 'op', schema: Schemas.string() }], 'envelope');
    for (const cfg of CONFIGS) {
      const fast = make(cfg, true);
      const ref = make(cfg, false);
      const same = (v: unknown, what: string) => assert.equal(fast.fromConnectData('t', schema, v)!.toString(), ref.fromConnectData('t', schema, v)!.toString(), what);
      const r = rng(7);
      const shared = Object.freeze({ version: '3.6.1', ts_ms: 1_700_000_000_000, snapshot: 'true', txId: 42 });
      const mutable: Record<string, unknown> = { version: '3.6.1', ts_ms: 1, snapshot: 'true', txId: 1 };
      for (let i = 0; i < 300; i++) {
        same({ after: { a: Math.floor(r() * 1000) - 500, b: r() < 0.2 ? null : pick(r, STRINGS) }, source: shared, op: 'r' }, `shared frozen source, value ${i}`);
        // the same mutable object changed between values: never served from the cache
        mutable.ts_ms = i;
        mutable.snapshot = i % 2 ? 'last' : null;
        same({ after: { a: Math.floor(r() * 1000) - 500, b: r() < 0.2 ? null : pick(r, STRINGS) }, source: mutable, op: 'r' }, `mutable source, value ${i}`);
        // a new frozen object after the shared one: its own bytes
        if (i % 50 === 0) same({ after: { a: Math.floor(r() * 1000) - 500, b: r() < 0.2 ? null : pick(r, STRINGS) }, source: Object.freeze({ ...shared, snapshot: 'last', ts_ms: i }), op: 'r' }, `new frozen source ${i}`);
      }
      // a frozen object holding a mutable one is not cached: the inner object may change
      const inner = { version: 'x', ts_ms: 1, snapshot: null, txId: null };
      const outerSchema = Schemas.struct([{ name: 'w', schema: Schemas.struct([{ name: 's', schema: source }], 'w') }], 'o');
      const holder = Object.freeze({ s: inner });
      const a = fast.fromConnectData('t', outerSchema, { w: holder })!.toString();
      inner.ts_ms = 2;
      const b = fast.fromConnectData('t', outerSchema, { w: holder })!.toString();
      assert.notEqual(a, b);
      assert.equal(b, ref.fromConnectData('t', outerSchema, { w: holder })!.toString());
      // nor a frozen object holding a Date (frozen or not, setTime still changes it)
      const tsSchema = Schemas.struct([{ name: 'w', schema: Schemas.struct([{ name: 'at', schema: Schemas.timestamp() }], 'w') }], 'o2');
      const when = new Date(1_700_000_000_000);
      const frozenDate = Object.freeze({ at: Object.freeze(when) });
      const c1 = fast.fromConnectData('t', tsSchema, { w: frozenDate })!.toString();
      when.setTime(1_800_000_000_000);
      const c2 = fast.fromConnectData('t', tsSchema, { w: frozenDate })!.toString();
      assert.notEqual(c1, c2);
      assert.equal(c2, ref.fromConnectData('t', tsSchema, { w: frozenDate })!.toString());
    }
  });
});
