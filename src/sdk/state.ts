import type { SourceOffset, SourcePartition } from './record.js';

export type ConnectorState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING' | 'STOPPED';

/** Persisted connector definition. `targetState` is what the user asked for (RUNNING, PAUSED or STOPPED). */
export interface ConnectorRecord {
  name: string;
  config: Record<string, string>;
  targetState: 'RUNNING' | 'PAUSED' | 'STOPPED';
  createdAt: string;
}

export interface OffsetEntry {
  partition: SourcePartition;
  offset: SourceOffset | null;
}

/**
 * Source offsets, per connector, in Kafka Connect's shape (partition map → offset map).
 * `commit` is durable when it resolves.
 */
export interface OffsetStore {
  get(connector: string, partition: SourcePartition): Promise<SourceOffset | null>;
  list(connector: string): Promise<OffsetEntry[]>;
  /** null offset removes the partition */
  commit(connector: string, entries: OffsetEntry[]): Promise<void>;
  clear(connector: string): Promise<void>;
}

/** Connector configs and target states. Writes are durable when they resolve. */
export interface ConfigStore {
  list(): Promise<ConnectorRecord[]>;
  get(name: string): Promise<ConnectorRecord | null>;
  put(rec: ConnectorRecord): Promise<void>;
  remove(name: string): Promise<void>;
}
