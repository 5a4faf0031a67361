/**
 * JsonConverter's fast path: writes a value's JSON straight into a byte buffer instead of building a string and
 * encoding it (which costs a flatten, an encode and a copy per record, and a string per number).
 *
 * The bytes are exactly the UTF-8 of what the string writers in json.ts produce; json.ts uses this path only through
 * `writeValue`, which falls back to the string path whenever a byte writer throws or runs out of room. Kinds this
 * file does not special-case (floats, bytes, arrays, maps, NUMERIC decimals, values of unexpected types) are written
 * by encoding the string writer's text.
 */
import { LogicalNames, type Field, type Schema } from '../sdk/schema.js';
import type { JsonFieldKit } from '../sdk/record.js';
import { jsonString } from './format.js';

/**
 * Writes a non-null value at `p` of `b`, never at or past `e`; returns the position after it, or -1 when it does
 * not fit. Throws on values it cannot write (the caller then takes the string path, which reports the error).
 */
export type ByteWriter = (v: unknown, b: Buffer, p: number, e: number) => number;

/** What a byte writer needs to know about a schema from the converter's compiled cache. */
export interface ByteWriterSource {
  /** the string writer of a non-null value of the schema */
  raw: (v: unknown) => string;
  /** what null is written as ('null' or the default's text); undefined: null is an error */
  nullText: string | undefined;
}

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

type Utf8Write = (this: Buffer, s: string, offset: number) => number;
/** Buffer's UTF-8 writer without `write`'s argument handling (an internal method present in every Node version). */
const utf8Write: Utf8Write =
  (Buffer.prototype as unknown as { utf8Write?: Utf8Write }).utf8Write ??
  function (this: Buffer, s: string, offset: number): number {
    return this.write(s, offset, 'utf8');
  };

/** Writes text (any characters) as UTF-8. */
export function writeText(s: string, b: Buffer, p: number, e: number): number {
  if (p + s.length * 3 > e) return -1;
  if (s.length < 16) {
    // short ASCII text: byte stores beat a call into C++
    let q = p;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return p + utf8Write.call(b, s, p);
      b[q++] = c;
    }
    return q;
  }
  return p + utf8Write.call(b, s, p);
}

/** A JSON string literal of `s`, as `jsonString(s)` encoded in UTF-8. */
export function writeString(s: string, b: Buffer, p: number, e: number): number {
  const n = s.length;
  if (p + n * 3 + 2 > e) return -1;
  if (n < 24) {
    // short strings: check and copy in one pass of byte stores
    let q = p + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return writeText(jsonString(s), b, p, e);
      if (c >= 0x80) {
        if (NEEDS_ESCAPE.test(s)) return writeText(jsonString(s), b, p, e);
        q = p + 1 + utf8Write.call(b, s, p + 1);
        break;
      }
      b[q++] = c;
    }
    b[p] = 0x22;
    b[q] = 0x22;
    return q + 1;
  }
  if (NEEDS_ESCAPE.test(s)) return writeText(jsonString(s), b, p, e);
  b[p] = 0x22;
  const q = p + 1 + utf8Write.call(b, s, p + 1);
  b[q] = 0x22;
  return q + 1;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/** Writes the digits of 0 <= m < 2^31 ending just before `end`, zero-padded to `width` digits; returns the start. */
function digitsBefore(m: number, b: Buffer, end: number, width: number): number {
  let q = end;
  const stop = end - width;
  while (m >= 10 || q > stop + 1) {
    const d = m % 10;
    b[--q] = 0x30 + d;
    m = (m - d) / 10;
  }
  b[--q] = 0x30 + m;
  return q;
}

