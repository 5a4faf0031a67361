/**
 * Kafka Connect's `org.apache.kafka.connect.json.JsonConverter`, byte for byte.
 *
 * With `schemas.enable=true` (default) each message is the envelope `{"schema":…,"payload":…}` where the schema is
 * Connect's JSON schema form (keys in Jackson's order: type, fields|items|keys+values, optional, name, version, doc,
 * parameters, default, and `field` for struct members). With `schemas.enable=false` only the payload is written.
 *
 * Hot path: each Schema object is compiled once (per converter instance, held in a WeakMap) into a writer closure
 * and its schema JSON text, so converting a record is string concatenation only. Sources and transforms should
 * reuse Schema objects across records (cache derived schemas) to hit this cache.
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { Converter, ConverterPlugin, ConverterThreadSpec } from '../sdk/converter.js';
import { TributaryError } from '../sdk/errors.js';
import { LogicalNames, type Field, type Schema, type SchemaType } from '../sdk/schema.js';
import {
  decimalParts,
  decimalScale,
  fromTwosComplement,
  javaBigDecimal,
  javaDouble,
  javaFloat,
  jsonString,
  parseDecimal,
  plainDecimal,
  rescale,
  smallTwosComplementBase64,
  twosComplementBytes,
} from './format.js';
import { byteWriterFor, rawStructKit, smallUnscaled, type ByteWriter } from './json-bytes.js';
import type { JsonFieldKit, RawStruct } from '../sdk/record.js';

/** How Decimal values are written: base64 of the unscaled two's-complement bytes, or a plain JSON number. */
export type DecimalFormat = 'BASE64' | 'NUMERIC';

/** Config keys of JsonConverter (without the `key.converter.` / `value.converter.` prefix). */
export const jsonConverterSpec: ConfigSpec = {
  name: 'JsonConverter',
  keys: [
    { name: 'schemas.enable', type: 'boolean', default: true, importance: 'high',
      doc: 'Write the {"schema":…,"payload":…} envelope (true) or the bare payload (false).' },
    { name: 'decimal.format', type: 'string', default: 'BASE64', oneOf: ['BASE64', 'NUMERIC'], importance: 'medium',
      doc: 'Decimal encoding: BASE64 (unscaled value as two\'s-complement bytes) or NUMERIC (a JSON number).' },
    { name: 'replace.null.with.default', type: 'boolean', default: true, importance: 'low',
      doc: 'Write a field\'s schema default in place of a null value.' },
    { name: 'schemas.cache.size', type: 'int', default: 1000, min: 0, importance: 'low',
      doc: 'Accepted for compatibility; schemas are cached per Schema object without a size bound.' },
    { name: 'converter.type', type: 'string', default: null, required: false, oneOf: ['key', 'value', 'header'],
      importance: 'low', doc: 'Set by the runtime (key or value); accepted for compatibility.' },
  ],
};

type Writer = (v: unknown) => string;

interface Compiled {
  /** UTF-8 of `{"schema":<json>,"payload":`, made on first use */
  prefix?: Buffer;
  /** writes a value of this schema, null handling (default/optional) included */
  write: Writer;
  /** writes a non-null value of this schema */
  raw: Writer;
  /** what a null value is written as (the default's text, or 'null' when optional); undefined: null is an error */
  nullText: string | undefined;
  /** the schema's JSON text */
  json: string;
  /** writes a non-null value as UTF-8 JSON into a buffer (made on first use; the fast path of fromConnectData) */
  bytes?: ByteWriter;
  /** struct schemas: what a source's raw struct writes its JSON with (made on first use; see fromRawStruct) */
  rawKit?: JsonFieldKit & { writer: ByteWriter };
}

function fail(message: string, hint?: string): TributaryError {
  return new TributaryError('converter.failed', message, hint ? { hint } : {});
}

function typeError(type: string, v: unknown): TributaryError {
  const got = v === null ? 'null' : Buffer.isBuffer(v) ? 'Buffer' : Array.isArray(v) ? 'array' : typeof v;
  return fail(`Invalid value for ${type} schema: got ${got}${typeof v === 'object' ? '' : ` '${String(v)}'`}`);
}

function base64(v: Uint8Array): string {
  return (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)).toString('base64');
}

