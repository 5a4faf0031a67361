/**
 * Kafka Connect's data model: schemas with logical types, and the JavaScript values that go with them.
 *
 * Value representation (what sources produce and converters consume):
 * - int8/int16/int32/float32/float64: number; int64: bigint or number (converters accept both; sources use bigint
 *   when the value may exceed 2^53).
 * - boolean: boolean; string: string; bytes: Buffer (Uint8Array accepted).
 * - array: unknown[]; map: Map<unknown, unknown> or plain object (string keys); struct: plain object keyed by field.
 * - Logical types keep their Connect encodings: Decimal is carried as its exact decimal text (e.g. "-12.3400") with
 *   the schema's `scale` parameter; Date as int32 days since epoch; Time as int32 ms since midnight; Timestamp as
 *   int64 ms since epoch.
 */
export type SchemaType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'array'
  | 'map'
  | 'struct';

export interface Field {
  name: string;
  schema: Schema;
}

export interface Schema {
  type: SchemaType;
  optional: boolean;
  name?: string;
  version?: number;
  doc?: string;
  parameters?: Record<string, string>;
  default?: unknown;
  /** struct only */
  fields?: Field[];
  /** array only */
  items?: Schema;
  /** map only */
  keys?: Schema;
  values?: Schema;
}

export const LogicalNames = {
  Decimal: 'org.apache.kafka.connect.data.Decimal',
  Date: 'org.apache.kafka.connect.data.Date',
  Time: 'org.apache.kafka.connect.data.Time',
  Timestamp: 'org.apache.kafka.connect.data.Timestamp',
} as const;

function prim(type: SchemaType, optional = false, extra: Partial<Schema> = {}): Schema {
  return { type, optional, ...extra };
}

/** Small builders, in the spirit of Connect's SchemaBuilder. */
export const Schemas = {
  int8: (optional = false) => prim('int8', optional),
  int16: (optional = false) => prim('int16', optional),
  int32: (optional = false) => prim('int32', optional),
  int64: (optional = false) => prim('int64', optional),
  float32: (optional = false) => prim('float32', optional),
  float64: (optional = false) => prim('float64', optional),
  boolean: (optional = false) => prim('boolean', optional),
  string: (optional = false) => prim('string', optional),
  bytes: (optional = false) => prim('bytes', optional),
  decimal: (scale: number, optional = false, precision?: number): Schema =>
    prim('bytes', optional, {
      name: LogicalNames.Decimal,
      version: 1,
      parameters: precision === undefined
        ? { scale: String(scale) }
        : { scale: String(scale), 'connect.decimal.precision': String(precision) },
    }),
  date: (optional = false): Schema => prim('int32', optional, { name: LogicalNames.Date, version: 1 }),
  time: (optional = false): Schema => prim('int32', optional, { name: LogicalNames.Time, version: 1 }),
  timestamp: (optional = false): Schema => prim('int64', optional, { name: LogicalNames.Timestamp, version: 1 }),
  array: (items: Schema, optional = false): Schema => prim('array', optional, { items }),
  map: (keys: Schema, values: Schema, optional = false): Schema => prim('map', optional, { keys, values }),
  struct: (fields: Field[], name?: string, optional = false): Schema =>
    prim('struct', optional, name === undefined ? { fields } : { fields, name }),
};

export function withOptional(schema: Schema, optional: boolean): Schema {
  return schema.optional === optional ? schema : { ...schema, optional };
}

export function fieldOf(schema: Schema | null | undefined, name: string): Field | undefined {
  return schema?.fields?.find((f) => f.name === name);
}
