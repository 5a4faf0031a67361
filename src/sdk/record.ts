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

/** A record after conversion to bytes, as handed to a platform. */
export interface PlatformRecord {
  topic: string;
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: Header[];
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