function intText(v: unknown, type: string): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v < 1e21 && v > -1e21 ? '' + v : BigInt(v).toString();
  } else if (typeof v === 'bigint') return v.toString();
  throw typeError(type, v);
}

function floatText(s: string): string {
  // Jackson quotes non-finite numbers (JsonGenerator.Feature.QUOTE_NON_NUMERIC_NUMBERS, on by default)
  const c = s.charCodeAt(s.length - 1);
  return c === 0x4e /* NaN */ || c === 0x79 /* Infinity */ ? '"' + s + '"' : s;
}

function fieldError(e: unknown, name: string): unknown {
  if (e instanceof TributaryError && e.code === 'converter.failed') {
    const m = /^(.*?)(?: \(field '([^']*)'\))?$/s.exec(e.message)!;
    const path = m[2] ? `${name}.${m[2]}` : name;
    return new TributaryError('converter.failed', `${m[1]} (field '${path}')`, { hint: e.hint, cause: e.cause });
  }
  return e;
}

/** Writes JavaScript values with no schema, as JsonConverter infers types for schemaless data. */
function writeSchemaless(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return jsonString(v);
    case 'number':
      return Number.isInteger(v) ? intText(v, 'int64') : floatText(javaDouble(v));
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v instanceof Uint8Array) return '"' + base64(v) + '"';
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + writeSchemaless(v[i]);
        return s + ']';
      }
      if (v instanceof Date) return '' + v.getTime();
      if (v instanceof Map) {
        let objectMode = true;
        for (const k of v.keys()) if (typeof k !== 'string') { objectMode = false; break; }
        let s = objectMode ? '{' : '[';
        let first = true;
        for (const [k, x] of v) {
          if (!first) s += ',';
          first = false;
          s += objectMode ? jsonString(k as string) + ':' + writeSchemaless(x) : '[' + writeSchemaless(k) + ',' + writeSchemaless(x) + ']';
        }
        return s + (objectMode ? '}' : ']');
      }
      let s = '{';
      let first = true;
      for (const k in v as Record<string, unknown>) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        s += (first ? '' : ',') + jsonString(k) + ':' + writeSchemaless((v as Record<string, unknown>)[k]);
        first = false;
      }
      return s + '}';
    }
    default:
      throw fail(`Cannot write a ${typeof v} as JSON`);
  }
}

/**
 * JsonConverter. `configure` reads the spec'd keys; `fromConnectData` is safe to call concurrently from one thread
 * (no shared mutable state besides the schema cache).
 */
export class JsonConverter implements Converter {
  private schemasEnabled = true;
  private decimalFormat: DecimalFormat = 'BASE64';
  private replaceNullWithDefault = true;
  private cache = new WeakMap<Schema, Compiled>();
  /** where this converter's output is written (made on first use) */
  #slabsOf: Slabs | undefined;
  get #slabs(): Slabs {
    return (this.#slabsOf ??= new Slabs());
  }
  /** false only in tests, to compare the generated struct writers with the generic ones */
  generateStruct = true;
  /** false only in tests, to compare the byte writers with the string path */
  writeBytes = true;

  private spec: ConverterThreadSpec = { url: import.meta.url, exportName: 'jsonConverterPlugin', config: {}, isKey: false };

  threadSpec(): ConverterThreadSpec {
    return this.spec;
  }

  /** Accepts resolved config (typed) or raw strings. */
  configure(config: ResolvedConfig, _isKey = false): void {
    this.spec = { url: import.meta.url, exportName: 'jsonConverterPlugin', config: { ...config }, isKey: _isKey };
    const b = (v: unknown, d: boolean) => (v === undefined || v === null ? d : v === true || String(v).toLowerCase() === 'true');
    this.schemasEnabled = b(config['schemas.enable'], true);
    this.replaceNullWithDefault = b(config['replace.null.with.default'], true);
    const fmt = String(config['decimal.format'] ?? 'BASE64').toUpperCase();
    if (fmt !== 'BASE64' && fmt !== 'NUMERIC') throw fail(`Invalid decimal.format '${fmt}'`, 'use BASE64 or NUMERIC');
    this.decimalFormat = fmt;
    this.cache = new WeakMap();
  }

