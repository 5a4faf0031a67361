import type { ConfigSpec, ResolvedConfig } from './config.js';
import type { SourceRecord } from './record.js';

/** A single message transform (SMT). `apply` returns the new record, or null to drop it. Pure and synchronous. */
export interface Transform {
  configure(config: ResolvedConfig): void;
  apply(record: SourceRecord): SourceRecord | null;
  close?(): void;
}

export interface Predicate {
  configure(config: ResolvedConfig): void;
  test(record: SourceRecord): boolean;
}

export interface TransformPlugin {
  id: string;
  aliases: string[];
  spec: ConfigSpec;
  create(): Transform;
}

export interface PredicatePlugin {
  id: string;
  aliases: string[];
  spec: ConfigSpec;
  create(): Predicate;
}
