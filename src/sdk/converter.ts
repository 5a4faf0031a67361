import type { ConfigSpec, ResolvedConfig } from './config.js';
import type { Schema } from './schema.js';

/** Turns Connect data (schema + value) into bytes, like Kafka Connect's Converter. null value → null bytes. */
export interface Converter {
  configure(config: ResolvedConfig, isKey: boolean): void;
  fromConnectData(topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null;
  /** bytes → Connect value (for PRINT and tests); optional */
  toConnectData?(topic: string, bytes: Buffer | null): { schema: Schema | null; value: unknown };
}

export interface ConverterPlugin {
  id: string;
  aliases: string[];
  spec: ConfigSpec;
  create(): Converter;
}