  /** Connect data → UTF-8 JSON bytes; null when the value is null (a tombstone stays a tombstone). */
  fromConnectData(_topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    if (!schema) return Buffer.from(this.toJsonText(schema, value)!, 'utf8');
    const c = this.compiled(schema);
    if (this.writeBytes) {
      const out = this.#slabs.writeValue(this.byteWriter(schema, c), value, this.#envelope(c), this.schemasEnabled);
      if (out !== undefined) return out;
    }
    // the string path: also where every conversion error is reported
    return this.#slabs.encode(c.write(value), this.#envelope(c), this.schemasEnabled);
  }

  /** Every non-null value of `schema` starts with its envelope (both the string and the byte paths write it). */
  valuePrefix(schema: Schema | null | undefined): Buffer | undefined {
    if (!this.schemasEnabled || !schema) return undefined;
    return this.#envelope(this.compiled(schema));
  }

  /** What goes before the payload: `{"schema":…,"payload":` with schemas enabled (made once per schema), else nothing. */
  #envelope(c: Compiled): Buffer {
    if (!this.schemasEnabled) return EMPTY;
    return (c.prefix ??= Buffer.from('{"schema":' + c.json + ',"payload":', 'utf8'));
  }

  /** A field schema's byte writer and what it writes for null, as byteWriterFor and rawStructKit take them. */
  #fieldWriter = (fs: Schema): { bytes: ByteWriter; source: Compiled } => {
    const fc = this.compiled(fs);
    return { bytes: this.byteWriter(fs, fc), source: fc };
  };

  /**
   * A source's raw struct (a row as its wire bytes) → the same bytes as `fromConnectData` of its `materialize()`,
   * without building the object. Anything the raw writer cannot do goes the materialized way.
   */
  fromRawStruct(topic: string, schema: Schema, value: RawStruct): Buffer | null {
    if (this.writeBytes && value.schema === schema && schema.type === 'struct' && schema.fields?.length) {
      const c = this.compiled(schema);
      c.rawKit ??= this.rawKit(schema);
      const out = this.#slabs.writeValue(c.rawKit.writer, value, this.#envelope(c), this.schemasEnabled);
      if (out !== undefined) return out;
    }
    return this.fromConnectData(topic, schema, value.materialize());
  }

  private rawKit(schema: Schema): JsonFieldKit & { writer: ByteWriter } {
    const kit = rawStructKit(schema.fields ?? [], this.#fieldWriter, (s) =>
      this.decimalFormat === 'BASE64' && s.name === LogicalNames.Decimal ? decimalScale(s.parameters) : undefined,
    );
    return { ...kit, writer: (v, b, p, e) => (v as RawStruct).writeJson(b, p, e, kit) };
  }

  retainBytes(mem: ArrayBufferLike): void {
    this.#slabs.retain(mem);
  }

  releaseBytes(mem: ArrayBufferLike): void {
    this.#slabs.release(mem);
  }

  private byteWriter(schema: Schema, c: Compiled): ByteWriter {
    if (c.bytes === undefined) {
      c.bytes = byteWriterFor(
        schema,
        c,
        this.decimalFormat === 'BASE64',
        () => decimalScale(schema.parameters),
        this.#fieldWriter,
      );
    }
    return c.bytes;
  }

  /** Connect data → JSON text (the same text `fromConnectData` encodes); null for a null value. */
  toJsonText(schema: Schema | null | undefined, value: unknown): string | null {
    if (value === null || value === undefined) return null;
    if (!schema) return this.schemasEnabled ? '{"schema":null,"payload":' + writeSchemaless(value) + '}' : writeSchemaless(value);
    const c = this.compiled(schema);
    return this.schemasEnabled ? '{"schema":' + c.json + ',"payload":' + c.write(value) + '}' : c.write(value);
  }

  /** Connect's JSON form of a schema (cached per Schema object). */
  schemaJson(schema: Schema): string {
    return this.compiled(schema).json;
  }

  /** JSON bytes → Connect schema and value. int64 values come back as number when safe, else bigint. */
  toConnectData(_topic: string, bytes: Buffer | null): { schema: Schema | null; value: unknown } {
    if (bytes === null) return { schema: null, value: null };
    let node: JNode;
    try {
      node = parseJson(bytes.toString('utf8'));
    } catch (e) {
      throw new TributaryError('converter.failed', `Converting byte[] to Kafka Connect data failed due to serialization error: ${(e as Error).message}`, { cause: e });
    }
    if (!this.schemasEnabled) return { schema: null, value: readValue(null, node) };
    if (!(node instanceof Map) || node.size !== 2 || !node.has('schema') || !node.has('payload')) {
      throw fail(
        'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields.',
        'If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.',
      );
    }
    const schema = readSchema(node.get('schema') ?? null);
    return { schema, value: readValue(schema, node.get('payload') ?? null) };
  }

  private compiled(schema: Schema): Compiled {
    let c = this.cache.get(schema);
    if (c === undefined) {
      c = this.compile(schema);
      this.cache.set(schema, c);
    }
    return c;
  }

  private compile(schema: Schema): Compiled {
    const raw = this.rawWriter(schema);
    const def = schema.default;
    const hasDefault = def !== undefined && def !== null;
    const type = schema.type;
    let write: Writer;
    let nullText: string | undefined;
    if (hasDefault && this.replaceNullWithDefault) {
      const defText = raw(def);
      nullText = defText;
      write = (v) => (v === null || v === undefined ? defText : raw(v));
    } else if (schema.optional) {
      nullText = 'null';
      write = (v) => (v === null || v === undefined ? 'null' : raw(v));
    } else {
      write = (v) => {
        if (v === null || v === undefined) {
          throw fail(`Conversion error: null value for ${type} field that is required and has no default value`,
            'make the field optional in the schema, or give it a default');
        }
        return raw(v);
      };
    }
    return { write, raw, nullText, json: this.buildSchemaJson(schema, hasDefault ? raw(def) : undefined) };
  }

  private buildSchemaJson(schema: Schema, defText: string | undefined): string {
    // Kafka's JsonConverter names FLOAT32 and FLOAT64 "float" and "double" in schemas
    let s = '{"type":"' + (schema.type === 'float32' ? 'float' : schema.type === 'float64' ? 'double' : schema.type) + '"';
    switch (schema.type) {
      case 'struct': {
        s += ',"fields":[';
        const fields = schema.fields ?? [];
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i]!;
          const j = this.compiled(f.schema).json;
          s += (i ? ',' : '') + j.slice(0, -1) + ',"field":' + jsonString(f.name) + '}';
        }
        s += ']';
        break;
      }
      case 'array':
        s += ',"items":' + this.compiled(need(schema.items, 'array', 'items')).json;
        break;
      case 'map':
        s += ',"keys":' + this.compiled(need(schema.keys, 'map', 'keys')).json;
        s += ',"values":' + this.compiled(need(schema.values, 'map', 'values')).json;
        break;
    }
    s += schema.optional ? ',"optional":true' : ',"optional":false';
    if (schema.name != null) s += ',"name":' + jsonString(schema.name);
    if (schema.version != null) s += ',"version":' + schema.version;
    if (schema.doc != null) s += ',"doc":' + jsonString(schema.doc);
    if (schema.parameters != null) {
      s += ',"parameters":{';
      let first = true;
      for (const k of Object.keys(schema.parameters)) {
        s += (first ? '' : ',') + jsonString(k) + ':' + jsonString(String(schema.parameters[k]));
        first = false;
      }
      s += '}';
    }
    if (defText !== undefined) s += ',"default":' + defText;
    return s + '}';
  }

  /** Writer for a non-null value of this schema. */
  private rawWriter(schema: Schema): Writer {
    switch (schema.name) {
      case LogicalNames.Decimal: {
        const scale = decimalScale(schema.parameters);
        if (this.decimalFormat === 'NUMERIC') {
          return (v) => {
            const p = decimalParts(v, scale);
            if (p !== undefined) {
              const digits = p.int + p.frac;
              let nz = 0;
              while (nz < digits.length && digits.charCodeAt(nz) === 0x30) nz++;
              // BigDecimal.toString stays plain while the adjusted exponent is at least -6
              if ((nz === digits.length ? 0 : digits.length - nz - 1) - scale >= -6) {
                const t = (p.int === '' ? '0' : p.int) + (scale > 0 ? '.' + p.frac : '');
                return p.neg && nz < digits.length ? '-' + t : t;
              }
            }
            return javaBigDecimal(rescale(parseDecimal(v), scale), scale);
          };
        }
        return (v) => {
          const u = smallUnscaled(v, scale);
          if (u !== undefined) return '"' + smallTwosComplementBase64(u) + '"';
          const p = decimalParts(v, scale);
          if (p !== undefined && p.int.length + p.frac.length <= 15) {
            const n = Number(p.int + p.frac);
            return '"' + smallTwosComplementBase64(p.neg ? -n : n) + '"';
          }
          return '"' + twosComplementBytes(rescale(parseDecimal(v), scale)).toString('base64') + '"';
        };
      }
      case LogicalNames.Date:
        return (v) => intText(v instanceof Date ? Math.floor(v.getTime() / 86_400_000) : v, 'Date');
      case LogicalNames.Time:
      case LogicalNames.Timestamp:
        return (v) => intText(v instanceof Date ? v.getTime() : v, schema.name === LogicalNames.Time ? 'Time' : 'Timestamp');
    }
    const type = schema.type;
    switch (type) {
      case 'int8':
      case 'int16':
      case 'int32':
      case 'int64':
        return (v) => intText(v, type);
      case 'float32':
        return (v) => {
          if (typeof v !== 'number') throw typeError(type, v);
          return floatText(javaFloat(v));
        };
      case 'float64':
        return (v) => {
          if (typeof v !== 'number') throw typeError(type, v);
          return floatText(javaDouble(v));
        };
      case 'boolean':
        return (v) => {
          if (typeof v !== 'boolean') throw typeError(type, v);
          return v ? 'true' : 'false';
        };
      case 'string':
        return (v) => {
          if (typeof v !== 'string') throw typeError(type, v);
          return jsonString(v);
        };
      case 'bytes':
        return (v) => {
          if (!(v instanceof Uint8Array)) throw typeError(type, v);
          return '"' + base64(v) + '"';
        };
      case 'array': {
        const items = need(schema.items, 'array', 'items');
        let item: Writer | undefined;
        return (v) => {
          if (!Array.isArray(v)) throw typeError(type, v);
          item ??= this.compiled(items).write;
          let s = '[';
          for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + item(v[i]);
          return s + ']';
        };
      }
      case 'map': {
        const ks = need(schema.keys, 'map', 'keys');
        const vs = need(schema.values, 'map', 'values');
        const objectMode = ks.type === 'string';
        let kw: Writer | undefined;
        let vw: Writer | undefined;
        return (v) => {
          kw ??= this.compiled(ks).write;
          vw ??= this.compiled(vs).write;
          if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw typeError(type, v);
          const entries: Iterable<[unknown, unknown]> = v instanceof Map ? v : Object.entries(v);
          let s = objectMode ? '{' : '[';
          let first = true;
          for (const [k, x] of entries) {
            if (!first) s += ',';
            first = false;
            if (objectMode) {
              if (typeof k !== 'string') throw typeError('map key string', k);
              s += jsonString(k) + ':' + vw(x);
            } else s += '[' + kw(k) + ',' + vw(x) + ']';
          }
          return s + (objectMode ? '}' : ']');
        };
      }
      case 'struct': {
        const fields: Field[] = schema.fields ?? [];
        const n = fields.length;
        const names = fields.map((f) => f.name);
        const prefixes = fields.map((f, i) => (i ? ',' : '{') + jsonString(f.name) + ':');
        let writers: Writer[] | undefined;
        const generic: Writer = (v) => {
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw typeError(type, v);
          writers ??= fields.map((f) => this.compiled(f.schema).write);
          const o = v as Record<string, unknown>;
          if (n === 0) return '{}';
          let s = '';
          let i = 0;
          try {
            for (; i < n; i++) s += prefixes[i]! + writers[i]!(o[names[i]!]);
          } catch (e) {
            throw fieldError(e, names[i]!);
          }
          return s + '}';
        };
        return (this.generateStruct && generatedStructWriter(fields, prefixes, (f) => this.compiled(f), generic)) || generic;
      }
      default:
        throw fail(`Unknown schema type '${String(type)}'`);
    }
  }
}

