/** `org.apache.kafka.connect.transforms.SetSchemaMetadata$Key|$Value`: sets the schema's name and/or version. */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import type { Schema } from '../sdk/schema.js';
import type { Transform } from '../sdk/transform.js';
import { schemaMemo, sidedPlugins, stringOf, transformFailed, type Side } from './util.js';

export const setSchemaMetadataSpec: ConfigSpec = {
  name: 'SetSchemaMetadata',
  keys: [
    { name: 'schema.name', type: 'string', default: null, required: false, importance: 'high', doc: 'Schema name to set.' },
    { name: 'schema.version', type: 'int', default: null, required: false, importance: 'high', doc: 'Schema version to set.' },
  ],
  check: (cfg) => (cfg['schema.name'] == null && cfg['schema.version'] == null
    ? [['schema.name', 'Neither schema name nor version configured']] : []),
};

/** SetSchemaMetadata transform for one side of the record. */
export class SetSchemaMetadata implements Transform {
  private name: string | undefined;
  private version: number | undefined;
  private updated = schemaMemo((s): Schema => {
    const out = { ...s };
    if (this.name !== undefined) out.name = this.name;
    if (this.version !== undefined) out.version = this.version;
    return out;
  });
  constructor(private readonly side: Side) {}

  configure(config: ResolvedConfig): void {
    this.name = stringOf(config, 'schema.name');
    const v = config['schema.version'];
    this.version = v === null || v === undefined ? undefined : Number(v);
  }

  apply(r: SourceRecord): SourceRecord {
    const schema = this.side.schema(r);
    if (!schema) throw transformFailed(`Schema required for [updating schema metadata]`, 'SetSchemaMetadata needs a schemaful record');
    return this.side.with(r, this.updated(schema), this.side.value(r));
  }
}

export const [setSchemaMetadataKeyPlugin, setSchemaMetadataValuePlugin] = sidedPlugins('SetSchemaMetadata', setSchemaMetadataSpec, (s) => new SetSchemaMetadata(s));
