/**
 * PostgreSQL type → Kafka Connect schema and value, following Debezium's PostgreSQL type mapping. Values arrive
 * as text (pgoutput text format, or snapshot rows read as text) in sessions set to TimeZone=UTC, DateStyle=ISO,
 * IntervalStyle=iso_8601 and extra_float_digits=3, so every format below is fixed.
 */
import type { Schema } from '../../sdk/schema.js';
import { civilFromDays, daysFromCivil } from './calendar.js';

export type DecimalMode = 'precise' | 'double' | 'string';
export type TimePrecisionMode = 'adaptive' | 'adaptive_time_microseconds' | 'connect';

export interface TypeOptions {
  decimalMode: DecimalMode;
  timePrecisionMode: TimePrecisionMode;
  /** money fraction digits (Debezium money.fraction.digits, default 2) */
  moneyFractionDigits: number;
}

/** catalog facts about a non-builtin type (enum, domain, array of such, extension types) */
export interface TypeInfo {
  oid: number;
  name: string;
  /** pg_type.typtype: b base, e enum, d domain, c composite, r range, m multirange, p pseudo */
  kind: string;
  /** element type of an array type, else 0 */
  elem: number;
  /** base type of a domain, else 0 */
  base: number;
  baseTypmod: number;
  enumValues?: string[];
}

export type Converter = (text: string) => unknown;

export interface ColumnType {
  schema: Schema;
  convert: Converter;
  /**
   * Debezium's fallback for a NOT NULL column without a value (key-only before images), when it is not the plain
   * zero of the schema type (see events.ts zeroValue): the point (0,0) with its WKB, a string-mode decimal's zero at
   * the column's scale
   */
  zero?: unknown;
}

export const Oid = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, json: 114, xml: 142,
  point: 600, lseg: 601, path: 602, box: 603, polygon: 604, line: 628, cidr: 650, float4: 700, float8: 701,
  circle: 718, macaddr8: 774, money: 790, macaddr: 829, inet: 869, bpchar: 1042, varchar: 1043, date: 1082,
  time: 1083, timestamp: 1114, timestamptz: 1184, interval: 1186, timetz: 1266, bit: 1560, varbit: 1562,
  numeric: 1700, uuid: 2950, jsonb: 3802, tsvector: 3614,
} as const;

/** built-in array type → element type */
export const ArrayElem: Record<number, number> = {
  1000: 16, 1001: 17, 1002: 18, 1003: 19, 1016: 20, 1005: 21, 1007: 23, 1009: 25, 1028: 26, 199: 114, 143: 142,
  1017: 600, 1021: 700, 1022: 701, 791: 790, 1040: 829, 1041: 869, 651: 650, 1014: 1042, 1015: 1043, 1182: 1082,
  1183: 1083, 1115: 1114, 1185: 1184, 1187: 1186, 1270: 1266, 1561: 1560, 1563: 1562, 1231: 1700, 2951: 2950,
  3807: 3802,
};

const s = (type: Schema['type'], optional: boolean, extra: Partial<Schema> = {}): Schema => ({ type, optional, ...extra });

// ---------- text parsers ----------

const TWO53 = 9007199254740991;

function parseInt64(t: string): number | bigint {
  const n = +t;
  return n <= TWO53 && n >= -TWO53 ? n : BigInt(t);
}

function parseFloat(t: string): number {
  switch (t) {
    case 'NaN': return NaN;
    case 'Infinity': return Infinity;
    case '-Infinity': return -Infinity;
    default: return +t;
  }
}

function digits(t: string, a: number, b: number): number {
  let n = 0;
  for (let i = a; i < b; i++) n = n * 10 + (t.charCodeAt(i) - 48);
  return n;
}

/** "YYYY-MM-DD[ BC]" (year may have more than 4 digits) → days since epoch */
export function parseDateDays(t: string): number | null {
  if (t === 'infinity' || t === '-infinity') return null;
  const d1 = t.indexOf('-', 1);
  let y = digits(t, 0, d1);
  const m = digits(t, d1 + 1, d1 + 3);
  const d = digits(t, d1 + 4, d1 + 6);
  if (t.endsWith(' BC')) y = 1 - y;
  return daysFromCivil(y, m, d);
}