/**
 * A struct writer generated for one struct schema (the generic one walks field arrays through megamorphic calls):
 * one function per schema, reading each field by name and calling that field's own writer, so V8 can inline them.
 * It writes exactly what `generic` writes; on any error it returns `generic(v)`, which throws the error the generic
 * path reports (with the field path). Undefined when code generation is unavailable.
 */
function generatedStructWriter(fields: Field[], prefixes: string[], compiled: (s: Schema) => Compiled, generic: Writer): Writer | undefined {
  if (fields.length === 0 || fields.length > 2000) return undefined;
  const args: string[] = ['generic'];
  const vals: unknown[] = [generic];
  let body = 'return function (v) {\n' + "  if (typeof v !== 'object' || v === null || Array.isArray(v)) return generic(v);\n" + '  try {\n    let x;\n    let s = ' + JSON.stringify(prefixes[0]) + ';\n';
  for (let i = 0; i < fields.length; i++) {
    const c = compiled(fields[i]!.schema);
    args.push('w' + i);
    vals.push(c.raw);
    if (i > 0) body += '    s += ' + JSON.stringify(prefixes[i]) + ';\n';
    body += '    x = v[' + JSON.stringify(fields[i]!.name) + '];\n';
    const onNull = c.nullText === undefined ? 'return generic(v);' : 's += ' + JSON.stringify(c.nullText) + ';';
    body += '    if (x === null || x === undefined) ' + onNull + ' else s += w' + i + '(x);\n';
  }
  body += "    return s + '}';\n  } catch {\n    return generic(v);\n  }\n};";
  try {
    return new Function(...args, body)(...vals) as Writer;
  } catch {
    return undefined; // e.g. --disallow-code-generation-from-strings
  }
}

