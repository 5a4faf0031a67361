/**
 * A row's struct value kept as the row's wire bytes (a `RawStruct`, see sdk/record.ts): the JSON converter writes it
 * straight from those bytes — integers and plain ASCII text are copied, timestamps (text or binary) become
 * milliseconds and binary dates days without a string in between, decimals of up to 15 digits go from their digits
 * to the converter's unscaled-value writer — and anything else (escapes, non-ASCII text, NULLs, larger decimals,
 * ±infinity) goes through the column's codec and the converter's own writer for that field, so the bytes equal the
 * JSON of `materialize()`.
 */
import { smallUnscaledAscii, writeSafeInt } from '../../converters/json-bytes.js';
import type { JsonFieldKit, RawStruct } from '../../sdk/record.js';
import type { Schema } from '../../sdk/schema.js';
import { BIN_DATE, BIN_TIMESTAMPTZ, dateBinaryDays, dateBinaryText, timestampBinaryMs, timestampBinaryText, timestampMsAscii, type ColumnCodec } from './pg-types.js';
import type { RowBlock } from './row-reader.js';

/** Not written from the bytes: take the codec and the converter's field writer. */
const OTHER = 0;
/** the text is a JSON integer as it stands (checked: an optional '-' and digits) */
const INT = 1;
/** the text is the string value itself (written as a JSON string when it needs no escape and is ASCII) */
const TEXT = 2;
/** PostgreSQL's ISO timestamp text → epoch milliseconds */
const TS = 3;
const TS_UTC = 4;
/** a Decimal whose text's digits the converter writes from their unscaled value (JsonFieldKit.decimal) */
const DEC = 5;
/** a timestamp read in binary (UTC) → epoch milliseconds; `timestampBinaryText` for the codec when out of range */
const TS_BIN = 6;
/** a date read in binary → days since the epoch; `dateBinaryText` for the codec for ±infinity */
const DATE_BIN = 7;

/** What every row of one query shares: schema, codecs, and how each column's bytes map to JSON. */
export class RowShape {
  readonly kinds: Uint8Array;
  readonly parsers: Array<(text: string) => unknown>;
  /** per column: the Decimal's scale (DEC columns), else -1 */
  readonly scales: Int32Array;
  /** per column: the binary format it is read in (RowsRequest.binary), 0 for text */
  readonly binary: Uint8Array;

  constructor(
    readonly schema: Schema,
    codecs: ColumnCodec[],
    /** row texts → plain struct value (the querier's generated builder) */
    readonly toValue: (row: unknown[]) => Record<string, unknown>,
    /** the columns' formats in the blocks this shape reads (a column read in binary must have `codec.binary`) */
    binary?: Uint8Array,
  ) {
    this.parsers = codecs.map((c) => c.parse);
    this.binary = Uint8Array.from(codecs, (_, i) => binary?.[i] ?? 0);
    this.kinds = Uint8Array.from(codecs.map((c, i) => (this.binary[i] === BIN_DATE ? DATE_BIN : this.binary[i] ? TS_BIN : c.raw === 'int' ? INT : c.raw === 'text' ? TEXT : c.raw === 'timestamp' ? TS : c.raw === 'timestamp-utc' ? TS_UTC : c.raw === 'decimal' ? DEC : OTHER)));
    this.scales = Int32Array.from(codecs.map((c) => (c.raw === 'decimal' ? (c.scale ?? -1) : -1)));
  }

  /** The kit's unscaled-value writer of column `i` (a DEC column the kit writes that way at the same scale). */
  decimalWriter(i: number, kit: JsonFieldKit): ((u: number, b: Buffer, p: number, e: number) => number) | undefined {
    if (this.kinds[i] !== DEC) return undefined;
    const d = kit.decimal?.(i);
    return d !== undefined && d.scale === this.scales[i] ? d.write : undefined;
  }

  get columns(): number {
    return this.kinds.length;
  }

  /** writers generated per converter kit (see `generateRowWriter`) */
  #generated = new WeakMap<JsonFieldKit, RowJsonWriter | null>();
  /** false only in tests, to compare the loop with the generated writers */
  generate = true;

  /** The JSON of row `r` of `block` (see RawStruct.writeJson). */
  writeJson(block: RowBlock, r: number, b: Buffer, p: number, e: number, kit: JsonFieldKit): number {
    let g = this.generate ? this.#generated.get(kit) : null;
    if (g === undefined) {
      g = generateRowWriter(this, kit);
      this.#generated.set(kit, g);
    }
    return g ? g(block, r, b, p, e) : this.writeJsonLoop(block, r, b, p, e, kit);
  }