/** "HH:MM:SS[.ffffff]" starting at `a` → [micros since midnight, end index] */
function parseTimeMicros(t: string, a: number): [number, number] {
  const h = digits(t, a, a + 2);
  const mi = digits(t, a + 3, a + 5);
  const sec = digits(t, a + 6, a + 8);
  let p = a + 8;
  let frac = 0;
  if (t.charCodeAt(p) === 46 /* . */) {
    p++;
    let scale = 100000;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c < 48 || c > 57) break;
      frac += (c - 48) * scale;
      scale /= 10;
      p++;
    }
    frac = Math.round(frac);
  }
  return [((h * 60 + mi) * 60 + sec) * 1000000 + frac, p];
}

/**
 * timestamp 'infinity' / '-infinity' in µs: Debezium passes on the PostgreSQL JDBC driver's
 * PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY (9223372036825200000 / -9223372036832400000) as
 * MicroTimestamp, and the same divided by 1000 as (Connect) Timestamp in ms.
 */
export const PG_INFINITY_US = 9223372036825200000n;
export const PG_NEG_INFINITY_US = -9223372036832400000n;

/** "YYYY-MM-DD HH:MM:SS[.ffffff][+TZ][ BC]" → µs since epoch (UTC wall clock for timestamp without time zone) */
export function parseTimestampMicros(t: string): number | bigint {
  if (t === 'infinity') return PG_INFINITY_US;
  if (t === '-infinity') return PG_NEG_INFINITY_US;
  const sp = t.indexOf(' ');
  const days = parseDateDays(t.slice(0, sp) + (t.endsWith(' BC') ? ' BC' : ''))!;
  const [tod, p] = parseTimeMicros(t, sp + 1);
  let offsetSec = 0;
  const c = t.charCodeAt(p);
  if (c === 43 || c === 45) offsetSec = parseOffset(t, p);
  const us = days * 86400000000 + tod - offsetSec * 1000000;
  if (us <= TWO53 && us >= -TWO53) return us;
  return BigInt(days) * 86400000000n + BigInt(tod) - BigInt(offsetSec) * 1000000n;
}