const EMPTY = Buffer.alloc(0);
const CLOSE = Buffer.of(0x7d);

/**
 * Where one converter writes its output: slabs of SLAB_BYTES, handed out as views (what Buffer.allocUnsafe does with
 * its 8 KiB pool, minus the copy and with fewer pool allocations).
 *
 * A slab is reused only when the runtime held it (`retain`, for a batch whose bytes are in it), gave every hold back
 * (`release`, once the platform acknowledged the batch), no view was handed out since the last hold (a batch being
 * converted is not held yet), and the converter has moved on to another slab. Any other slab is left to the garbage
 * collector. Without reuse, a fresh slab per 256 KiB of output makes V8 count that much external memory, which
 * starts a full garbage collection every few megabytes. Slabs belong to one converter, whose only caller is the
 * runtime's task (other users of a converter never hold, so its slabs are never reused).
 */
const SLAB_BYTES = 256 * 1024;
/** slabs kept for reuse at most, per converter (8 MiB) */
const FREE_SLABS_MAX = 32;

interface SlabUse {
  buf: Buffer;
  /** holds not given back */
  refs: number;
  /** views handed out, and how many of them the last hold covered */
  handed: number;
  covered: number;
  /** the runtime held it at least once since it was (re)issued */
  adopted: boolean;
  /** the converter still writes into it */
  current: boolean;
}

