/**
 * `org.apache.kafka.connect.transforms.InsertField$Key|$Value`: adds the record's topic, partition, timestamp or a
 * static string as fields. Field names may end in `!` (required field schema) or `?` (optional, the default).
 * `offset.field` needs a Kafka offset, which only sink records have, so it is rejected when configured.
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import { Schemas, type Field, type Schema } from '../sdk/schema.js';
import type { Transform } from '../sdk/transform.js';
import {
  replaceNullWithDefaultKey, requireMap, requireStruct, schemaMemo, sidedPlugins, stringOf, structLike, type Side,
} from './util.js';

const PURPOSE = 'field insertion';

const fieldKey = (name: string, doc: string) => ({
  name, type: 'string' as const, default: null, required: false, importance: 'medium' as const,
  doc: `${doc} Suffix with ! to make this a required field, or ? to keep it optional (the default).`,
});

export const insertFieldSpec: ConfigSpec = {
  name: 'InsertField',
  keys: [
    fieldKey('topic.field', 'Field name for the topic.'),
    fieldKey('partition.field', 'Field name for the Kafka partition (null unless the source sets one).'),
    { ...fieldKey('offset.field', 'Field name for the Kafka offset - only applicable to sink connectors.'),
      validate: () => 'offset.field is only applicable to sink connectors (a source record has no Kafka offset yet)' },
    fieldKey('timestamp.field', 'Field name for the record timestamp (Timestamp logical type, ms since epoch).'),
    fieldKey('static.field', 'Field name for the static data field.'),
    { name: 'static.value', type: 'string', default: null, required: false, importance: 'medium', doc: 'Static field value, if static.field is configured.' },
    replaceNullWithDefaultKey,
  ],
};

interface InsertSpec {
  name: string;
  optional: boolean;
}

function parseField(v: string | undefined): InsertSpec | undefined {
  if (v === undefined) return undefined;
  if (v.endsWith('!')) return { name: v.slice(0, -1), optional: false };
  if (v.endsWith('?')) return { name: v.slice(0, -1), optional: true };
  return { name: v, optional: true };
}

/** InsertField transform for one side of the record. */
export class InsertField implements Transform {
  private topic?: InsertSpec;
  private partition?: InsertSpec;
  private timestamp?: InsertSpec;
  private static?: InsertSpec;
  private staticValue: string | null = null;
  private updated = schemaMemo((s) => {
    requireStruct({}, s, PURPOSE);
    const fields: Field[] = [...s.fields!];
    if (this.topic) fields.push({ name: this.topic.name, schema: Schemas.string(this.topic.optional) });
    if (this.partition) fields.push({ name: this.partition.name, schema: Schemas.int32(this.partition.optional) });
    if (this.timestamp) fields.push({ name: this.timestamp.name, schema: Schemas.timestamp(this.timestamp.optional) });
    if (this.static) fields.push({ name: this.static.name, schema: Schemas.string(this.static.optional) });
    return structLike(s, fields) satisfies Schema;
  });
  constructor(private readonly side: Side) {}

  configure(config: ResolvedConfig): void {
    this.topic = parseField(stringOf(config, 'topic.field'));
    this.partition = parseField(stringOf(config, 'partition.field'));
    this.timestamp = parseField(stringOf(config, 'timestamp.field'));
    this.static = parseField(stringOf(config, 'static.field'));
    this.staticValue = (config['static.value'] as string | null | undefined) ?? null;
  }

  private insert(r: SourceRecord, o: Record<string, unknown>): void {
    if (this.topic) o[this.topic.name] = r.topic;
    if (this.partition) o[this.partition.name] = r.kafkaPartition ?? null;
    if (this.timestamp) o[this.timestamp.name] = r.timestamp ?? null;
    if (this.static) o[this.static.name] = this.staticValue;
  }

  apply(r: SourceRecord): SourceRecord {
    const schema = this.side.schema(r);
    const value = this.side.value(r);
    if (value === null || value === undefined) return r; // tombstones pass through (KAFKA-8523)
    if (schema) {
      const out = this.updated(schema);
      const o = { ...requireStruct(value, schema, PURPOSE) };
      this.insert(r, o);
      return this.side.with(r, out, o);
    }
    const o = { ...requireMap(value, PURPOSE) };
    this.insert(r, o);
    return this.side.with(r, null, o);
  }
}

export const [insertFieldKeyPlugin, insertFieldValuePlugin] = sidedPlugins('InsertField', insertFieldSpec, (s) => new InsertField(s));
