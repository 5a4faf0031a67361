import { Schemas, type Schema } from '../../sdk/schema.js';
import { TributaryError } from '../../sdk/errors.js';
import { civilFromDays, daysFromCivil } from '../postgres/calendar.js';

/** PostgreSQL column metadata as read from pg_attribute/pg_type (or a result's field description). */
export interface PgColumn {
  name: string;
  typeOid: number;
  typeName: string;
  /** 'b' base, 'e' enum, 'd' domain, 'c' composite, 'r' range… */
  typeType: string;
  typeCategory: string;
  typmod: number;
  notNull: boolean;
  /** for domains: the base type's name */
  baseTypeName?: string;
  /** for domains: the base type's OID */
  baseTypeOid?: number;
}

export type NumericMapping = 'none' | 'precision_only' | 'best_fit' | 'best_fit_eager_double';

export interface ColumnCodec {
  schema: Schema;
  /** PostgreSQL text output → Connect value */
  parse: (text: string) => unknown;
  /**
   * How the text maps to the value's JSON, for writers that work on the text's bytes (see row-value.ts): 'int' —
   * the text is the integer (when it is an optional '-' and digits); 'text' — the text is the string value;
   * 'timestamp' / 'timestamp-utc' — `timestampMsAscii` of it (local times in UTC for the latter), when not NaN;
   * 'decimal' — the text is the Decimal value (its digits, at `scale`).
   */
  raw?: 'int' | 'text' | 'timestamp' | 'timestamp-utc' | 'decimal';
  /** the Decimal's scale (raw 'decimal') */
  scale?: number;
  /**
   * The column may be read in binary format (BIN_TIMESTAMP, BIN_TIMESTAMPTZ, BIN_DATE): 8 or 4 bytes the server
   * sends for less than its text costs it, and that become milliseconds or days without parsing.
   */
  binary?: number | undefined;
}

/** Java's PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY, which the JDBC driver returns for ±infinity. */
export const PG_POSITIVE_INFINITY_MS = 9223372036825200000n;
export const PG_NEGATIVE_INFINITY_MS = -9223372036832400000n;

const MS_PER_DAY = 86_400_000;

/** "2024-03-10 02:30:00.123456+01" / "2024-03-10 02:30:00" / "2024-03-10T…" → parts (no time zone applied). */
function digits(t: string, a: number, b: number): number {
  let n = 0;
  for (let i = a; i < b; i++) {
    const c = t.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Fast path for PostgreSQL's ISO output in a UTC session: `YYYY-MM-DD HH:MM:SS[.ffffff][+00]`. */
function fastParts(text: string) {
  const n = text.length;
  if (n < 19 || text.charCodeAt(4) !== 45 || text.charCodeAt(10) !== 32) return null;
  let end = n;
  let offsetSec: number | null = null;
  if (text.endsWith('+00')) {
    end = n - 3;
    offsetSec = 0;
  }
  let micros = 0;
  if (end > 19) {
    if (text.charCodeAt(19) !== 46) return null;
    const frac = digits(text, 20, end);
    if (frac < 0 || end - 20 > 6) return null;
    micros = frac * 10 ** (6 - (end - 20));
  } else if (end !== 19) return null;
  const y = digits(text, 0, 4), mo = digits(text, 5, 7), d = digits(text, 8, 10), h = digits(text, 11, 13), mi = digits(text, 14, 16), s = digits(text, 17, 19);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return null;
  return { y, mo, d, h, mi, s, micros, offsetSec, bc: false };
}

export function parseTimestampParts(text: string): { y: number; mo: number; d: number; h: number; mi: number; s: number; micros: number; offsetSec: number | null; bc: boolean } | null {
  const fast = fastParts(text);
  if (fast) return fast;
  const m = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::?(\d\d))?(?::(\d\d))?)?( BC)?$/.exec(text);
  if (!m) return null;
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  let offsetSec: number | null = null;
  if (m[8]) offsetSec = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0));
  return { y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]), h: Number(m[4]), mi: Number(m[5]), s: Number(m[6]), micros: frac, offsetSec, bc: !!m[12] };
}