class Slabs {
  #uses = new WeakMap<ArrayBufferLike, SlabUse>();
  #free: Buffer[] = [];
  #slab!: Buffer;
  #use!: SlabUse;
  #at = 0;

  constructor() {
    this.#next();
  }

  #next(): void {
    if (this.#use) {
      this.#use.current = false;
      this.#maybeReuse(this.#use);
    }
    const buf = this.#free.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
    this.#slab = buf;
    this.#use = { buf, refs: 0, handed: 0, covered: 0, adopted: false, current: true };
    this.#uses.set(buf.buffer, this.#use);
    this.#at = 0;
  }

  #maybeReuse(u: SlabUse): void {
    if (u.current || !u.adopted || u.refs > 0 || u.covered !== u.handed) return;
    u.adopted = false; // once
    if (this.#free.length < FREE_SLABS_MAX) this.#free.push(u.buf);
  }

  /** `mem` holds bytes the runtime keeps until `release(mem)` (every view handed out of it so far) */
  retain(mem: ArrayBufferLike): void {
    const u = this.#uses.get(mem);
    if (!u) return;
    u.refs++;
    u.adopted = true;
    u.covered = u.handed;
  }

  release(mem: ArrayBufferLike): void {
    const u = this.#uses.get(mem);
    if (u && u.refs > 0 && --u.refs === 0) this.#maybeReuse(u);
  }

  /**
   * prefix + the value's JSON (+ '}') written by the byte writer; undefined when the byte writer threw (the string
   * path then converts the value, or reports the error) or the value does not fit in a slab.
   */
  writeValue(bytes: ByteWriter, value: unknown, prefix: Buffer, close: boolean): Buffer | undefined {
    for (;;) {
      const slab = this.#slab;
      const start = this.#at;
      const end = SLAB_BYTES - 1; // room for the closing brace
      if (start + prefix.length < end) {
        slab.set(prefix, start);
        let p: number;
        try {
          p = bytes(value, slab, start + prefix.length, end);
        } catch {
          return undefined;
        }
        if (p >= 0) {
          if (close) slab[p++] = 0x7d;
          this.#at = (p + 7) & ~7;
          this.#use.handed++;
          return slab.subarray(start, p);
        }
      }
      if (start === 0) return undefined; // larger than a slab
      this.#next();
    }
  }

  /** prefix + UTF-8(payload) (+ '}'): in the slab, or a new Buffer when large. */
  encode(payload: string, prefix: Buffer, close: boolean): Buffer {
    const need = prefix.length + payload.length * 3 + 1;
    if (need > SLAB_BYTES >> 3) {
      const len = prefix.length + Buffer.byteLength(payload, 'utf8') + (close ? 1 : 0);
      if (len > 1 << 20) return Buffer.concat([prefix, Buffer.from(payload, 'utf8'), close ? CLOSE : EMPTY]);
      const out = Buffer.allocUnsafe(len);
      prefix.copy(out, 0);
      out.write(payload, prefix.length, 'utf8');
      if (close) out[len - 1] = 0x7d;
      return out;
    }
    if (need > SLAB_BYTES - this.#at) this.#next();
    const slab = this.#slab;
    const start = this.#at;
    slab.set(prefix, start);
    let end = start + prefix.length;
    end += slab.write(payload, end, 'utf8');
    if (close) slab[end++] = 0x7d;
    this.#at = (end + 7) & ~7;
    this.#use.handed++;
    return slab.subarray(start, end);
  }
}