/** Decimal digits of a safe integer (`'' + n`). */
export function writeSafeInt(n: number, b: Buffer, p: number, e: number): number {
  if (p + 17 > e) return -1;
  if (n < 0) {
    b[p++] = 0x2d;
    n = -n;
  }
  if (n < 10) {
    b[p] = 0x30 + n; // -0 writes 0, as '' + -0 does
    return p + 1;
  }
  let len = 2;
  while (len < 16 && n >= POW10[len]!) len++;
  const end = p + len;
  if (n < 0x80000000) {
    digitsBefore(n | 0, b, end, 1);
  } else {
    // integer arithmetic on two halves: % and / on large doubles are slow
    const hi = Math.floor(n / 1e8);
    const lo = n - hi * 1e8;
    digitsBefore(lo | 0, b, end, 8);
    digitsBefore(hi | 0, b, end - 8, 1);
  }
  return end;
}

const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const twos = new Uint8Array(8);

/**
 * `"` + base64 of the minimal two's-complement bytes of a safe integer + `"`, as smallTwosComplementBase64 (Java's
 * BigInteger.toByteArray, then Base64).
 */
export function writeSmallTwosComplementBase64(u: number, b: Buffer, p: number, e: number): number {
  if (p + 16 > e) return -1;
  let n = 0;
  let x = u;
  for (;;) {
    const v = ((x % 256) + 256) % 256;
    twos[7 - n++] = v;
    x = Math.floor(x / 256);
    if ((x === 0 && v < 0x80) || (x === -1 && v >= 0x80)) break;
  }
  b[p++] = 0x22;
  for (let i = 8 - n; i < 8; i += 3) {
    const a0 = twos[i]!;
    const has1 = i + 1 < 8;
    const has2 = i + 2 < 8;
    const a1 = has1 ? twos[i + 1]! : 0;
    const a2 = has2 ? twos[i + 2]! : 0;
    b[p++] = B64[a0 >> 2]!;
    b[p++] = B64[((a0 & 3) << 4) | (a1 >> 4)]!;
    b[p++] = has1 ? B64[((a1 & 15) << 2) | (a2 >> 6)]! : 0x3d;
    b[p++] = has2 ? B64[a2 & 63]! : 0x3d;
  }
  b[p++] = 0x22;
  return p;
}

/** The unscaled value of plain decimal text as a safe integer (at most 15 digits after rescaling), else undefined. */
export function smallUnscaled(v: unknown, scale: number): number | undefined {
  if (typeof v !== 'string') return undefined;
  const len = v.length;
  if (len > SCRATCH.length) return undefined; // too many digits, or not a plain decimal
  for (let i = 0; i < len; i++) {
    const c = v.charCodeAt(i);
    SCRATCH[i] = c > 0x7f ? 0x80 : c; // anything not ASCII is no digit, sign or point
  }
  const u = smallUnscaledAscii(SCRATCH, 0, len, scale);
  return u === u ? u : undefined;
}

/** text of `smallUnscaled` as bytes (a plain decimal of at most 15 digits fits with room for zeros and signs) */
const SCRATCH = new Uint8Array(64);

/**
 * The unscaled value of the plain decimal text in `src[s, t)` (ASCII, e.g. a database's decimal output) as a safe
 * integer (at most 15 digits after rescaling to `scale`), else NaN.
 */
export function smallUnscaledAscii(src: Uint8Array, s: number, t: number, scale: number): number {
  if (scale < 0 || scale > 15) return NaN;
  let i = s;
  let neg = false;
  if (t > s && src[s] === 0x2d) {
    neg = true;
    i = s + 1;
  }
  let n = 0;
  let digits = 0;
  let any = false;
  for (; i < t; i++) {
    const c = src[i]! - 0x30;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
    if (n > 0) digits++;
    any = true;
  }
  let frac = 0;
  if (i < t) {
    if (src[i] !== 0x2e) return NaN;
    for (i++; i < t; i++) {
      const c = src[i]! - 0x30;
      if (c < 0 || c > 9) return NaN;
      n = n * 10 + c;
      if (n > 0) digits++;
      frac++;
      any = true;
    }
  }
  if (!any || frac > scale) return NaN;
  for (; frac < scale; frac++) {
    n *= 10;
    if (n > 0) digits++;
  }
  if (digits > 15) return NaN;
  return neg ? -n : n;
}