/** Offset (seconds east of UTC) of a time zone at a given UTC instant. */
export function zoneOffsetSec(timeZone: string, utcMs: number): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC' || timeZone === 'GMT') return 0;
  const dtf = zoneFormatter(timeZone);
  const parts: Record<string, number> = {};
  for (const p of dtf.formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 1000);
}
const formatters = new Map<string, Intl.DateTimeFormat>();
function zoneFormatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** `digits` of ASCII bytes `b[a, z)`. */
function asciiDigits(b: Uint8Array, a: number, z: number): number {
  let n = 0;
  for (let i = a; i < z; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Milliseconds since the epoch of PostgreSQL's ISO output in a UTC session, `YYYY-MM-DD HH:MM:SS[.ffffff]` followed
 * by `+00` (or by nothing when `localIsUtc`), read from its ASCII bytes `b[s, t)` without allocating; NaN when the
 * text has another form (the caller then takes the general path). Equal to `timestampToInstant` →
 * `epochSec * 1000 + floor(micros / 1000)`.
 */
export function timestampMsAscii(b: Uint8Array, s: number, t: number, localIsUtc: boolean): number {
  const n = t - s;
  if (n < 19 || b[s + 4] !== 45 || b[s + 7] !== 45 || b[s + 10] !== 32 || b[s + 13] !== 58 || b[s + 16] !== 58) return NaN;
  let end = n;
  if (n >= 22 && b[t - 3] === 43 && b[t - 2] === 48 && b[t - 1] === 48) end = n - 3;
  else if (!localIsUtc) return NaN;
  let ms = 0;
  if (end > 19) {
    if (b[s + 19] !== 46 || end - 20 > 6) return NaN;
    const frac = asciiDigits(b, s + 20, s + end);
    if (frac < 0) return NaN;
    ms = Math.floor((frac * 10 ** (6 - (end - 20))) / 1000);
  } else if (end !== 19) return NaN;
  const y = asciiDigits(b, s, s + 4), mo = asciiDigits(b, s + 5, s + 7), d = asciiDigits(b, s + 8, s + 10), h = asciiDigits(b, s + 11, s + 13), mi = asciiDigits(b, s + 14, s + 16), sec = asciiDigits(b, s + 17, s + 19);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return NaN;
  return daysFromCivil(y, mo, d) * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms;
}

const tsScratch = new Uint8Array(40);

/** `timestampMsAscii` of a string (NaN for text that is not short ASCII). */
export function fastTimestampMs(text: string, localIsUtc: boolean): number {
  const n = text.length;
  if (n > tsScratch.length) return NaN;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return NaN;
    tsScratch[i] = c;
  }
  return timestampMsAscii(tsScratch, 0, n, localIsUtc);
}

/**
 * A field asked in binary whose length is not its type's: the column is not of the type it had when the connector
 * read the table's columns (ALTER COLUMN … TYPE since), and its bytes cannot be read as that type.
 */
function binaryFieldError(type: string, len: number, expected: number): TributaryError {
  return new TributaryError('source.query', `A ${type} column read in binary format sent ${len} bytes, not ${expected}: its type changed since the connector read the table's columns`, {
    hint: 'restart the connector (RESTART CONNECTOR) so that it reads the columns again',
  });
}

/** Result formats of a column read in binary (RowsRequest.binary): 0 is text. */
export const BIN_TIMESTAMP = 1;
export const BIN_TIMESTAMPTZ = 2;
export const BIN_DATE = 3;

/** 2000-01-01T00:00:00Z, PostgreSQL's epoch for binary timestamps, in epoch milliseconds */
const PG_EPOCH_MS = 946_684_800_000;
/** days from 1970-01-01 to 2000-01-01 */
const PG_EPOCH_DAYS = 10_957;

/**
 * Epoch milliseconds of a timestamp in PostgreSQL's binary format at `b[s, s + 8)`: int64 microseconds since
 * 2000-01-01 (UTC for timestamptz; a timestamp's wall time, read as UTC). Floored, as `timestampMsAscii` floors the
 * text's microseconds. NaN for ±infinity and for instants more than 2^53 µs (~285 years) from 2000 (the caller then
 * takes the text path, `timestampBinaryText`).
 */
export function timestampBinaryMs(b: Uint8Array, s: number): number {
  const hi = int32At(b, s);
  if (hi >= 0x200000 || hi < -0x200000) return NaN;
  const lo = int32At(b, s + 4) >>> 0;
  const us = hi * 4294967296 + lo;
  const r = us % 1000;
  return (us - r) / 1000 - (r < 0 ? 1 : 0) + PG_EPOCH_MS;
}

/** the big-endian int32 at `b[s, s + 4)` */
function int32At(b: Uint8Array, s: number): number {
  return (b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!;
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;

/** PostgreSQL's ISO text of a day since 1970-01-01, `YYYY-MM-DD` (years before 1 as 1 - year), and whether it is BC */
function isoDay(days: number): [string, boolean] {
  const [y, mo, d] = civilFromDays(days);
  return [`${String(y <= 0 ? 1 - y : y).padStart(4, '0')}-${pad2(mo)}-${pad2(d)}`, y <= 0];
}

/**
 * The text PostgreSQL outputs for the binary timestamp at `b[s, s + 8)` in a session with TimeZone UTC and DateStyle
 * ISO: `YYYY-MM-DD HH:MM:SS[.ffffff, trailing zeros cut]`, then `+00` for timestamptz (`withZone`), then ` BC`
 * for years before 1; `infinity`, `-infinity`. Every consumer of a column's text (offsets, transforms, other
 * converters) sees what the text format would have sent.
 */
export function timestampBinaryText(b: Uint8Array, s: number, len: number, withZone: boolean): string {
  if (len !== 8) throw binaryFieldError(withZone ? 'timestamptz' : 'timestamp', len, 8);
  const v = Buffer.from(b.buffer, b.byteOffset + s, 8).readBigInt64BE(0);
  if (v === 0x7fffffffffffffffn) return 'infinity';
  if (v === -0x8000000000000000n) return '-infinity';
  const DAY = 86_400_000_000n;
  let days = v / DAY;
  let tod = v % DAY;
  if (tod < 0n) {
    tod += DAY;
    days -= 1n;
  }
  const [date, bc] = isoDay(Number(days) + PG_EPOCH_DAYS);
  const t = Number(tod);
  const us = t % 1_000_000;
  const sec = (t - us) / 1_000_000;
  let out = `${date} ${pad2(Math.floor(sec / 3600))}:${pad2(Math.floor(sec / 60) % 60)}:${pad2(sec % 60)}`;
  if (us) out += '.' + String(us).padStart(6, '0').replace(/0+$/, '');
  if (withZone) out += '+00';
  return bc ? out + ' BC' : out;
}

/** Days since 1970-01-01 of a date in PostgreSQL's binary format at `b[s, s + 4)` (int32 days since 2000-01-01); NaN for ±infinity. */
export function dateBinaryDays(b: Uint8Array, s: number): number {
  const d = int32At(b, s);
  return d === 0x7fffffff || d === -0x80000000 ? NaN : d + PG_EPOCH_DAYS;
}

/** The text PostgreSQL outputs (DateStyle ISO) for the binary date at `b[s, s + 4)`: `YYYY-MM-DD[ BC]`, `infinity`, `-infinity`. */
export function dateBinaryText(b: Uint8Array, s: number, len: number): string {
  if (len !== 4) throw binaryFieldError('date', len, 4);
  const d = int32At(b, s);
  if (d === 0x7fffffff) return 'infinity';
  if (d === -0x80000000) return '-infinity';
  const [date, bc] = isoDay(d + PG_EPOCH_DAYS);
  return bc ? date + ' BC' : date;
}

/**
 * Exact instant of a timestamp text: epoch seconds and microseconds within the second.
 * Values without an offset are local times in `timeZone` (db.timezone); DST gaps resolve like java.time.
 */
export function timestampToInstant(text: string, timeZone: string): { epochSec: number; micros: number } | 'infinity' | '-infinity' {
  if (text === 'infinity') return 'infinity';
  if (text === '-infinity') return '-infinity';
  const p = parseTimestampParts(text);
  if (!p) throw new TributaryError('source.query', `Cannot parse timestamp '${text}'`);
  const year = p.bc ? 1 - p.y : p.y;
  let lsec: number;
  if (year >= 100) lsec = Date.UTC(year, p.mo - 1, p.d, p.h, p.mi, p.s) / 1000;
  else {
    // Date.UTC maps years 0–99 to 1900–1999
    const fixedLocal = new Date(0);
    fixedLocal.setUTCFullYear(year, p.mo - 1, p.d);
    fixedLocal.setUTCHours(p.h, p.mi, p.s, 0);
    lsec = Math.floor(fixedLocal.getTime() / 1000);
  }
  if (p.offsetSec !== null) return { epochSec: lsec - p.offsetSec, micros: p.micros };
  let off = zoneOffsetSec(timeZone, lsec * 1000);
  let epoch = lsec - off;
  const off2 = zoneOffsetSec(timeZone, epoch * 1000);
  if (off2 !== off) {
    off = off2;
    epoch = lsec - off;
  }
  return { epochSec: epoch, micros: p.micros };
}

function parseDateDays(text: string): number {
  if (text === 'infinity' || text === '-infinity') {
    throw new TributaryError('source.query', `Date '${text}' cannot be represented as a Connect Date`, { hint: 'filter it out with a query, or cast the column' });
  }
  const m = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/.exec(text);
  if (!m) throw new TributaryError('source.query', `Cannot parse date '${text}'`);
  // exact for every date PostgreSQL holds (JavaScript's Date ends at ±275760 years)
  return daysFromCivil(m[4] ? 1 - Number(m[1]) : Number(m[1]), Number(m[2]), Number(m[3]));
}

function parseTimeMs(text: string): number {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?/.exec(text);
  if (!m) throw new TributaryError('source.query', `Cannot parse time '${text}'`);
  return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 + (m[4] ? Math.floor(Number(m[4].padEnd(6, '0')) / 1000) : 0);
}

function parseBytea(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  // escape format (bytea_output=escape)
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 && text[i + 1] === '\\') {
      out.push(92);
      i++;
    } else if (c === 92) {
      out.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else out.push(c);
  }
  return Buffer.from(out);
}

function int64(text: string): bigint | number {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function numericDecimal(scale: number) {
  return (text: string): string => {
    if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') {
      throw new TributaryError('source.query', `NUMERIC value ${text} cannot be represented as a Connect Decimal`, { hint: "use numeric.mapping=best_fit_eager_double, or a query that maps it" });
    }
    return text;
  };
}

const OID_DATE = 1082;
const OID_TIMESTAMP = 1114;
const OID_TIMESTAMPTZ = 1184;

/**
 * Whether the column (a domain: its base type) is the built-in type of that OID: only those are read in binary (a
 * user type may share a built-in's name in another schema; its bytes are not the built-in's).
 */
function builtin(col: PgColumn, oid: number): boolean {
  return (col.typeType === 'd' ? col.baseTypeOid : col.typeOid) === oid;
}

/**
 * Maps a PostgreSQL column to a Connect schema and a parser from its text form, following Confluent's JDBC
 * source mapping (GenericDatabaseDialect/PostgreSqlDatabaseDialect). No silent precision loss: NUMERIC without
 * precision becomes a string (Connect Decimal needs a fixed scale), and timestamps keep what Connect's
 * millisecond Timestamp type can hold (the offset keeps microseconds).
 */
export function codecFor(col: PgColumn, numericMapping: NumericMapping, timeZone: string): ColumnCodec {
  const optional = !col.notNull;
  const t = col.typeType === 'd' && col.baseTypeName ? col.baseTypeName : col.typeName;
  switch (t) {
    case 'bool':
      return { schema: Schemas.boolean(optional), parse: (s) => s === 't' || s === 'true' };
    case 'int2':
      return { schema: Schemas.int16(optional), parse: Number, raw: 'int' };
    case 'int4':
      return { schema: Schemas.int32(optional), parse: Number, raw: 'int' };
    case 'int8':
    case 'oid':
      return { schema: Schemas.int64(optional), parse: int64, raw: 'int' };
    case 'float4':
      return { schema: Schemas.float32(optional), parse: parseFloatPg };
    case 'float8':
      return { schema: Schemas.float64(optional), parse: parseFloatPg };
    case 'numeric': {
      if (col.typmod < 0) {
        if (numericMapping === 'best_fit_eager_double') return { schema: Schemas.float64(optional), parse: parseFloatPg };
        return { schema: Schemas.string(optional), parse: (s) => s, raw: 'text' };
      }
      const precision = ((col.typmod - 4) >> 16) & 0xffff;
      const scale = (col.typmod - 4) & 0xffff;
      if (numericMapping !== 'none') {
        if (scale === 0 && precision < 19) {
          if (precision < 3) return { schema: Schemas.int8(optional), parse: Number, raw: 'int' };
          if (precision < 5) return { schema: Schemas.int16(optional), parse: Number, raw: 'int' };
          if (precision < 10) return { schema: Schemas.int32(optional), parse: Number, raw: 'int' };
          return { schema: Schemas.int64(optional), parse: int64, raw: 'int' };
        }
        if ((numericMapping === 'best_fit' && scale > 0 && precision <= 15) || numericMapping === 'best_fit_eager_double') {
          return { schema: Schemas.float64(optional), parse: parseFloatPg };
        }
      }
      return { schema: Schemas.decimal(scale, optional), parse: numericDecimal(scale), raw: 'decimal', scale };
    }
    case 'bytea':
      return { schema: Schemas.bytes(optional), parse: parseBytea };
    case 'date':
      return { schema: Schemas.date(optional), parse: parseDateDays, binary: builtin(col, OID_DATE) ? BIN_DATE : undefined };
    case 'time':
    case 'timetz':
      return { schema: Schemas.time(optional), parse: parseTimeMs };
    case 'timestamp':
    case 'timestamptz': {
      const localIsUtc = timeZone === 'UTC' || timeZone === 'Etc/UTC' || timeZone === 'GMT';
      return {
        schema: Schemas.timestamp(optional),
        raw: localIsUtc ? 'timestamp-utc' : 'timestamp',
        // binary: an instant for timestamptz; a timestamp's wall time only maps to one as it stands in UTC
        binary: !builtin(col, t === 'timestamptz' ? OID_TIMESTAMPTZ : OID_TIMESTAMP) ? undefined : t === 'timestamptz' ? BIN_TIMESTAMPTZ : localIsUtc ? BIN_TIMESTAMP : undefined,
        parse: (s) => {
          const fast = fastTimestampMs(s, localIsUtc);
          if (fast === fast) return fast;
          const i = timestampToInstant(s, timeZone);
          if (i === 'infinity') return PG_POSITIVE_INFINITY_MS;
          if (i === '-infinity') return PG_NEGATIVE_INFINITY_MS;
          return i.epochSec * 1000 + Math.floor(i.micros / 1000);
        },
      };
    }
    default:
      return { schema: Schemas.string(optional), parse: (s) => s, raw: 'text' };
  }
}

function parseFloatPg(s: string): number {
  if (s === 'NaN') return NaN;
  if (s === 'Infinity') return Infinity;
  if (s === '-Infinity') return -Infinity;
  return Number(s);
}