function need(s: Schema | undefined, type: string, part: string): Schema {
  if (!s) throw fail(`A ${type} schema needs '${part}'`);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading back: a small JSON parser that keeps numbers as their exact text.

/** A JSON number, kept as written. */
class JNum {
  constructor(readonly raw: string) {}
}
type JNode = null | boolean | string | JNum | JNode[] | Map<string, JNode>;

function parseJson(text: string): JNode {
  let i = 0;
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const err = (what: string) => new Error(`${what} at position ${i}`);
  const value = (): JNode => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map<string, JNode>();
      ws();
      if (text[i] === '}') { i++; return m; }
      for (;;) {
        ws();
        if (text[i] !== '"') throw err('expected a string key');
        const k = str();
        ws();
        if (text[i++] !== ':') throw err("expected ':'");
        m.set(k, value());
        ws();
        const d = text[i++];
        if (d === '}') return m;
        if (d !== ',') throw err("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: JNode[] = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value());
        ws();
        const d = text[i++];
        if (d === ']') return a;
        if (d !== ',') throw err("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r) throw err('unexpected character');
    i += r[0].length;
    return new JNum(r[0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    let simple = true;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) { simple = false; i++; }
      i++;
    }
    if (i >= text.length) throw err('unterminated string');
    i++;
    return simple ? text.slice(start + 1, i - 1) : (JSON.parse(text.slice(start, i)) as string);
  };
  const v = value();
  ws();
  if (i !== text.length) throw err('trailing characters');
  return v;
}

function jsonNumber(raw: string): number | bigint {
  if (/^-?\d+$/.test(raw)) {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : BigInt(raw);
  }
  return Number(raw);
}

const TYPES = new Set<string>(['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string', 'bytes', 'array', 'map', 'struct']);

function readSchema(node: JNode): Schema | null {
  if (node === null) return null;
  if (!(node instanceof Map)) throw fail('Schema must be a JSON object');
  let t = node.get('type');
  if (t === 'float') t = 'float32';
  else if (t === 'double') t = 'float64';
  if (typeof t !== 'string' || !TYPES.has(t)) throw fail(`Unknown schema type: ${String(t)}`);
  const s: Schema = { type: t as SchemaType, optional: node.get('optional') === true };
  const name = node.get('name');
  if (typeof name === 'string') s.name = name;
  const version = node.get('version');
  if (version instanceof JNum) s.version = Number(version.raw);
  const doc = node.get('doc');
  if (typeof doc === 'string') s.doc = doc;
  const params = node.get('parameters');
  if (params instanceof Map) {
    s.parameters = {};
    for (const [k, v] of params) s.parameters[k] = v instanceof JNum ? v.raw : String(v);
  }
  if (t === 'struct') {
    const fields = node.get('fields');
    if (!Array.isArray(fields)) throw fail('Struct schema\'s "fields" argument is not an array.');
    s.fields = fields.map((f) => {
      const fs = readSchema(f)!;
      const fname = (f as Map<string, JNode>).get('field');
      if (typeof fname !== 'string') throw fail('Struct schema\'s field name not specified properly');
      return { name: fname, schema: fs };
    });
  } else if (t === 'array') {
    s.items = readSchema(node.get('items') ?? null) ?? undefined;
    if (!s.items) throw fail('Array schema did not specify the element type');
  } else if (t === 'map') {
    s.keys = readSchema(node.get('keys') ?? null) ?? undefined;
    s.values = readSchema(node.get('values') ?? null) ?? undefined;
    if (!s.keys || !s.values) throw fail('Map schema did not specify the key and value types');
  }
  const def = node.get('default');
  if (def !== undefined && def !== null) s.default = readValue({ ...s, optional: true }, def);
  return s;
}

function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function readValue(schema: Schema | null, node: JNode): unknown {
  if (schema === null) {
    if (node === null || typeof node === 'boolean' || typeof node === 'string') return node;
    if (node instanceof JNum) return jsonNumber(node.raw);
    if (Array.isArray(node)) return node.map((x) => readValue(null, x));
    const o: Record<string, unknown> = {};
    for (const [k, v] of node) setKey(o, k, readValue(null, v));
    return o;
  }
  if (node === null) {
    if (schema.default !== undefined && schema.default !== null) return schema.default;
    if (schema.optional) return null;
    throw fail(`Invalid null value for required ${schema.type} field`);
  }
  const mismatch = () => fail(`Invalid JSON for ${schema.name ?? schema.type} schema`);
  switch (schema.name) {
    case LogicalNames.Decimal: {
      const scale = decimalScale(schema.parameters);
      if (node instanceof JNum) return plainDecimal(rescale(parseDecimal(node.raw), scale), scale);
      if (typeof node === 'string') return plainDecimal(fromTwosComplement(Buffer.from(node, 'base64')), scale);
      throw mismatch();
    }
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      if (node instanceof JNum) return Number(node.raw);
      throw mismatch();
    case 'int64':
      if (node instanceof JNum) return jsonNumber(node.raw.includes('.') || /e/i.test(node.raw) ? String(Math.trunc(Number(node.raw))) : node.raw);
      throw mismatch();
    case 'float32':
    case 'float64':
      if (node instanceof JNum) return schema.type === 'float32' ? Math.fround(Number(node.raw)) : Number(node.raw);
      if (node === 'NaN' || node === 'Infinity' || node === '-Infinity') return Number(node);
      throw mismatch();
    case 'boolean':
      if (typeof node === 'boolean') return node;
      throw mismatch();
    case 'string':
      if (typeof node === 'string') return node;
      throw mismatch();
    case 'bytes':
      if (typeof node === 'string') return Buffer.from(node, 'base64');
      throw mismatch();
    case 'array':
      if (Array.isArray(node)) return node.map((x) => readValue(schema.items!, x));
      throw mismatch();
    case 'map':
      if (schema.keys!.type === 'string') {
        if (!(node instanceof Map)) throw mismatch();
        const o: Record<string, unknown> = {};
        for (const [k, v] of node) setKey(o, k, readValue(schema.values!, v));
        return o;
      } else {
        if (!Array.isArray(node)) throw mismatch();
        const m = new Map<unknown, unknown>();
        for (const e of node) {
          if (!Array.isArray(e) || e.length !== 2) throw fail('Found invalid map entry instead of array tuple');
          m.set(readValue(schema.keys!, e[0]!), readValue(schema.values!, e[1]!));
        }
        return m;
      }
    case 'struct': {
      if (!(node instanceof Map)) throw mismatch();
      const o: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) setKey(o, f.name, readValue(f.schema, node.get(f.name) ?? null));
      return o;
    }
  }
}

/** Registry entry for JsonConverter. */
export const jsonConverterPlugin: ConverterPlugin = {
  id: 'json',
  aliases: ['org.apache.kafka.connect.json.JsonConverter', 'JsonConverter'],
  spec: jsonConverterSpec,
  create: () => new JsonConverter(),
};
