import type { Schema } from './schema.js';

/** A source partition (e.g. `{table: "public.cities", protocol: "1"}`) in Kafka Connect's map shape. */
export type SourcePartition = Record<string, unknown>;
/** A position within a source partition (e.g. `{incrementing: 42}`), also a plain JSON-able map. */
export type SourceOffset = Record<string, unknown>;

export interface Header {
  key: string;
  /** header values are carried as bytes on the wire; strings are UTF-8 encoded by the platform */
  value: Buffer | string | null;
}

/**
 * One event produced by a source, before transforms and converters.
 * `sourcePartition`/`sourceOffset` say where in the source this record came from; the runtime commits the offset
 * only after the platform acknowledged this record and every record before it.
 */
export interface SourceRecord {
  topic: string;
  /** explicit Kafka partition; undefined lets the platform partition by key */
  kafkaPartition?: number;
  keySchema?: Schema | null;
  key: unknown;
  valueSchema?: Schema | null;
  value: unknown;
  /** event time in ms since epoch; the platform's time is used when absent */
  timestamp?: number;
  headers?: Header[];
  sourcePartition: SourcePartition;
  sourceOffset: SourceOffset;
}

/**
 * A struct value a source keeps in its own compact form (e.g. a row as its wire bytes) until something needs it.
 * A source returns one as a record's `value` only when its context's `rawStructs` is true. The runtime then hands it
 * as it is to a value converter that implements `fromRawStruct` (and the record goes through no transform);
 * otherwise it replaces it with `materialize()` before transforms and converters see the record.
 */
export interface RawStruct {
  readonly rawStruct: true;
  /** the struct schema the value has (the record's `valueSchema`) */
  readonly schema: Schema;
  /** the plain Connect struct value, equal to what the source would have returned */
  materialize(): Record<string, unknown>;
  /**
   * Writes the struct's JSON (`{"field":value,…}`) at `p` of `b`, never at or past `e`; returns the position after
   * it, or -1 when it does not fit. `kit` supplies each field's `"name":` bytes and writes the fields it cannot
   * write from its own bytes (and nulls); the result must equal the converter's JSON of `materialize()`.
   * Throws when a field cannot be written (the converter then takes the materialized path and reports the error).
   */
  writeJson(b: Buffer, p: number, e: number, kit: JsonFieldKit): number;
}

/** What a converter gives `RawStruct.writeJson`: per field, its JSON name prefix and a writer of its value. */
export interface JsonFieldKit {
  /** UTF-8 of `{"name":` for the first field and `,"name":` for the others */
  readonly prefixes: Buffer[];
  /** writes field `i`'s value `v` (null included) as the converter would; -1 when it does not fit */
  field(i: number, v: unknown, b: Buffer, p: number, e: number): number;
  /**
   * Optional: when field `i` is a Decimal that the converter writes from its unscaled value whenever that is a safe
   * integer of at most 15 digits, that writer and the scale; a source with the decimal's digits at hand writes the
   * field with it (the same bytes `field` writes for the decimal's text). Undefined otherwise.
   */
  decimal?(i: number): { scale: number; write(unscaled: number, b: Buffer, p: number, e: number): number } | undefined;
}

export function isRawStruct(v: unknown): v is RawStruct {
  return typeof v === 'object' && v !== null && (v as { rawStruct?: unknown }).rawStruct === true;
}

/** A record after conversion to bytes, as handed to a platform. */
export interface PlatformRecord {
  topic: string;
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: Header[];
  /**
   * Optional, from the value converter (`Converter.valuePrefix`): `value` starts with exactly these bytes, and every
   * value carrying this same Buffer object starts with them too. A platform may store such a prefix once for many
   * records (the embedded log does) instead of comparing values; others ignore it.
   */
  valuePrefix?: Buffer;
}

/** A record as read back from a platform (PRINT, tests). */
export interface StoredRecord {
  topic: string;
  partition: number;
  offset: bigint | number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Header[];
}

/** Stable text form of a source partition, used as a map key. Keys are sorted so equal maps give equal text. */
export function partitionKey(p: SourcePartition): string {
  return JSON.stringify(p, Object.keys(p).sort());
}
