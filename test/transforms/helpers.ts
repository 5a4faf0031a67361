import type { SourceRecord } from '../../src/sdk/record.js';
import type { Schema } from '../../src/sdk/schema.js';
import { buildTransformChain } from '../../src/transforms/chain.js';

/** A source record with the given value (and optional schema), topic `cities`. */
export function rec(value: unknown, valueSchema: Schema | null = null, extra: Partial<SourceRecord> = {}): SourceRecord {
  return { topic: 'cities', key: null, keySchema: null, value, valueSchema, sourcePartition: {}, sourceOffset: {}, ...extra };
}

/** Builds a one-transform chain `t` of the given type and config, and applies it. */
export function run(type: string, config: Record<string, string>, record: SourceRecord): SourceRecord | null {
  const c: Record<string, string> = { transforms: 't', 'transforms.t.type': type };
  for (const [k, v] of Object.entries(config)) c[`transforms.t.${k}`] = v;
  return buildTransformChain(c).apply(record);
}