/** "+HH[:MM[:SS]]" → seconds east of UTC */
function parseOffset(t: string, p: number): number {
  const sign = t.charCodeAt(p) === 45 ? -1 : 1;
  const h = digits(t, p + 1, p + 3);
  let m = 0;
  let sec = 0;
  if (t.charCodeAt(p + 3) === 58) m = digits(t, p + 4, p + 6);
  if (t.charCodeAt(p + 6) === 58) sec = digits(t, p + 7, p + 9);
  return sign * (h * 3600 + m * 60 + sec);
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function fracText(us: number): string {
  if (us === 0) return '';
  let f = pad(us, 6);
  while (f.endsWith('0')) f = f.slice(0, -1);
  return '.' + f;
}

/** java.time's ISO year: at least 4 digits, '-' before years below 0, '+' before years beyond 9999 */
function isoYear(y: number): string {
  if (y < 0) return '-' + pad(-y, 4);
  return y > 9999 ? '+' + y : pad(y, 4);
}

/**
 * timestamptz text (session TimeZone=UTC, "… +00[ BC]") → ISO-8601 in UTC, as Debezium's ZonedTimestamp: the
 * fraction has exactly `precision` digits (the column's typmod; 6 without one), or for precision 0 as many as
 * needed (none for whole seconds). BC years use astronomical numbering ("-0043-03-15T12:00:00.000000Z").
 */
export function zonedTimestamp(t: string, precision = 6): string {
  if (t === 'infinity' || t === '-infinity') return t;
  const sp = t.indexOf(' ');
  const days = parseDateDays(t.slice(0, sp) + (t.endsWith(' BC') ? ' BC' : ''))!;
  const [tod, p] = parseTimeMicros(t, sp + 1);
  const c = t.charCodeAt(p);
  const offsetSec = c === 43 || c === 45 ? parseOffset(t, p) : 0;
  const micros = tod % 1000000;
  const secs = days * 86400 + (tod - micros) / 1000000 - offsetSec;
  const day = Math.floor(secs / 86400);
  const sod = secs - day * 86400;
  const [y, m, d] = civilFromDays(day);
  const frac = precision > 0 && precision <= 9 ? '.' + (pad(micros, 6) + '000').slice(0, precision) : fracText(micros);
  return `${isoYear(y)}-${pad(m, 2)}-${pad(d, 2)}T${pad(Math.floor(sod / 3600), 2)}:${pad(Math.floor(sod / 60) % 60, 2)}:${pad(sod % 60, 2)}${frac}Z`;
}

/** timetz text → ISO time in UTC ("HH:MM:SS[.f]Z"), as Debezium's ZonedTime */
export function zonedTime(t: string): string {
  const [tod, p] = parseTimeMicros(t, 0);
  const off = parseOffset(t, p);
  let us = tod - off * 1000000;
  const day = 86400000000;
  us = ((us % day) + day) % day;
  const secs = Math.floor(us / 1000000);
  return `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}${fracText(us % 1000000)}Z`;
}

/** ISO-8601 interval (IntervalStyle=iso_8601) → µs, months counted as 30.4375 days as Debezium's MicroDuration */
export function intervalMicros(t: string): number {
  let total = 0;
  let inTime = false;
  let num = '';
  for (let i = 1; i < t.length; i++) {
    const c = t[i]!;
    if (c === 'T') { inTime = true; continue; }
    if ((c >= '0' && c <= '9') || c === '-' || c === '.' || c === '+') { num += c; continue; }
    const v = Number(num);
    num = '';
    if (!inTime) {
      if (c === 'Y') total += v * 12 * 30.4375 * 86400e6;
      else if (c === 'M') total += v * 30.4375 * 86400e6;
      else if (c === 'W') total += v * 7 * 86400e6;
      else if (c === 'D') total += v * 86400e6;
    } else {
      if (c === 'H') total += v * 3600e6;
      else if (c === 'M') total += v * 60e6;
      else if (c === 'S') total += Math.round(v * 1e6);
    }
  }
  return Math.round(total);
}

/**
 * Debezium's VariableScaleDecimal {scale, value} of a numeric without typmod: BigDecimal.stripTrailingZeros(), never
 * below scale 0 (2.500 → scale 1, 1000.0 → scale 0)
 */
export function variableScaleDecimal(t: string): { scale: number; value: Buffer } {
  const dot = t.indexOf('.');
  if (dot >= 0) {
    let end = t.length;
    while (end > dot + 1 && t.charCodeAt(end - 1) === 48) end--;
    if (end === dot + 1) end = dot;
    if (end !== t.length) t = t.slice(0, end);
  }
  return decimalToUnscaled(t);
}

/** unscaled two's-complement big-endian bytes of a decimal text, and its scale (Debezium VariableScaleDecimal) */
export function decimalToUnscaled(t: string): { scale: number; value: Buffer } {
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  const dot = body.indexOf('.');
  const scale = dot < 0 ? 0 : body.length - dot - 1;
  let n = BigInt(dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1));
  if (neg) n = -n;
  return { scale, value: bigIntToTwos(n) };
}

export function bigIntToTwos(n: bigint): Buffer {
  const bytes: number[] = [];
  let v = n;
  for (;;) {
    const b = Number(v & 0xffn);
    bytes.unshift(b);
    v >>= 8n;
    if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
}

/** "\x0a0b" → bytes */
function parseBytea(t: string): Buffer {
  if (t.startsWith('\\x')) return Buffer.from(t.slice(2), 'hex');
  // escape format (bytea_output=escape)
  const out: number[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '\\') {
      if (t[i + 1] === '\\') { out.push(92); i++; } else { out.push(parseInt(t.slice(i + 1, i + 4), 8)); i += 3; }
    } else out.push(t.charCodeAt(i));
  }
  return Buffer.from(out);
}

/** "0101…" → Debezium Bits: little-endian bytes of the bit string's value (java.util.BitSet#toByteArray) */
function parseBits(t: string): Buffer {
  let v = t.length ? BigInt('0b' + t) : 0n;
  const out: number[] = [];
  while (v > 0n) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.from(out);
}

