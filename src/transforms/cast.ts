/**
 * `org.apache.kafka.connect.transforms.Cast$Key|$Value`: casts fields (`spec=a:int64,b:string`) or the whole
 * key/value (`spec=int64`) to int8, int16, int32, int64, float32, float64, boolean or string, updating the schema.
 * Logical values (Decimal, Date, Time, Timestamp) cast to string as Connect does (ISO-8601 in UTC); to numbers as
 * their internal value (days, ms, decimal value truncated).
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import { LogicalNames, type Schema, type SchemaType } from '../sdk/schema.js';
import type { Transform } from '../sdk/transform.js';
import { javaBigDecimal, javaDouble, javaFloat, parseDecimal } from '../converters/format.js';
import {
  listOf, replaceNullWithDefaultKey, requireMap, requireStruct, schemaMemo, sidedPlugins, transformFailed, type Side,
} from './util.js';

const PURPOSE = 'cast types';
const OUTPUT_TYPES = ['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string'] as const;
type CastType = (typeof OUTPUT_TYPES)[number];

interface ParsedSpec {
  whole?: CastType;
  fields: Map<string, CastType>;
}

function parseSpec(entries: string[]): ParsedSpec {
  const fields = new Map<string, CastType>();
  const type = (t: string): CastType => {
    const x = t.trim().toLowerCase();
    if (!(OUTPUT_TYPES as readonly string[]).includes(x)) throw new Error(`Invalid type found in casting spec: ${t.trim()} (use ${OUTPUT_TYPES.join(', ')})`);
    return x as CastType;
  };
  if (entries.length === 1 && !entries[0]!.includes(':')) return { whole: type(entries[0]!), fields };
  for (const e of entries) {
    const p = e.split(':');
    if (p.length !== 2 || !p[0]!.trim()) throw new Error(`Invalid cast mapping: ${e} (use field:type, or a single type for the whole value)`);
    fields.set(p[0]!.trim(), type(p[1]!));
  }
  return { fields };
}

export const castSpec: ConfigSpec = {
  name: 'Cast',
  keys: [
    { name: 'spec', type: 'list', importance: 'high',
      doc: 'List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value.',
      validate: (v) => {
        if (!(v as string[]).length) return 'must specify at least one field to cast';
        try { parseSpec(v as string[]); return undefined; } catch (e) { return (e as Error).message; }
      } },
    replaceNullWithDefaultKey,
  ],
};

const DAY = 86_400_000;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Connect's `Values.dateFormatFor`: time-of-day below one day, date at whole days, full timestamp otherwise. */
function isoFor(ms: number): string {
  const d = new Date(ms);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
  if (ms < DAY) return time;
  if (ms % DAY === 0) return date;
  return `${date}T${time}`;
}

function intBits(v: unknown, bits: number): number | bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (Number.isNaN(v)) return 0;
    const t = Math.trunc(v);
    // Java narrows double → int/long by saturating, then int → byte/short by wrapping
    const sat = bits === 64 ? 2 ** 63 : 2 ** 31;
    b = BigInt(Math.max(-sat, Math.min(sat - 1, t)));
  } else if (typeof v === 'boolean') return v ? 1 : 0;
  else if (typeof v === 'string') {
    if (!/^[+-]?\d+$/.test(v)) throw transformFailed(`Cannot cast '${v}' to int${bits}`, 'the string must be a whole number');
    b = BigInt(v);
    const min = -(1n << BigInt(bits - 1));
    if (b < min || b > -min - 1n) throw transformFailed(`Value out of range for int${bits}: '${v}'`);
  } else throw transformFailed(`Unexpected type in Cast transformation: ${typeof v}`);
  const w = BigInt.asIntN(bits, b);
  return bits === 64 && (w > BigInt(Number.MAX_SAFE_INTEGER) || w < BigInt(Number.MIN_SAFE_INTEGER)) ? w : Number(w);
}

function toNumber(v: unknown, type: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v.trim());
    if (v.trim() === '' || (Number.isNaN(n) && v.trim() !== 'NaN')) throw transformFailed(`Cannot cast '${v}' to ${type}`);
    return n;
  }
  throw transformFailed(`Unexpected type in Cast transformation: ${typeof v}`);
}

