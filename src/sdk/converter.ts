import type { ConfigSpec, ResolvedConfig } from './config.js';
import type { Schema } from './schema.js';
import type { RawStruct } from './record.js';

/** Turns Connect data (schema + value) into bytes, like Kafka Connect's Converter. null value → null bytes. */
export interface Converter {
  configure(config: ResolvedConfig, isKey: boolean): void;
  fromConnectData(topic: string, schema: Schema | null | undefined, value: unknown): Buffer | null;
  /** Optional: the bytes of a source's `RawStruct` value, equal to `fromConnectData` of its `materialize()`. */
  fromRawStruct?(topic: string, schema: Schema, value: RawStruct): Buffer | null;
  /**
   * Optional: bytes that every non-null value this converter makes for `schema` starts with (e.g. JSON's schema
   * envelope), as one Buffer object per schema, or undefined. The runtime passes it on as `PlatformRecord.valuePrefix`.
   */
  valuePrefix?(schema: Schema | null | undefined): Buffer | undefined;
  /**
   * Optional, for converters that reuse memory: the runtime keeps views of `mem` (the `buffer` of bytes this
   * converter returned) until it calls `releaseBytes(mem)` — once per `retainBytes` — after the platform acknowledged
   * the records. Memory whose holds were all released may be reused; memory never retained must not be, and neither
   * may memory that holds bytes returned after its last `retainBytes` (the runtime retains a batch's memory once
   * the whole batch is converted, and lets I/O callbacks, acknowledgements included, run while it converts).
   */
  retainBytes?(mem: ArrayBufferLike): void;
  releaseBytes?(mem: ArrayBufferLike): void;
  /** bytes → Connect value (for PRINT and tests); optional */
  toConnectData?(topic: string, bytes: Buffer | null): { schema: Schema | null; value: unknown };
  /** Optional: how to make an equal converter in a worker thread; undefined when it cannot be (see SourcePlugin). */
  threadSpec?(): ConverterThreadSpec | undefined;
}

/** A converter as a worker thread can recreate it: `(await import(url))[exportName].create().configure(config, isKey)`. */
export interface ConverterThreadSpec {
  url: string;
  exportName: string;
  /** structured-cloneable configuration */
  config: ResolvedConfig;
  isKey: boolean;
}

export interface ConverterPlugin {
  id: string;
  aliases: string[];
  spec: ConfigSpec;
  create(): Converter;
}
