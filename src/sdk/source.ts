import type { ConfigProblem, ConfigSpec, ResolvedConfig } from './config.js';
import type { SourceOffset, SourcePartition, SourceRecord } from './record.js';
import type { Logger } from './logger.js';

/**
 * A source connector: validates its configuration and splits the work into task configs. It does no I/O in
 * `taskConfigs` beyond what is needed to split (e.g. listing tables); connections belong to tasks.
 *
 * Call order: `validate`-via-spec → `start(config, ctx)` → `taskConfigs(maxTasks)` → … → `stop()`.
 */
export interface SourceConnector {
  start(config: ResolvedConfig, ctx: ConnectorContext): Promise<void>;
  /** one entry per task to run; each task receives its map merged over the connector config */
  taskConfigs(maxTasks: number): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
  /** status details to show (e.g. snapshot progress); optional */
  status?(): Record<string, unknown>;
  /** called once when the connector is deleted (e.g. drop a replication slot); optional */
  onDeleted?(): Promise<void>;
}

export interface ConnectorContext {
  name: string;
  logger: Logger;
  /** ask the runtime to recompute task configs (e.g. the table set changed) */
  requestTaskReconfiguration(): void;
}

/**
 * A source task reads records. The runtime calls `poll` in a loop from one async context (never concurrently);
 * `poll` may wait for data but should return (possibly an empty array) within about a second so pause/stop are
 * prompt, and must honour `signal`.
 *
 * Ack contract: after the platform durably acknowledged a record and every record polled before it, the runtime
 * commits the record's `sourceOffset` to the offset store, then calls `commit(offsets)` with the highest committed
 * offset per partition. A task must not advance anything in its source (e.g. a replication slot's flush LSN) past
 * what `commit` reported.
 */
export interface SourceTask {
  start(config: ResolvedConfig, ctx: SourceTaskContext): Promise<void>;
  poll(signal: AbortSignal): Promise<SourceRecord[]>;
  /** offsets durably committed (everything up to them is acknowledged by the platform) */
  commit?(offsets: Array<{ partition: SourcePartition; offset: SourceOffset }>): Promise<void>;
  stop(): Promise<void>;
  /** live status details (lag, snapshot progress); optional */
  status?(): Record<string, unknown>;
}

export interface SourceTaskContext {
  connector: string;
  taskId: number;
  logger: Logger;
  /** last committed offset for a partition, or null */
  offset(partition: SourcePartition): Promise<SourceOffset | null>;
  /** the runtime accepts `RawStruct` record values (see record.ts); absent = false */
  rawStructs?: boolean;
}

export interface SourcePlugin {
  /** canonical id, e.g. `jdbc` */
  id: string;
  /** Kafka Connect class name and other accepted names */
  aliases: string[];
  /** what ksqlDB's SHOW CONNECTORS prints as Class */
  className: string;
  type: 'source';
  spec: ConfigSpec;
  /** the runtime-level default for tasks.max etc. may be overridden here */
  createConnector(): SourceConnector;
  createTask(): SourceTask;
  /**
   * Optional checks with I/O run at CREATE time after the spec validated (e.g. can we connect and log in, does
   * the table exist), so a wrong password or an unreachable host is reported before anything is created.
   */
  check?(config: ResolvedConfig): Promise<ConfigProblem[]>;
  /**
   * Optional: where a worker thread can load this plug-in from (`(await import(url))[exportName]`). With it, the
   * runtime may run each task — polling, transforms and converters — in a thread of its own, the main thread keeping
   * the platform writes, acknowledgements and offset commits; the task then sees only what `SourceTaskContext` gives
   * it (its own module state, no shared objects with the main thread).
   */
  threadModule?: { url: string; exportName: string };
}
