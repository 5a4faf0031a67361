/**
 * Helpers shared by the built-in transforms: key/value operating sides, Connect's requireMap/requireStruct checks,
 * struct schema building with Connect's `SchemaUtil.copySchemaBasics`, plug-in pairs for `$Key`/`$Value`, and Java
 * regex / replacement syntax in JavaScript.
 */
import type { ConfigKey, ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import { TributaryError } from '../sdk/errors.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Field, Schema } from '../sdk/schema.js';
import type { Transform, TransformPlugin } from '../sdk/transform.js';

/** Package of Kafka Connect's built-in transforms. */
export const CONNECT_TRANSFORMS = 'org.apache.kafka.connect.transforms.';

/** Which part of a record a `$Key` / `$Value` transform operates on. */
export interface Side {
  readonly name: 'Key' | 'Value';
  schema(r: SourceRecord): Schema | null | undefined;
  value(r: SourceRecord): unknown;
  /** a copy of the record with this side replaced */
  with(r: SourceRecord, schema: Schema | null | undefined, value: unknown): SourceRecord;
}

/** Operates on the record key. */
export const KEY: Side = {
  name: 'Key',
  schema: (r) => r.keySchema,
  value: (r) => r.key,
  with: (r, schema, value) => ({ ...r, keySchema: schema ?? null, key: value }),
};

/** Operates on the record value. */
export const VALUE: Side = {
  name: 'Value',
  schema: (r) => r.valueSchema,
  value: (r) => r.value,
  with: (r, schema, value) => ({ ...r, valueSchema: schema ?? null, value }),
};

/** A runtime failure inside a transform (bad data for its config). */
export function transformFailed(message: string, hint?: string): TributaryError {
  return new TributaryError('transform.failed', message, hint ? { hint } : {});
}

/** A config problem found while configuring a transform. */
export function transformInvalid(message: string, key?: string, hint?: string): TributaryError {
  return new TributaryError('transform.invalid', message, { key, hint });
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'object' ? (v instanceof Map ? 'Map' : 'object') : `${typeof v} '${String(v)}'`;
}

/** A plain JS object for a schemaless map value (Map instances are converted); throws for anything else. */
export function requireMap(v: unknown, purpose: string): Record<string, unknown> {
  if (v instanceof Map) return Object.fromEntries(v) as Record<string, unknown>;
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    throw transformFailed(`Only Map objects supported in absence of schema for [${purpose}], found: ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

/** {@link requireMap}, letting null through. */
export function requireMapOrNull(v: unknown, purpose: string): Record<string, unknown> | null {
  return v === null || v === undefined ? null : requireMap(v, purpose);
}

/** A struct value (plain object keyed by field) for a struct schema; throws for anything else. */
export function requireStruct(v: unknown, schema: Schema, purpose: string): Record<string, unknown> {
  if (schema.type !== 'struct' || v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    throw transformFailed(`Only Struct objects supported for [${purpose}], found: ${schema.type !== 'struct' ? `${schema.type} schema` : describe(v)}`);
  }
  return v as Record<string, unknown>;
}

/** {@link requireStruct}, letting null through. */
export function requireStructOrNull(v: unknown, schema: Schema, purpose: string): Record<string, unknown> | null {
  return v === null || v === undefined ? null : requireStruct(v, schema, purpose);
}

/** Connect's `copySchemaBasics(schema, SchemaBuilder.struct())` plus fields: name, version, doc, parameters kept. */
export function structLike(basis: Schema, fields: Field[]): Schema {
  const s: Schema = { type: 'struct', optional: false, fields };
  if (basis.name !== undefined) s.name = basis.name;
  if (basis.version !== undefined) s.version = basis.version;
  if (basis.doc !== undefined) s.doc = basis.doc;
  if (basis.parameters !== undefined) s.parameters = basis.parameters;
  return s;
}

/**
 * Memoizes a derived schema per input schema object, so equal inputs give the identical output object (which
 * keeps the converters' per-schema caches hot).
 */
export function schemaMemo(derive: (s: Schema) => Schema): (s: Schema) => Schema {
  const cache = new WeakMap<Schema, Schema>();
  return (s) => {
    let out = cache.get(s);
    if (out === undefined) {
      out = derive(s);
      cache.set(s, out);
    }
    return out;
  };
}

/** Builds a struct value with the schema's field order from a getter. */
export function buildStruct(schema: Schema, get: (name: string) => unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of schema.fields!) {
    const v = get(f.name);
    o[f.name] = v === undefined ? null : v;
  }
  return o;
}

/** Common `replace.null.with.default` key (accepted; null struct fields stay null unless the converter fills them). */
export const replaceNullWithDefaultKey: ConfigKey = {
  name: 'replace.null.with.default', type: 'boolean', default: true, importance: 'low',
  doc: 'Whether a null field value with a schema default is treated as the default.',
};

/** Plug-ins `Name$Key` and `Name$Value` (ids and Connect class names) from one factory. */
export function sidedPlugins(name: string, spec: ConfigSpec, create: (side: Side) => Transform): [TransformPlugin, TransformPlugin] {
  return [KEY, VALUE].map((side) => ({
    id: `${name}$${side.name}`,
    aliases: [`${CONNECT_TRANSFORMS}${name}$${side.name}`],
    spec: { ...spec, name: `${name}$${side.name}` },
    create: () => create(side),
  })) as [TransformPlugin, TransformPlugin];
}

/** A list config value (already parsed by the spec) as strings. */
export function listOf(config: ResolvedConfig, key: string): string[] {
  const v = config[key];
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v.map(String) : String(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** A string config value, or undefined when unset/empty. */
export function stringOf(config: ResolvedConfig, key: string): string | undefined {
  const v = config[key];
  return v === null || v === undefined || v === '' ? undefined : String(v);
}

/**
 * Compiles a Java regular expression for JavaScript. Handles leading inline flags (`(?i)`, `(?s)`, `(?m)`),
 * `\A`, `\z`, `\Z` and possessive quantifiers (treated as greedy). With `whole`, the pattern must match the entire
 * input, like Java's `Matcher.matches()`.
 */
export function javaRegex(pattern: string, whole: boolean): RegExp {
  let src = pattern;
  let flags = '';
  const inline = /^\(\?([imsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]!) if ((f === 'i' || f === 'm' || f === 's') && !flags.includes(f)) flags += f;
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length) {
      const n = src[i + 1]!;
      out += inClass ? c + n : n === 'A' ? '^' : n === 'z' || n === 'Z' ? '$' : c + n;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') out += src[++i];
      if (src[i + 1] === ']') { out += '\\]'; i++; } // a leading ] is literal in Java
    } else if (c === '+' && i > 0 && '*+?}'.includes(src[i - 1]!) && src[i - 2] !== '\\') {
      // possessive quantifier (Java): JavaScript has none; treat as greedy
    } else out += c;
  }
  src = out;
  return new RegExp(whole ? `^(?:${src})$` : src, flags);
}

/** Validates a Java regex config value; returns an error message or undefined. */
export function regexProblem(pattern: unknown): string | undefined {
  try {
    javaRegex(String(pattern), true);
    return undefined;
  } catch (e) {
    return `not a valid regular expression: ${(e as Error).message}`;
  }
}

/**
 * Compiles a Java `Matcher.replaceFirst` replacement string: `$n` and `${name}` refer to groups, `\x` is a literal x.
 * Returns a function of the match.
 */
export function javaReplacement(replacement: string): (m: RegExpExecArray) => string {
  type Part = { lit: string } | { digits: string } | { name: string };
  const parts: Part[] = [];
  let lit = '';
  const flush = () => {
    if (lit) parts.push({ lit });
    lit = '';
  };
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c === '\\') {
      i++;
      if (i >= replacement.length) throw new Error('character to be escaped is missing');
      lit += replacement[i];
    } else if (c === '$') {
      i++;
      if (i >= replacement.length) throw new Error('Illegal group reference: group index is missing');
      if (replacement[i] === '{') {
        const end = replacement.indexOf('}', i);
        if (end < 0) throw new Error("named capturing group is missing trailing '}'");
        flush();
        parts.push({ name: replacement.slice(i + 1, end) });
        i = end;
      } else {
        const d = /^\d+/.exec(replacement.slice(i));
        if (!d) throw new Error('Illegal group reference');
        flush();
        parts.push({ digits: d[0] });
        i += d[0].length - 1;
      }
    } else lit += c;
  }
  flush();
  return (m) => {
    let s = '';
    for (const p of parts) {
      if ('lit' in p) s += p.lit;
      else if ('digits' in p) {
        // Java takes the first digit, then more digits while they still name an existing group
        let n = Number(p.digits[0]);
        let k = 1;
        while (k < p.digits.length && n * 10 + Number(p.digits[k]) < m.length) n = n * 10 + Number(p.digits[k++]);
        if (n >= m.length) throw transformFailed(`No group ${n}`);
        s += (m[n] ?? '') + p.digits.slice(k);
      } else {
        if (m.groups === undefined || !(p.name in m.groups)) throw transformFailed(`No group with name {${p.name}}`);
        s += m.groups[p.name] ?? '';
      }
    }
    return s;
  };
}
