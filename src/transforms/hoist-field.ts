/** `org.apache.kafka.connect.transforms.HoistField$Key|$Value`: wraps the key/value in a struct/map with one field. */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Schema } from '../sdk/schema.js';
import type { Transform } from '../sdk/transform.js';
import { schemaMemo, sidedPlugins, stringOf, type Side } from './util.js';

export const hoistFieldSpec: ConfigSpec = {
  name: 'HoistField',
  keys: [{ name: 'field', type: 'string', importance: 'medium', doc: 'Field name for the single field that will be created in the resulting Struct or Map.' }],
};

/** HoistField transform for one side of the record. */
export class HoistField implements Transform {
  private field = '';
  private wrap = schemaMemo((s): Schema => ({ type: 'struct', optional: false, fields: [{ name: this.field, schema: s }] }));
  constructor(private readonly side: Side) {}

  configure(config: ResolvedConfig): void {
    this.field = stringOf(config, 'field') ?? '';
  }

  apply(r: SourceRecord): SourceRecord {
    const schema = this.side.schema(r);
    const value = this.side.value(r);
    return this.side.with(r, schema ? this.wrap(schema) : null, { [this.field]: value === undefined ? null : value });
  }
}

export const [hoistFieldKeyPlugin, hoistFieldValuePlugin] = sidedPlugins('HoistField', hoistFieldSpec, (s) => new HoistField(s));