/** Casts one value (with its schema, if any) to the target type. */
export function castValue(schema: Schema | undefined, v: unknown, target: CastType): unknown {
  if (v === null || v === undefined) return null;
  const logical = schema?.name;
  if (logical === LogicalNames.Decimal) {
    const d = parseDecimal(v);
    if (target === 'string') return javaBigDecimal(d.unscaled, d.scale);
    const truncated = d.scale <= 0 ? d.unscaled * 10n ** BigInt(-d.scale) : d.unscaled / 10n ** BigInt(d.scale);
    v = target.startsWith('int') ? truncated : Number(`${d.unscaled}e${-d.scale}`);
  } else if (logical === LogicalNames.Date || logical === LogicalNames.Time || logical === LogicalNames.Timestamp) {
    if (target === 'string') return isoFor(Number(v) * (logical === LogicalNames.Date ? DAY : 1));
  }
  switch (target) {
    case 'int8': return intBits(v, 8);
    case 'int16': return intBits(v, 16);
    case 'int32': return intBits(v, 32);
    case 'int64': return intBits(v, 64);
    case 'float32': return Math.fround(toNumber(v, target));
    case 'float64': return toNumber(v, target);
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') return v.toLowerCase() === 'true';
      if (typeof v === 'number') return Math.trunc(v) !== 0;
      if (typeof v === 'bigint') return v !== 0n;
      throw transformFailed(`Unexpected type in Cast transformation: ${typeof v}`);
    case 'string':
      if (typeof v === 'string') return v;
      if (typeof v === 'number') {
        if (schema?.type === 'float32') return javaFloat(v);
        return schema?.type === 'float64' || !Number.isInteger(v) ? javaDouble(v) : String(v);
      }
      if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      throw transformFailed(`Unexpected type in Cast transformation: ${Array.isArray(v) ? 'array' : typeof v}`);
  }
}

const CASTABLE = new Set<SchemaType>(['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string', 'bytes']);

function castSchema(s: Schema, target: CastType): Schema {
  if (!CASTABLE.has(s.type)) throw transformFailed(`Cast transformation does not support casting from ${s.type}`);
  if (s.type === 'bytes' && s.name !== LogicalNames.Decimal && target !== 'string') throw transformFailed(`Cast transformation does not support casting bytes to ${target}`);
  const out: Schema = { type: target, optional: s.optional };
  if (s.default !== undefined && s.default !== null) out.default = castValue(s, s.default, target);
  return out;
}

/** Cast transform for one side of the record. */
export class Cast implements Transform {
  private spec: ParsedSpec = { fields: new Map() };
  private updated = schemaMemo((s) => {
    if (this.spec.whole) {
      const out = castSchema(s, this.spec.whole);
      // keep name/version/doc/parameters like Connect's copySchemaBasics, unless they describe a logical type
      if (s.name !== undefined && !Object.values(LogicalNames).includes(s.name as never)) {
        out.name = s.name;
        if (s.version !== undefined) out.version = s.version;
        if (s.parameters !== undefined) out.parameters = s.parameters;
      }
      if (s.doc !== undefined) out.doc = s.doc;
      return out;
    }
    requireStruct({}, s, PURPOSE);
    const out: Schema = {
      ...s,
      fields: s.fields!.map((f) => {
        const t = this.spec.fields.get(f.name);
        return t ? { name: f.name, schema: castSchema(f.schema, t) } : f;
      }),
    };
    if (s.default !== undefined) delete out.default;
    return out;
  });
  constructor(private readonly side: Side) {}

  configure(config: ResolvedConfig): void {
    this.spec = parseSpec(listOf(config, 'spec'));
  }

  apply(r: SourceRecord): SourceRecord {
    const schema = this.side.schema(r);
    const value = this.side.value(r);
    const whole = this.spec.whole;
    if (schema) {
      const out = this.updated(schema);
      if (whole) return this.side.with(r, out, castValue(schema, value, whole));
      if (value === null || value === undefined) return this.side.with(r, out, null);
      const v = requireStruct(value, schema, PURPOSE);
      const o: Record<string, unknown> = {};
      for (const f of schema.fields!) {
        const t = this.spec.fields.get(f.name);
        o[f.name] = t ? castValue(f.schema, v[f.name], t) : v[f.name] ?? null;
      }
      return this.side.with(r, out, o);
    }
    if (whole) return this.side.with(r, null, castValue(undefined, value, whole));
    if (value === null || value === undefined) return r;
    const o = { ...requireMap(value, PURPOSE) };
    for (const [name, t] of this.spec.fields) if (name in o) o[name] = castValue(undefined, o[name], t);
    return this.side.with(r, null, o);
  }
}

export const [castKeyPlugin, castValuePlugin] = sidedPlugins('Cast', castSpec, (s) => new Cast(s));