/** "(x,y)" → Debezium Point struct with WKB */
function parsePoint(t: string): Record<string, unknown> {
  const comma = t.indexOf(',');
  const x = +t.slice(1, comma);
  const y = +t.slice(comma + 1, t.length - 1);
  const wkb = Buffer.allocUnsafe(21);
  wkb[0] = 1;
  wkb.writeUInt32LE(1, 1);
  wkb.writeDoubleLE(x, 5);
  wkb.writeDoubleLE(y, 13);
  return { x, y, wkb, srid: null };
}

/** money text in any lc_monetary ("$1,234.56", "-$5.00", "($5.00)") → plain decimal text */
function moneyText(t: string, scale: number): string {
  const neg = t.includes('-') || t.startsWith('(');
  let digitsOnly = '';
  let sawDot = false;
  for (const c of t) {
    if (c >= '0' && c <= '9') digitsOnly += c;
    else if ((c === '.' || c === ',') && !sawDot) {
      // the last separator followed by exactly `scale` digits is the decimal point
      digitsOnly += c;
    }
  }
  // normalise: keep the last separator as '.', drop the others
  const last = Math.max(digitsOnly.lastIndexOf('.'), digitsOnly.lastIndexOf(','));
  let int = digitsOnly;
  let frac = '';
  if (last >= 0 && digitsOnly.length - last - 1 === scale) {
    int = digitsOnly.slice(0, last);
    frac = digitsOnly.slice(last + 1);
  }
  int = int.replace(/[.,]/g, '') || '0';
  void sawDot;
  return (neg ? '-' : '') + int + (scale > 0 ? '.' + frac.padEnd(scale, '0') : '');
}

/** Parses a one-dimensional (or nested) array literal "{a,"b c",NULL}" into text elements. */
export function parseArrayLiteral(t: string): unknown[] {
  let i = t.indexOf('{');
  const parseLevel = (): unknown[] => {
    const out: unknown[] = [];
    i++; // skip '{'
    if (t[i] === '}') { i++; return out; }
    for (;;) {
      const c = t[i];
      if (c === '{') {
        out.push(parseLevel());
      } else if (c === '"') {
        let v = '';
        i++;
        while (t[i] !== '"') {
          if (t[i] === '\\') i++;
          v += t[i];
          i++;
        }
        i++;
        out.push(v);
      } else {
        let j = i;
        while (t[j] !== ',' && t[j] !== '}') j++;
        const raw = t.slice(i, j);
        out.push(raw === 'NULL' ? null : raw);
        i = j;
      }
      if (t[i] === ',') { i++; continue; }
      if (t[i] === '}') { i++; return out; }
      // other delimiter (box uses ';'): treat as separator
      i++;
    }
  };
  return parseLevel();
}

// ---------- shared schemas ----------

function named(type: Schema['type'], name: string, optional: boolean, extra: Partial<Schema> = {}): Schema {
  return s(type, optional, { name, version: 1, ...extra });
}

const POINT_FIELDS = (): Schema['fields'] => [
  { name: 'x', schema: s('float64', false) },
  { name: 'y', schema: s('float64', false) },
  { name: 'wkb', schema: s('bytes', true) },
  { name: 'srid', schema: s('int32', true) },
];

const VSD_FIELDS = (): Schema['fields'] => [
  { name: 'scale', schema: s('int32', false) },
  { name: 'value', schema: s('bytes', false) },
];

/**
 * Resolves the Connect schema and converter of a column. `lookup` returns catalog information for non-builtin
 * OIDs (enums, domains, extension types); unknown types map to strings.
 */