/** Writes the string writer's text. */
function viaText(raw: (v: unknown) => string): ByteWriter {
  return (v, b, p, e) => writeText(raw(v), b, p, e);
}

/**
 * The byte writer of a schema whose string writers are `self`. `decimalBase64`: Decimals are written as BASE64
 * (`decimalScale` gives the schema's scale); `fieldWriter` gives the writers of a struct field's schema.
 */
export function byteWriterFor(
  schema: Schema,
  self: ByteWriterSource,
  decimalBase64: boolean,
  decimalScale: () => number,
  fieldWriter: (s: Schema) => { bytes: ByteWriter; source: ByteWriterSource },
): ByteWriter {
  const raw = self.raw;
  switch (schema.name) {
    case LogicalNames.Decimal: {
      if (!decimalBase64) return viaText(raw);
      const scale = decimalScale();
      return (v, b, p, e) => {
        const u = smallUnscaled(v, scale);
        return u !== undefined ? writeSmallTwosComplementBase64(u, b, p, e) : writeText(raw(v), b, p, e);
      };
    }
    case LogicalNames.Date:
    case LogicalNames.Time:
    case LogicalNames.Timestamp:
      return (v, b, p, e) => (typeof v === 'number' && Number.isSafeInteger(v) ? writeSafeInt(v, b, p, e) : writeText(raw(v), b, p, e));
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      return (v, b, p, e) => (typeof v === 'number' && Number.isSafeInteger(v) ? writeSafeInt(v, b, p, e) : writeText(raw(v), b, p, e));
    case 'string':
      return (v, b, p, e) => (typeof v === 'string' ? writeString(v, b, p, e) : writeText(raw(v), b, p, e));
    case 'boolean':
      return (v, b, p, e) => {
        if (v === true) {
          if (p + 4 > e) return -1;
          b[p] = 0x74; b[p + 1] = 0x72; b[p + 2] = 0x75; b[p + 3] = 0x65;
          return p + 4;
        }
        if (v === false) {
          if (p + 5 > e) return -1;
          b[p] = 0x66; b[p + 1] = 0x61; b[p + 2] = 0x6c; b[p + 3] = 0x73; b[p + 4] = 0x65;
          return p + 5;
        }
        return writeText(raw(v), b, p, e);
      };
    case 'struct':
      return generatedStruct(schema.fields ?? [], fieldWriter) ?? viaText(raw);
    default:
      return viaText(raw);
  }
}

