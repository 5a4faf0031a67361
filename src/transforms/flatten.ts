/**
 * `org.apache.kafka.connect.transforms.Flatten$Key|$Value`: flattens nested structs/maps into top-level fields
 * named `parent<delimiter>child`. A field becomes optional when any of its parents is. Arrays and (with a schema)
 * maps are kept as they are.
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import { withOptional, type Field, type Schema } from '../sdk/schema.js';
import type { Transform } from '../sdk/transform.js';
import { requireMap, requireStruct, schemaMemo, sidedPlugins, stringOf, structLike, transformFailed, type Side } from './util.js';

const PURPOSE = 'flattening';

export const flattenSpec: ConfigSpec = {
  name: 'Flatten',
  keys: [{ name: 'delimiter', type: 'string', default: '.', importance: 'medium',
    doc: 'Delimiter to insert between field names from the input record when generating field names for the output record.' }],
};

/** Flatten transform for one side of the record. */
export class Flatten implements Transform {
  private delimiter = '.';
  private updated = schemaMemo((s) => {
    requireStruct({}, s, PURPOSE);
    const fields: Field[] = [];
    this.flattenSchema(s, '', s.optional, fields);
    const out = structLike(s, fields);
    out.optional = s.optional;
    return out;
  });
  constructor(private readonly side: Side) {}

  configure(config: ResolvedConfig): void {
    this.delimiter = stringOf(config, 'delimiter') ?? '.';
  }

  private name(prefix: string, name: string): string {
    return prefix === '' ? name : prefix + this.delimiter + name;
  }

  private flattenSchema(s: Schema, prefix: string, optional: boolean, out: Field[]): void {
    for (const f of s.fields!) {
      const name = this.name(prefix, f.name);
      if (f.schema.type === 'struct') this.flattenSchema(f.schema, name, optional || f.schema.optional, out);
      else out.push({ name, schema: withOptional(f.schema, optional || f.schema.optional) });
    }
  }

  private flattenStruct(s: Schema, v: Record<string, unknown> | null, prefix: string, out: Record<string, unknown>): void {
    for (const f of s.fields!) {
      const name = this.name(prefix, f.name);
      const x = v === null ? null : v[f.name] ?? null;
      if (f.schema.type === 'struct') this.flattenStruct(f.schema, x as Record<string, unknown> | null, name, out);
      else out[name] = x;
    }
  }

  private flattenMap(v: Record<string, unknown>, prefix: string, out: Record<string, unknown>): void {
    for (const k of Object.keys(v)) {
      const name = this.name(prefix, k);
      const x = v[k];
      if (x === null || x === undefined || typeof x !== 'object' || Array.isArray(x) || x instanceof Uint8Array) out[name] = x ?? null;
      else if (x instanceof Date) throw transformFailed(`Flatten transformation does not support Date for record without schemas (for field ${name}).`);
      else this.flattenMap(requireMap(x, PURPOSE), name, out);
    }
  }

  apply(r: SourceRecord): SourceRecord {
    const schema = this.side.schema(r);
    const value = this.side.value(r);
    if (value === null || value === undefined) return r;
    const o: Record<string, unknown> = {};
    if (schema) {
      const out = this.updated(schema);
      this.flattenStruct(schema, requireStruct(value, schema, PURPOSE), '', o);
      return this.side.with(r, out, o);
    }
    this.flattenMap(requireMap(value, PURPOSE), '', o);
    return this.side.with(r, null, o);
  }
}

export const [flattenKeyPlugin, flattenValuePlugin] = sidedPlugins('Flatten', flattenSpec, (s) => new Flatten(s));