export function columnType(typeOid: number, typmod: number, optional: boolean, opts: TypeOptions, lookup: (oid: number) => TypeInfo | undefined): ColumnType {
  const id = (v: string) => v;
  switch (typeOid) {
    case Oid.bool:
      return { schema: s('boolean', optional), convert: (v) => v === 't' };
    case Oid.int2:
      return { schema: s('int16', optional), convert: (v) => +v };
    case Oid.int4:
      return { schema: s('int32', optional), convert: (v) => +v };
    case Oid.int8:
    case Oid.oid:
      return { schema: s('int64', optional), convert: parseInt64 };
    case Oid.float4:
      return { schema: s('float32', optional), convert: parseFloat };
    case Oid.float8:
      return { schema: s('float64', optional), convert: parseFloat };
    case Oid.numeric:
      return numericType(typmod, optional, opts);
    case Oid.money: {
      const scale = opts.moneyFractionDigits;
      if (opts.decimalMode === 'double') return { schema: s('float64', optional), convert: (v) => +moneyText(v, scale) };
      if (opts.decimalMode === 'string') return { schema: s('string', optional), convert: (v) => moneyText(v, scale), zero: scale > 0 ? '0.' + '0'.repeat(scale) : '0' };
      return { schema: named('bytes', 'org.apache.kafka.connect.data.Decimal', optional, { parameters: { scale: String(scale) } }), convert: (v) => moneyText(v, scale) };
    }
    case Oid.char:
    case Oid.name:
    case Oid.text:
    case Oid.bpchar:
    case Oid.varchar:
    case Oid.inet:
    case Oid.cidr:
    case Oid.macaddr:
    case Oid.macaddr8:
      return { schema: s('string', optional), convert: id };
    case Oid.tsvector:
      return { schema: named('string', 'io.debezium.data.Tsvector', optional), convert: id };
    case Oid.xml:
      return { schema: named('string', 'io.debezium.data.Xml', optional), convert: id };
    case Oid.json:
    case Oid.jsonb:
      return { schema: named('string', 'io.debezium.data.Json', optional), convert: id };
    case Oid.uuid:
      return { schema: named('string', 'io.debezium.data.Uuid', optional), convert: id };
    case Oid.bytea:
      return { schema: s('bytes', optional), convert: parseBytea };
    case Oid.bit:
    case Oid.varbit: {
      const len = typmod > 0 ? typmod : 2147483647;
      if (typeOid === Oid.bit && len === 1) return { schema: s('boolean', optional), convert: (v) => v === '1' };
      return { schema: named('bytes', 'io.debezium.data.Bits', optional, { parameters: { length: String(len) } }), convert: parseBits };
    }
    case Oid.date:
      if (opts.timePrecisionMode === 'connect') return { schema: named('int32', 'org.apache.kafka.connect.data.Date', optional), convert: parseDateDays };
      return { schema: named('int32', 'io.debezium.time.Date', optional), convert: parseDateDays };
    case Oid.time: {
      const p = typmod >= 0 ? typmod : 6;
      if (opts.timePrecisionMode === 'connect') return { schema: named('int32', 'org.apache.kafka.connect.data.Time', optional), convert: (v) => Math.floor(parseTimeMicros(v, 0)[0] / 1000) };
      if (opts.timePrecisionMode === 'adaptive' && p <= 3) return { schema: named('int32', 'io.debezium.time.Time', optional), convert: (v) => Math.floor(parseTimeMicros(v, 0)[0] / 1000) };
      return { schema: named('int64', 'io.debezium.time.MicroTime', optional), convert: (v) => parseTimeMicros(v, 0)[0] };
    }
    case Oid.timetz:
      return { schema: named('string', 'io.debezium.time.ZonedTime', optional), convert: zonedTime };
    case Oid.timestamp: {
      const p = typmod >= 0 ? typmod : 6;
      const ms = (v: string) => {
        const us = parseTimestampMicros(v);
        if (typeof us === 'number') return Math.floor(us / 1000);
        // floor division (µs before 1970 round down as java.time does); ±infinity: the JDBC constants / 1000
        const q = us / 1000n;
        return q * 1000n > us ? q - 1n : q;
      };
      if (opts.timePrecisionMode === 'connect') return { schema: named('int64', 'org.apache.kafka.connect.data.Timestamp', optional), convert: ms };
      if (p <= 3) return { schema: named('int64', 'io.debezium.time.Timestamp', optional), convert: ms };
      return { schema: named('int64', 'io.debezium.time.MicroTimestamp', optional), convert: parseTimestampMicros };
    }
    case Oid.timestamptz: {
      const p = typmod >= 0 ? typmod : 6;
      return { schema: named('string', 'io.debezium.time.ZonedTimestamp', optional), convert: (v) => zonedTimestamp(v, p) };
    }
    case Oid.interval:
      return { schema: named('int64', 'io.debezium.time.MicroDuration', optional), convert: intervalMicros };
    case Oid.point:
      return {
        schema: s('struct', optional, { name: 'io.debezium.data.geometry.Point', version: 1, doc: 'Geometry (POINT)', fields: POINT_FIELDS() }),
        convert: parsePoint,
        zero: parsePoint('(0,0)'),
      };
    case Oid.lseg:
    case Oid.path:
    case Oid.box:
    case Oid.polygon:
    case Oid.line:
    case Oid.circle:
      return { schema: s('string', optional), convert: id };
    default:
      break;
  }
  const elem = ArrayElem[typeOid];
  if (elem !== undefined) return arrayType(elem, typmod, optional, opts, lookup);
  const info = lookup(typeOid);
  if (info) {
    if (info.kind === 'e') {
      return { schema: named('string', 'io.debezium.data.Enum', optional, { parameters: { allowed: (info.enumValues ?? []).join(',') } }), convert: id };
    }
    if (info.kind === 'd' && info.base) return columnType(info.base, info.baseTypmod, optional, opts, lookup);
    if (info.elem) return arrayType(info.elem, typmod, optional, opts, lookup);
    if (info.name === 'ltree') return { schema: named('string', 'io.debezium.data.Ltree', optional), convert: id };
    if (info.name === 'citext') return { schema: s('string', optional), convert: id };
  }
  return { schema: s('string', optional), convert: id };
}

