/** `org.apache.kafka.connect.transforms.ValueToKey`: replaces the key with a struct/map of fields from the value. */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import { fieldOf, type Schema } from '../sdk/schema.js';
import type { Transform, TransformPlugin } from '../sdk/transform.js';
import { CONNECT_TRANSFORMS, listOf, replaceNullWithDefaultKey, requireMap, requireStruct, schemaMemo, transformFailed } from './util.js';

const PURPOSE = 'copying fields from value to key';

export const valueToKeySpec: ConfigSpec = {
  name: 'ValueToKey',
  keys: [
    { name: 'fields', type: 'list', importance: 'high', doc: 'Field names on the record value to extract as the record key.',
      validate: (v) => ((v as string[]).length ? undefined : 'list at least one field name') },
    replaceNullWithDefaultKey,
  ],
};

/** ValueToKey transform. */
export class ValueToKey implements Transform {
  private fields: string[] = [];
  private keySchemaFor = schemaMemo((vs) => {
    if (vs.type !== 'struct') throw transformFailed(`Only Struct objects supported for [${PURPOSE}], found: ${vs.type} schema`);
    return {
      type: 'struct',
      optional: false,
      fields: this.fields.map((name) => {
        const f = fieldOf(vs, name);
        if (!f) throw transformFailed(`Field does not exist: ${name}`, `the value has fields: ${vs.fields!.map((x) => x.name).join(', ')}`);
        return { name, schema: f.schema };
      }),
    } satisfies Schema;
  });

  configure(config: ResolvedConfig): void {
    this.fields = listOf(config, 'fields');
  }

  apply(r: SourceRecord): SourceRecord {
    const vs = r.valueSchema;
    if (vs) {
      const keySchema = this.keySchemaFor(vs);
      const v = requireStruct(r.value, vs, PURPOSE);
      const key: Record<string, unknown> = {};
      for (const f of this.fields) key[f] = v[f] ?? null;
      return { ...r, keySchema, key };
    }
    const v = requireMap(r.value, PURPOSE);
    const key: Record<string, unknown> = {};
    for (const f of this.fields) key[f] = v[f] ?? null;
    return { ...r, keySchema: null, key };
  }
}

export const valueToKeyPlugin: TransformPlugin = {
  id: 'ValueToKey',
  aliases: [`${CONNECT_TRANSFORMS}ValueToKey`],
  spec: valueToKeySpec,
  create: () => new ValueToKey(),
};