/** Copies a short byte string (field-name prefixes, null texts) with byte stores. */
function copyBytes(src: Buffer, b: Buffer, p: number): number {
  const n = src.length;
  if (n > 24) {
    b.set(src, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) b[p + i] = src[i]!;
  return p + n;
}

/**
 * The JSON of the last frozen struct value written for one field, kept as its own bytes. A frozen plain object
 * whose properties are all primitive data properties cannot change, so the same object means the same JSON:
 * sources that share one frozen block between events (the PostgreSQL snapshot's `source`) get it written once.
 */
class FrozenStructCache {
  o: unknown = undefined;
  n = 0;
  #bytes: Buffer = Buffer.alloc(0);
  put(b: Buffer, p: number): number {
    return copyBytes(this.#bytes, b, p);
  }
  keep(x: unknown, b: Buffer, start: number, end: number): void {
    if (!Object.isFrozen(x)) return;
    // a plain object of data properties holding primitives only: nothing reachable from it can change
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null) return;
    const props = Object.getOwnPropertyDescriptors(x);
    for (const k in props) {
      const d = props[k]!;
      if (d.get || d.set || (d.value !== null && (typeof d.value === 'object' || typeof d.value === 'function'))) return;
    }
    this.o = x;
    this.n = end - start;
    this.#bytes = Buffer.from(b.subarray(start, end));
  }
}

/**
 * One function per struct schema: for each field, its `"name":` bytes, then its value through the field's own byte
 * writer (one call site per field, which V8 can inline) or its null text. A required field that is null, or a
 * value that is not a plain object, throws: the caller's string path then reports the error it always did.
 */
function generatedStruct(fields: Field[], fieldWriter: (s: Schema) => { bytes: ByteWriter; source: ByteWriterSource }): ByteWriter | undefined {
  if (fields.length === 0 || fields.length > 2000) return undefined;
  const args: string[] = ['copy', 'fail'];
  const vals: unknown[] = [copyBytes, () => { throw new Error('fall back'); }];
  let body = 'return function (v, b, p, e) {\n';
  body += "  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail();\n  let x;\n";
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const { bytes, source } = fieldWriter(f.schema);
    const prefix = Buffer.from((i ? ',' : '{') + jsonString(f.name) + ':', 'utf8');
    args.push('n' + i, 'w' + i);
    vals.push(prefix, bytes);
    body += `  if (p + ${prefix.length} > e) return -1;\n  p = copy(n${i}, b, p);\n`;
    body += `  x = v[${JSON.stringify(f.name)}];\n`;
    if (source.nullText === undefined) body += '  if (x === null || x === undefined) fail();\n';
    else {
      args.push('z' + i);
      const z = Buffer.from(source.nullText, 'utf8');
      vals.push(z);
      body += `  if (x === null || x === undefined) {\n    if (p + ${z.length} > e) return -1;\n    p = copy(z${i}, b, p);\n  } else `;
    }
    if (f.schema.type === 'struct') {
      // a frozen struct value seen last time (a source block shared by a batch of events): its bytes again
      args.push('c' + i);
      vals.push(new FrozenStructCache());
      body += `{\n    if (x === c${i}.o) {\n      if (p + c${i}.n > e) return -1;\n      p = c${i}.put(b, p);\n    } else {\n      const s = p;\n      p = w${i}(x, b, p, e);\n      if (p < 0) return -1;\n      c${i}.keep(x, b, s, p);\n    }\n  }\n`;
    } else body += `{\n    p = w${i}(x, b, p, e);\n    if (p < 0) return -1;\n  }\n`;
  }
  body += '  if (p + 1 > e) return -1;\n  b[p] = 0x7d;\n  return p + 1;\n};';
  try {
    return new Function(...args, body)(...vals) as ByteWriter;
  } catch {
    return undefined; // e.g. --disallow-code-generation-from-strings
  }
}

/**
 * The kit a source's raw struct writes its JSON with (see RawStruct in sdk/record.ts): the same field prefixes, null
 * texts and field byte writers as the struct writer above. A required field that is null throws (the converter then
 * takes the materialized path, which reports the error).
 */
export function rawStructKit(
  fields: Field[],
  fieldWriter: (s: Schema) => { bytes: ByteWriter; source: ByteWriterSource },
  /** the scale of a Decimal schema written as BASE64 (byteWriterFor's rule), else undefined */
  base64DecimalScale: (s: Schema) => number | undefined,
): JsonFieldKit {
  const prefixes = fields.map((f, i) => Buffer.from((i ? ',' : '{') + jsonString(f.name) + ':', 'utf8'));
  const decimals = fields.map((f) => {
    const scale = base64DecimalScale(f.schema);
    return scale === undefined ? undefined : { scale, write: writeSmallTwosComplementBase64 };
  });
  const writers = fields.map((f) => fieldWriter(f.schema));
  const nulls = writers.map((w) => (w.source.nullText === undefined ? undefined : Buffer.from(w.source.nullText, 'utf8')));
  return {
    prefixes,
    field(i: number, v: unknown, b: Buffer, p: number, e: number): number {
      if (v === null || v === undefined) {
        const z = nulls[i];
        if (z === undefined) throw new Error('fall back');
        if (p + z.length > e) return -1;
        return copyBytes(z, b, p);
      }
      return writers[i]!.bytes(v, b, p, e);
    },
    decimal: (i) => decimals[i],
  };
}
