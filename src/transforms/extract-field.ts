/** `org.apache.kafka.connect.transforms.ExtractField$Key|$Value`: replaces the key/value with one of its fields. */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import { fieldOf } from '../sdk/schema.js';
import type { Transform } from '../sdk/transform.js';
import { requireMapOrNull, requireStructOrNull, sidedPlugins, stringOf, transformFailed, type Side } from './util.js';

const PURPOSE = 'field extraction';

export const extractFieldSpec: ConfigSpec = {
  name: 'ExtractField',
  keys: [{ name: 'field', type: 'string', importance: 'medium', doc: 'Field name to extract.' }],
};

/** ExtractField transform for one side of the record. */
export class ExtractField implements Transform {
  private field = '';
  constructor(private readonly side: Side) {}

  configure(config: ResolvedConfig): void {
    this.field = stringOf(config, 'field') ?? '';
  }

  apply(r: SourceRecord): SourceRecord {
    const schema = this.side.schema(r);
    const value = this.side.value(r);
    if (schema) {
      const f = fieldOf(schema, this.field);
      if (!f) {
        throw transformFailed(`Unknown field: ${this.field}`,
          schema.type === 'struct' ? `the ${this.side.name.toLowerCase()} has fields: ${schema.fields!.map((x) => x.name).join(', ')}` : `the ${this.side.name.toLowerCase()} is a ${schema.type}, not a struct`);
      }
      const v = requireStructOrNull(value, schema, PURPOSE);
      return this.side.with(r, f.schema, v === null ? null : v[this.field] ?? null);
    }
    const v = requireMapOrNull(value, PURPOSE);
    return this.side.with(r, null, v === null ? null : v[this.field] ?? null);
  }
}

export const [extractFieldKeyPlugin, extractFieldValuePlugin] = sidedPlugins('ExtractField', extractFieldSpec, (s) => new ExtractField(s));