  /** The reference `generateRowWriter`'s functions equal, and the path when code generation is unavailable. */
  writeJsonLoop(block: RowBlock, r: number, b: Buffer, p: number, e: number, kit: JsonFieldKit): number {
    const src = block.buf;
    const kinds = this.kinds;
    const prefixes = kit.prefixes;
    const n = kinds.length;
    let q = block.rowAt[r]! + 2;
    for (let i = 0; i < n; i++) {
      const pre = prefixes[i]!;
      const pl = pre.length;
      if (p + pl > e) return -1;
      for (let k = 0; k < pl; k++) b[p + k] = pre[k]!;
      p += pl;
      const len = src.readInt32BE(q);
      q += 4;
      if (len < 0) {
        p = kit.field(i, null, b, p, e);
        if (p < 0) return -1;
        continue;
      }
      const s = q;
      q += len;
      let w = -2;
      switch (kinds[i]) {
        case INT:
          w = copyInteger(src, s, q, b, p, e);
          break;
        case TEXT:
          w = copyAsciiString(src, block.view, s, q, b, viewOf(b), p, e);
          break;
        case TS:
        case TS_UTC: {
          const ms = timestampMsAscii(src, s, q, kinds[i] === TS_UTC);
          if (ms === ms) w = writeSafeInt(ms, b, p, e);
          break;
        }
        case DEC: {
          const dw = this.decimalWriter(i, kit);
          const u = dw ? smallUnscaledAscii(src, s, q, this.scales[i]!) : NaN;
          if (u === u) w = dw!(u, b, p, e);
          break;
        }
        case TS_BIN: {
          const ms = len === 8 ? timestampBinaryMs(src, s) : NaN;
          w = ms === ms ? writeSafeInt(ms, b, p, e) : kit.field(i, this.parsers[i]!(timestampBinaryText(src, s, len, this.binary[i] === BIN_TIMESTAMPTZ)), b, p, e);
          break;
        }
        case DATE_BIN: {
          const days = len === 4 ? dateBinaryDays(src, s) : NaN;
          w = days === days ? writeSafeInt(days, b, p, e) : kit.field(i, this.parsers[i]!(dateBinaryText(src, s, len)), b, p, e);
          break;
        }
      }
      if (w === -2) w = kit.field(i, this.parsers[i]!(src.toString('utf8', s, q)), b, p, e);
      if (w < 0) return -1;
      p = w;
    }
    if (p + 1 > e) return -1;
    b[p] = 0x7d;
    return p + 1;
  }
}

type RowJsonWriter = (block: RowBlock, r: number, b: Buffer, p: number, e: number) => number;

/**
 * `writeJsonLoop` unrolled for one shape and one converter kit: the field prefixes as byte stores of constants, one
 * call site per column of the column's own kind (which V8 inlines). Null when code generation is unavailable.
 */
function generateRowWriter(shape: RowShape, kit: JsonFieldKit): RowJsonWriter | null {
  const { kinds, parsers, scales, binary } = shape;
  const decimals = Array.from(kinds, (_, i) => shape.decimalWriter(i, kit));
  const n = kinds.length;
  if (n === 0 || n > 1000) return null;
  let body = 'return function (block, r, b, p, e) {\n  const src = block.buf;\n  let q = block.rowAt[r] + 2;\n  let len = 0, s = 0, w = 0;\n';
  if (kinds.includes(TEXT)) body += '  const sv = block.view, bv = viewOf(b);\n';
  for (let i = 0; i < n; i++) {
    const pre = kit.prefixes[i]!;
    body += `  if (p + ${pre.length} > e) return -1;\n`;
    for (let k = 0; k < pre.length; k++) body += `  b[p + ${k}] = ${pre[k]};\n`;
    body += `  p += ${pre.length};\n`;
    body += '  len = (src[q] << 24) | (src[q + 1] << 16) | (src[q + 2] << 8) | src[q + 3];\n  q += 4;\n';
    body += `  if (len < 0) {\n    p = field(${i}, null, b, p, e);\n    if (p < 0) return -1;\n  } else {\n    s = q;\n    q += len;\n`;
    switch (kinds[i]) {
      case INT:
        body += '    w = copyInteger(src, s, q, b, p, e);\n';
        break;
      case TEXT:
        body += '    w = copyAsciiString(src, sv, s, q, b, bv, p, e);\n';
        break;
      case TS:
      case TS_UTC:
        body += `    w = -2;\n    { const ms = tsMs(src, s, q, ${kinds[i] === TS_UTC}); if (ms === ms) w = writeInt(ms, b, p, e); }\n`;
        break;
      case TS_BIN:
        body += `    { const ms = len === 8 ? tsBinMs(src, s) : NaN; w = ms === ms ? writeInt(ms, b, p, e) : field(${i}, parse${i}(tsBinText(src, s, len, ${binary[i] === BIN_TIMESTAMPTZ})), b, p, e); }\n`;
        break;
      case DATE_BIN:
        body += `    { const days = len === 4 ? dateDays(src, s) : NaN; w = days === days ? writeInt(days, b, p, e) : field(${i}, parse${i}(dateText(src, s, len)), b, p, e); }\n`;
        break;
      case DEC:
        body += decimals[i]
          ? `    w = -2;\n    { const u = unscaled(src, s, q, ${scales[i]}); if (u === u) w = dec${i}(u, b, p, e); }\n`
          : '    w = -2;\n';
        break;
      default:
        body += '    w = -2;\n';
    }
    body += `    if (w === -2) w = field(${i}, parse${i}(src.toString('utf8', s, q)), b, p, e);\n    if (w < 0) return -1;\n    p = w;\n  }\n`;
  }
  body += '  if (p + 1 > e) return -1;\n  b[p] = 0x7d;\n  return p + 1;\n};';
  const names = ['field', 'copyInteger', 'copyAsciiString', 'viewOf', 'tsMs', 'tsBinMs', 'tsBinText', 'dateDays', 'dateText', 'writeInt', 'unscaled', ...parsers.map((_, i) => 'parse' + i), ...decimals.map((_, i) => 'dec' + i)];
  const field = (i: number, v: unknown, b: Buffer, p: number, e: number) => kit.field(i, v, b, p, e);
  try {
    return new Function(...names, body)(field, copyInteger, copyAsciiString, viewOf, timestampMsAscii, timestampBinaryMs, timestampBinaryText, dateBinaryDays, dateBinaryText, writeSafeInt, smallUnscaledAscii, ...parsers, ...decimals) as RowJsonWriter;
  } catch {
    return null; // e.g. --disallow-code-generation-from-strings
  }
}