/**
 * An array column: the elements get the column's typmod (PostgreSQL keeps the element's typmod on the array column;
 * Debezium builds the element column with the array column's length and scale), so numeric(10,2)[] has Decimal
 * elements of scale 2 and timestamptz(3)[] three fraction digits.
 */
function arrayType(elemOid: number, typmod: number, optional: boolean, opts: TypeOptions, lookup: (oid: number) => TypeInfo | undefined): ColumnType {
  const el = columnType(elemOid, typmod, true, opts, lookup);
  const conv = el.convert;
  const walk = (a: unknown[]): unknown[] => a.map((x) => (x === null ? null : Array.isArray(x) ? walk(x) : conv(x as string)));
  return { schema: s('array', optional, { items: el.schema }), convert: (v) => walk(parseArrayLiteral(v)) };
}

/** numeric NaN/±Infinity in decimal.handling.mode=string: the names of Debezium's SpecialValueDecimal values */
const SPECIAL_NUMERIC_NAMES: Record<string, string> = { NaN: 'NAN', Infinity: 'POSITIVE_INFINITY', '-Infinity': 'NEGATIVE_INFINITY' };

function numericType(typmod: number, optional: boolean, opts: TypeOptions): ColumnType {
  const precision = typmod < 0 ? 0 : ((typmod - 4) >> 16) & 0xffff;
  let scale = typmod < 0 ? 0 : (typmod - 4) & 0x7ff;
  if (scale > 1000) scale -= 2048; // negative scale (PG15+)
  if (opts.decimalMode === 'double') return { schema: s('float64', optional), convert: parseFloat };
  if (opts.decimalMode === 'string') {
    // BigDecimal.toPlainString() of the value (PostgreSQL's text), Debezium's enum names for the special values;
    // a missing NOT NULL value is zero at the column's scale ("0.00"; "0" without typmod)
    return {
      schema: s('string', optional),
      convert: (v) => SPECIAL_NUMERIC_NAMES[v] ?? v,
      zero: scale > 0 ? '0.' + '0'.repeat(scale) : '0',
    };
  }
  const special = (v: string) => v === 'NaN' || v === 'Infinity' || v === '-Infinity';
  if (typmod < 0) {
    // unconstrained numeric: Debezium's VariableScaleDecimal {scale, value}, trailing fraction zeros stripped
    return {
      schema: s('struct', optional, { name: 'io.debezium.data.VariableScaleDecimal', version: 1, doc: 'Variable scaled decimal', fields: VSD_FIELDS() }),
      convert: (v) => (special(v) ? null : variableScaleDecimal(v)),
    };
  }
  return {
    schema: s('bytes', optional, { name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: String(scale), 'connect.decimal.precision': String(precision) } }),
    // PostgreSQL prints a numeric(p,s) with exactly s fraction digits; NaN/±Infinity have no Decimal form → null
    convert: (v) => (special(v) ? null : v),
  };
}
