/**
 * Text formatting shared by converters and transforms, matching what the JVM (and Jackson) writes:
 * Java's `Double.toString` / `Float.toString`, `BigDecimal.toString`, Jackson's JSON string escaping, and the
 * exact decimal arithmetic behind Connect's Decimal logical type (unscaled big integer + scale).
 */
import { TributaryError } from '../sdk/errors.js';

const HEX = '0123456789ABCDEF';
// eslint-disable-next-line no-control-regex
// characters outside the Basic Multilingual Plane are written as two escaped UTF-16 halves (\uD834\uDD1E), as
// Jackson's UTF-8 generator in Kafka's JsonConverter writes them
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A JSON string literal as Jackson writes it: escapes `"` `\` and control characters (`\b \t \n \f \r`, others as
 * `\u00XX` upper-case hex); everything else, including non-ASCII and `/`, is written as is.
 */
export function jsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && (c < 0xd800 || c > 0xdfff)) continue;
    if (i > last) out += s.slice(last, i);
    last = i + 1;
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x08: out += '\\b'; break;
      case 0x09: out += '\\t'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0c: out += '\\f'; break;
      case 0x0d: out += '\\r'; break;
      default: out += '\\u' + HEX[c >> 12] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15];
    }
  }
  if (last < s.length) out += s.slice(last);
  return out + '"';
}

/** Java's `Double.toString(d)` (JDK 19+ shortest digits): `1.0`, `0.001`, `1.0E7`, `1.234E-5`, `NaN`, `-Infinity`. */
export function javaDouble(d: number): string {
  if (d !== d) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const abs = d < 0 ? -d : d;
  if (abs >= 1e-3 && abs < 1e7) {
    const s = '' + d;
    return Number.isInteger(d) ? s + '.0' : s;
  }
  let e = d.toExponential(); // shortest round-trip digits, e.g. "1.2345e-5", "1e+21"
  let at = e.indexOf('e');
  if (at === 1) {
    // Java always prints two digits and then picks the two-digit decimal closest to the value (4.9E-324)
    e = d.toExponential(1);
    at = e.indexOf('e');
    if (e.charCodeAt(2) === 0x30) e = e.slice(0, 1) + e.slice(3);
    at = e.indexOf('e');
  }
  let mant = e.slice(0, at);
  if (mant.indexOf('.') < 0) mant += '.0';
  const exp = e.charCodeAt(at + 1) === 0x2b ? e.slice(at + 2) : e.slice(at + 1);
  return mant + 'E' + exp;
}

/** Java's `Float.toString(f)`: the shortest digits that identify the float32 nearest to `d`. */
export function javaFloat(d: number): string {
  const f = Math.fround(d);
  if (f !== f || f === Infinity || f === -Infinity || f === 0) return javaDouble(f);
  for (let p = 1; p < 10; p++) {
    let s = f.toPrecision(p);
    if (Math.fround(Number(s)) !== f) continue;
    if (p === 1) {
      // two digits at least, the closest two-digit decimal (Float.MIN_VALUE prints 1.4E-45)
      const two = f.toPrecision(2);
      if (Math.fround(Number(two)) === f) s = two;
    }
    return javaDouble(Number(s));
  }
  return javaDouble(f);
}

/** Exact decimal number: value = unscaled × 10^-scale. */
export interface BigDecimal {
  unscaled: bigint;
  scale: number;
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses decimal text (`-12.3400`, `1E-10`, `42`) or a number/bigint into an exact unscaled value and scale. */
export function parseDecimal(v: unknown): BigDecimal {
  if (typeof v === 'bigint') return { unscaled: v, scale: 0 };
  const text = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : typeof v === 'string' ? v.trim() : '';
  const m = DECIMAL_RE.exec(text);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
    throw new TributaryError('converter.failed', `Not a decimal number: '${String(v)}'`, {
      hint: 'Decimal values are carried as exact decimal text such as "-12.34"',
    });
  }
  const frac = m[3] ?? '';
  const digits = (m[2] ?? '') + frac;
  const scale = frac.length - (m[4] ? Number(m[4]) : 0);
  const u = BigInt(digits === '' ? '0' : digits);
  return { unscaled: m[1] === '-' ? -u : u, scale };
}

const TEN = 10n;

/** Rescales exactly; throws when digits would be lost (Connect refuses a scale mismatch, we accept exact ones). */
export function rescale(d: BigDecimal, scale: number): bigint {
  if (d.scale === scale) return d.unscaled;
  if (d.scale < scale) return d.unscaled * TEN ** BigInt(scale - d.scale);
  const div = TEN ** BigInt(d.scale - scale);
  if (d.unscaled % div !== 0n) {
    throw new TributaryError('converter.failed', `Decimal value has more than ${scale} fraction digits`, {
      hint: "the value's scale must not exceed the schema's 'scale' parameter",
    });
  }
  return d.unscaled / div;
}

/** Plain decimal text (never exponent notation), as the SDK carries Decimal values: `-12.34`, `0.005`. */
export function plainDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) {
    if (scale < 0 && digits !== '0') digits += '0'.repeat(-scale);
    return neg ? '-' + digits : digits;
  }
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  const s = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  return neg ? '-' + s : s;
}

/** Java's `BigDecimal.toString()`: plain unless the scale is negative or the adjusted exponent is below -6. */
export function javaBigDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const coeff = (neg ? -unscaled : unscaled).toString();
  const adjusted = -scale + (coeff.length - 1);
  if (scale >= 0 && adjusted >= -6) return plainDecimal(unscaled, scale);
  let s = coeff.length > 1 ? coeff[0] + '.' + coeff.slice(1) : coeff;
  s += 'E' + (adjusted > 0 ? '+' : '') + adjusted;
  return neg ? '-' + s : s;
}

/** Java's `BigInteger.toByteArray()`: minimal big-endian two's-complement bytes (at least one byte). */
export function twosComplementBytes(u: bigint): Buffer {
  if (u >= -128n && u <= 127n) return Buffer.of(Number(u) & 0xff);
  const mag = u >= 0n ? u : -u - 1n;
  const hex = mag.toString(16);
  const bits = (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
  const n = (bits >> 3) + 1;
  const v = u >= 0n ? u : (1n << BigInt(n * 8)) + u;
  return Buffer.from(v.toString(16).padStart(n * 2, '0'), 'hex');
}

/** Inverse of {@link twosComplementBytes}. */
export function fromTwosComplement(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let v = BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
  if (b[0]! & 0x80) v -= 1n << BigInt(b.length * 8);
  return v;
}

/** Decimal text (any scale) as the text a Decimal schema with `scale` carries (exactly rescaled). */
export function decimalText(v: unknown, scale: number): string {
  return plainDecimal(rescale(parseDecimal(v), scale), scale);
}

/** The `scale` parameter of a Decimal schema (0 when absent, as Connect requires it). */
export function decimalScale(params: Record<string, string> | undefined): number {
  const s = params?.scale;
  const n = s === undefined ? NaN : Number(s);
  if (!Number.isInteger(n)) {
    throw new TributaryError('converter.failed', "Decimal schema is missing a valid 'scale' parameter", {
      hint: 'build Decimal schemas with Schemas.decimal(scale)',
    });
  }
  return n;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => (n < 10 ? '0' + n : '' + n);

/** `java.util.Date.toString()` on a JVM whose zone is UTC: `Thu Jan 01 00:00:00 UTC 1970`. */
export function javaDateString(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** Minimal schema shape needed by {@link javaToString} (avoids an import cycle with the SDK). */
interface SchemaLike {
  type: string;
  name?: string;
  parameters?: Record<string, string>;
  fields?: Array<{ name: string; schema: SchemaLike }>;
  items?: SchemaLike;
  values?: SchemaLike;
}

/**
 * `value.toString()` as the JVM would print the Connect value: Java number formats, `BigDecimal.toString`,
 * `Struct{a=1,b=x}` (null fields skipped), lists `[a, b]`, maps `{k=v, k2=v2}`, logical dates as `java.util.Date`
 * in UTC. Bytes are decoded as UTF-8 (the JVM would print an object id).
 */
export function javaToString(schema: SchemaLike | null | undefined, v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (schema?.name) {
    case 'org.apache.kafka.connect.data.Decimal': {
      const d = parseDecimal(v);
      return javaBigDecimal(d.unscaled, d.scale);
    }
    case 'org.apache.kafka.connect.data.Date':
      return javaDateString(Number(v) * 86_400_000);
    case 'org.apache.kafka.connect.data.Time':
    case 'org.apache.kafka.connect.data.Timestamp':
      return javaDateString(Number(v));
  }
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      if (schema?.type === 'float32') return javaFloat(v);
      if (schema?.type === 'float64' || !Number.isInteger(v)) return javaDouble(v);
      return v < 1e21 && v > -1e21 ? '' + v : BigInt(v).toString();
    case 'bigint':
    case 'boolean':
      return String(v);
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  if (Array.isArray(v)) return '[' + v.map((x) => javaToString(schema?.items, x)).join(', ') + ']';
  if (v instanceof Date) return javaDateString(v.getTime());
  if (schema?.type === 'struct') {
    const o = v as Record<string, unknown>;
    const parts: string[] = [];
    for (const f of schema.fields ?? []) {
      const x = o[f.name];
      if (x !== null && x !== undefined) parts.push(f.name + '=' + javaToString(f.schema, x));
    }
    return 'Struct{' + parts.join(',') + '}';
  }
  if (typeof v === 'object') {
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
    return '{' + entries.map(([k, x]) => javaToString(undefined, k) + '=' + javaToString(schema?.values, x)).join(', ') + '}';
  }
  return String(v);
}

/** Plain decimal text split into parts, rescaled to `scale` exactly; undefined when the fast parse does not apply. */
interface DecimalParts {
  neg: boolean;
  /** integer digits without leading zeros ('' for zero) */
  int: string;
  /** exactly `scale` fraction digits */
  frac: string;
}

/** Fast path for the common case: plain `[-]digits[.digits]` text with at most `scale` fraction digits. */
export function decimalParts(v: unknown, scale: number): DecimalParts | undefined {
  if (typeof v !== 'string' || scale < 0) return undefined;
  const len = v.length;
  let i = 0;
  let neg = false;
  if (v.charCodeAt(0) === 0x2d) { neg = true; i = 1; }
  const intStart = i;
  while (i < len) { const c = v.charCodeAt(i); if (c < 0x30 || c > 0x39) break; i++; }
  const intEnd = i;
  let frac = '';
  if (i < len) {
    if (v.charCodeAt(i) !== 0x2e) return undefined;
    const fs = ++i;
    while (i < len) { const c = v.charCodeAt(i); if (c < 0x30 || c > 0x39) return undefined; i++; }
    frac = v.slice(fs);
  }
  if (intEnd === intStart && frac === '') return undefined;
  if (frac.length > scale) return undefined;
  let z = intStart;
  while (z < intEnd && v.charCodeAt(z) === 0x30) z++;
  const int = v.slice(z, intEnd);
  if (frac.length < scale) frac += '0'.repeat(scale - frac.length);
  return { neg, int, frac };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of the minimal two's-complement bytes of a safe integer (as Java's BigInteger.toByteArray). */
export function smallTwosComplementBase64(u: number): string {
  const bytes: number[] = [];
  let x = u;
  for (;;) {
    const b = ((x % 256) + 256) % 256;
    bytes.push(b);
    x = Math.floor(x / 256);
    if ((x === 0 && b < 0x80) || (x === -1 && b >= 0x80)) break;
  }
  bytes.reverse();
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    s += B64[a >> 2]! + B64[((a & 3) << 4) | ((b ?? 0) >> 4)]!;
    s += b === undefined ? '==' : B64[((b & 15) << 2) | ((c ?? 0) >> 6)]! + (c === undefined ? '=' : B64[c & 63]!);
  }
  return s;
}
