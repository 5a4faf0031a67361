/**
 * `org.apache.kafka.connect.transforms.MaskField$Key|$Value`: replaces the listed fields with a null-equivalent
 * (0, false, "", empty list/map, epoch) or with `replacement` parsed to the field's type.
 */
import type { ConfigSpec, ResolvedConfig } from '../sdk/config.js';
import type { SourceRecord } from '../sdk/record.js';
import { LogicalNames, fieldOf, type Schema } from '../sdk/schema.js';
import type { Transform } from '../sdk/transform.js';
import { decimalText } from '../converters/format.js';
import {
  listOf, replaceNullWithDefaultKey, requireMap, requireStruct, sidedPlugins, stringOf, transformFailed, type Side,
} from './util.js';

const PURPOSE = 'mask fields';

export const maskFieldSpec: ConfigSpec = {
  name: 'MaskField',
  keys: [
    { name: 'fields', type: 'list', importance: 'high', doc: 'Names of fields to mask.',
      validate: (v) => ((v as string[]).length ? undefined : 'list at least one field name') },
    { name: 'replacement', type: 'string', default: null, required: false, importance: 'low',
      doc: 'Custom value replacement applied to all fields (numeric or string fields only).' },
    replaceNullWithDefaultKey,
  ],
};

function parseNumber(s: string, integer: boolean, type: string): number {
  const n = Number(s.trim());
  if (s.trim() === '' || Number.isNaN(n) || (integer && !Number.isInteger(n))) {
    throw transformFailed(`Unable to convert ${s} (${type}) for masking`, `the replacement must be a valid ${type}`);
  }
  return n;
}

/** The masked form of a value, by schema type when there is one, else by the JS type. */
export function maskValue(schema: Schema | undefined, v: unknown, replacement: string | undefined): unknown {
  if (v === null || v === undefined) return null;
  const type = schema?.type;
  if (schema?.name === LogicalNames.Decimal) {
    const scale = Number(schema.parameters?.scale ?? 0);
    return decimalText(replacement === undefined ? '0' : replacement.trim(), scale);
  }
  if (schema?.name === LogicalNames.Date || schema?.name === LogicalNames.Time || schema?.name === LogicalNames.Timestamp) {
    if (replacement !== undefined) throw transformFailed(`Cannot mask value of type ${schema.name} with custom replacement`);
    return 0;
  }
  if (type === 'int64' || typeof v === 'bigint') {
    if (replacement === undefined) return typeof v === 'bigint' ? 0n : 0;
    const t = replacement.trim();
    if (!/^[+-]?\d+$/.test(t)) throw transformFailed(`Unable to convert ${replacement} (int64) for masking`);
    return typeof v === 'bigint' ? BigInt(t) : Number(t);
  }
  if (type === 'int8' || type === 'int16' || type === 'int32' || type === 'float32' || type === 'float64' || (!type && typeof v === 'number')) {
    return replacement === undefined ? 0 : parseNumber(replacement, type !== undefined && type.startsWith('int'), type ?? 'number');
  }
  if (type === 'string' || typeof v === 'string') return replacement ?? '';
  if (type === 'boolean' || typeof v === 'boolean') {
    if (replacement !== undefined) throw transformFailed('Cannot mask value of type boolean with custom replacement');
    return false;
  }
  if (type === 'array' || Array.isArray(v)) {
    if (replacement !== undefined) throw transformFailed('Cannot mask value of type array with custom replacement');
    return [];
  }
  if (type === 'map' || (!type && typeof v === 'object' && !(v instanceof Uint8Array))) {
    if (replacement !== undefined) throw transformFailed('Cannot mask value of type map with custom replacement');
    return v instanceof Map ? new Map() : {};
  }
  throw transformFailed(`Cannot mask value of type: ${type ?? typeof v}`);
}

/** MaskField transform for one side of the record. */
export class MaskField implements Transform {
  private fields: string[] = [];
  private replacement: string | undefined;
  constructor(private readonly side: Side) {}

  configure(config: ResolvedConfig): void {
    this.fields = listOf(config, 'fields');
    this.replacement = stringOf(config, 'replacement');
  }

  apply(r: SourceRecord): SourceRecord {
    const schema = this.side.schema(r);
    const value = this.side.value(r);
    if (value === null || value === undefined) return r;
    if (schema) {
      const o = { ...requireStruct(value, schema, PURPOSE) };
      for (const name of this.fields) {
        const f = fieldOf(schema, name);
        if (!f) throw transformFailed(`Unknown field: ${name}`);
        o[name] = maskValue(f.schema, o[name], this.replacement);
      }
      return this.side.with(r, schema, o);
    }
    const o = { ...requireMap(value, PURPOSE) };
    for (const name of this.fields) o[name] = maskValue(undefined, o[name], this.replacement);
    return this.side.with(r, null, o);
  }
}

export const [maskFieldKeyPlugin, maskFieldValuePlugin] = sidedPlugins('MaskField', maskFieldSpec, (s) => new MaskField(s));