/** One row of a block as a raw struct. */
export class RowValue implements RawStruct {
  readonly rawStruct = true as const;
  constructor(
    readonly shape: RowShape,
    readonly block: RowBlock,
    readonly row: number,
  ) {}

  get schema(): Schema {
    return this.shape.schema;
  }

  materialize(): Record<string, unknown> {
    return this.shape.toValue(this.block.texts(this.row, this.shape.columns));
  }

  writeJson(b: Buffer, p: number, e: number, kit: JsonFieldKit): number {
    return this.shape.writeJson(this.block, this.row, b, p, e, kit);
  }
}

/** Copies an integer's text (an optional '-' then 1–19 digits); -2 when it is not one, -1 when out of room. */
function copyInteger(src: Buffer, s: number, t: number, b: Buffer, p: number, e: number): number {
  const n = t - s;
  if (n < 1 || n > 20) return -2;
  if (p + n > e) return -1;
  for (let i = 0; i < n; i++) {
    const c = src[s + i]!;
    if ((c < 0x30 || c > 0x39) && !(c === 0x2d && i === 0 && n > 1)) return -2;
    b[p + i] = c;
  }
  return p + n;
}

/** A DataView of the buffer JSON is written to, kept for the next rows (converters write many rows per buffer). */
let viewBuf: Buffer | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
function viewOf(b: Buffer): DataView<ArrayBufferLike> {
  if (b !== viewBuf) {
    viewBuf = b;
    view = new DataView(b.buffer, b.byteOffset, b.length);
  }
  return view;
}

/**
 * Copies ASCII text that needs no JSON escape as a JSON string; -2 when it is not such text, -1 when out of room.
 * Four bytes at a time (`sv`, `bv`: DataViews of `src` and `b`): a word passes when no byte has its high bit set,
 * is below 0x20, or is '"' or '\\' (borrows between bytes only ever add flags to a word that has such a byte).
 */
function copyAsciiString(src: Buffer, sv: DataView<ArrayBufferLike>, s: number, t: number, b: Buffer, bv: DataView<ArrayBufferLike>, p: number, e: number): number {
  const n = t - s;
  if (p + n + 2 > e) return -1;
  b[p] = 0x22;
  const o = p + 1 - s;
  let i = s;
  for (; i + 4 <= t; i += 4) {
    const x = sv.getInt32(i, true);
    const q = x ^ 0x22222222;
    const k = x ^ 0x5c5c5c5c;
    if (((x | (x - 0x20202020) | ((q - 0x01010101) & ~q) | ((k - 0x01010101) & ~k)) & 0x80808080) !== 0) return -2;
    bv.setInt32(o + i, x, true);
  }
  for (; i < t; i++) {
    const c = src[i]!;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) return -2;
    b[o + i] = c;
  }
  b[p + n + 1] = 0x22;
  return p + n + 2;
}
